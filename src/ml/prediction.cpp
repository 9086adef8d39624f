#include "ml/prediction.hpp"

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <fmt/format.h>

namespace rung::ml {

nlohmann::json Prediction::to_json(bool with_spectra) const {
  nlohmann::json j{{"sc_ipa_rpa", sc}, {"sc_spread", sc_spread}};
  if (!warnings.empty()) j["warnings"] = warnings;
  if (with_spectra) {
    j["energy_eV"] = energy_eV;
    j["ipa_im_eps"] = ipa;
    j["rpa_im_eps"] = rpa;
    if (!ipa_spread.empty()) j["ipa_spread"] = ipa_spread;
    if (!rpa_spread.empty()) j["rpa_spread"] = rpa_spread;
  }
  return j;
}

nlohmann::json ModelSetInfo::to_json() const {
  nlohmann::json j{{"path", path}, {"version", version}, {"kind", kind}, {"untrained", untrained},
                   {"ensemble_size", ensemble_size}};
  if (!metadata.is_null()) j["metadata"] = metadata;
  return j;
}

std::string ModelSetInfo::identity() const {
  nlohmann::json m = metadata;
  if (m.is_object())
    for (auto& [k, v] : m.items())
      if (v.is_object()) v.erase("file");
  const std::string text = kind + "|" + m.dump();
  return fmt::format("{:016x}", fnv1a(text, fnv1a_short_basis));
}

double sc_ipa_rpa(const std::vector<double>& energy_eV, const std::vector<double>& ipa,
                  const std::vector<double>& rpa) {
  if (energy_eV.size() < 2 || ipa.size() != energy_eV.size() || rpa.size() != energy_eV.size())
    fail("predicted spectra have inconsistent lengths");
  return similarity_coefficient(energy_eV, rpa, ipa);
}

}  // namespace rung::ml
