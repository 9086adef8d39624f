// libFuzzer target: QE data-file-schema.xml parser (rung::qe::detail::parse_schema) and what rung info
// computes from it (gaps, Brillouin-zone unfolding). Bad input must end in rung::Error, nothing else.
#include "core/brillouin_zone.hpp"
#include "core/error.hpp"
#include "io/qe/detail.hpp"
#include "io/qe/summary.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto s = rung::qe::detail::parse_schema(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.xml");
    (void)rung::qe::ks_gaps(s);
    (void)s.is_insulator();
    (void)s.occupied_bands();
    if (s.nk() * s.symmetries.size() <= 20000) {
      const auto full = rung::bz::unfold(rung::qe::k_crystal(s), rung::qe::k_rotations(s), s.time_reversal);
      std::vector<Eigen::Vector3d> pts;
      for (const auto& p : full) pts.push_back(p.k);
      (void)rung::bz::detect_mp_grid(pts);
    }
  } catch (const rung::Error&) {
    // expected for malformed input
  }
  return 0;
}
