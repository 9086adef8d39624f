// libFuzzer target: QE wfcN.dat reader (rung::qe::detail::parse_wfc). The first byte of the input picks
// whether the XML-side expectations (ik, nbnd, npw, FFT grid of the si_tiny seed) are checked too.
#include "core/error.hpp"
#include "io/qe/detail.hpp"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rung::qe::detail::WfcExpect ex;
  if (size > 0 && (data[0] & 1)) {
    ex.ik = 0;
    ex.nbnd = 8;
    ex.fft_grid = {16, 16, 16};
  }
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto w = rung::qe::detail::parse_wfc(in, size, "fuzz.dat", ex);
    (void)w.coefficients.norm();
  } catch (const rung::Error&) {
    // expected for malformed input
  }
  return 0;
}
