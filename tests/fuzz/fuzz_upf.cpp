// libFuzzer target: UPF v1/v2 parser (rung::upf::Pseudopotential::parse), header-only and full.
#include "core/error.hpp"
#include "io/qe/upf.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool header_only : {true, false}) {
    try {
      (void)rung::upf::Pseudopotential::parse(text, "fuzz.UPF", header_only);
    } catch (const rung::Error&) {
      // expected for malformed input
    }
  }
  return 0;
}
