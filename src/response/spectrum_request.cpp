#include "response/spectrum_request.hpp"

#include "core/error.hpp"
#include "core/request_json.hpp"
#include "response/spectrum_driver.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>
#include <type_traits>

namespace rung::response {

namespace {

// "a:b" (1-based, inclusive) -> 0-based pair; fail_usage naming the key.
std::pair<int, int> parse_band_window(const std::string& s) {
  const auto colon = s.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t p1 = 0, p2 = 0;
    const int a = std::stoi(s.substr(0, colon), &p1), b = std::stoi(s.substr(colon + 1), &p2);
    if (p1 != colon || p2 != s.size() - colon - 1 || a < 1 || b < a) throw std::invalid_argument("range");
    return {a - 1, b - 1};
  } catch (const std::exception&) {
    fail_usage("bands (--bands) must be a:b (1-based, inclusive, a <= b), e.g. 1:16; got '" + s + "'");
  }
}

// A parse function's usage error, prefixed with the key it came from.
template <class F>
auto keyed(const char* key, F&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::usage) throw;
    fail_usage(fmt::format("option \"{}\": {}", key, e.what()));
  }
}

}  // namespace

SpectrumRequest SpectrumRequest::from_json(const nlohmann::json& options) {
  return request_json::from_json<SpectrumRequest>(options, "spectrum");
}

nlohmann::json SpectrumRequest::to_json() const { return request_json::to_json(*this); }

std::vector<std::string> SpectrumRequest::keys() { return request_json::keys<SpectrumRequest>(); }

SpectrumOptions SpectrumRequest::to_options(const std::filesystem::path& input) const {
  SpectrumOptions o;
  o.input = input;
  o.theory = keyed("theory", [&] { return parse_theory(theory); });
  if (!bands.empty()) std::tie(o.band_first, o.band_last) = parse_band_window(bands);
  if (!block.empty()) o.gblock = keyed("block", [&] { return GBlockRequest::parse(block); });
  if (!(std::isfinite(emin_eV) && std::isfinite(emax_eV) && emax_eV > emin_eV && emin_eV >= 0))
    fail_usage(fmt::format("emin_eV (--emin) and emax_eV (--emax) must satisfy 0 <= emin_eV < emax_eV; got {} and {}",
                           emin_eV, emax_eV));
  if (steps < 2) fail_usage(fmt::format("steps (--steps) must be at least 2, not {}", steps));
  o.grid = EnergyGrid{emin_eV, emax_eV, steps};
  if (!(broadening_eV > 0) || !std::isfinite(broadening_eV))
    fail_usage(fmt::format("broadening_eV (--eta) must be positive, not {}", broadening_eV));
  o.eta_eV = broadening_eV;
  o.broadening = keyed("broadening", [&] { return parse_broadening(broadening); });
  if (!ordering.empty()) o.ordering = keyed("ordering", [&] { return parse_ordering(ordering); });
  o.occupations.source = keyed("occupations", [&] { return parse_occupation_source(occupations); });
  if (!(temperature_K >= 0) || !std::isfinite(temperature_K))
    fail_usage(fmt::format("temperature_K (--temperature) must be >= 0, not {}", temperature_K));
  o.occupations.temperature_K = temperature_K;
  if (!drude.empty()) o.drude = keyed("drude", [&] { return parse_drude(drude); });
  if (!(drude_temperature_K >= 0) || !std::isfinite(drude_temperature_K))
    fail_usage(fmt::format("drude_temperature_K (--drude-temperature) must be >= 0, not {}", drude_temperature_K));
  o.drude.temperature_K = drude_temperature_K;
  for (const auto& d : directions) o.directions.push_back(keyed("directions", [&] { return parse_field_direction(d); }));
  o.include_vnl = include_vnl;
  o.method = keyed("method", [&] { return parse_method(method); });
  if (!(points_per_eta >= 4)) fail_usage(fmt::format("points_per_eta (--points-per-eta) must be at least 4, not {}", points_per_eta));
  o.spectral.points_per_eta = points_per_eta;
  if (solver_step_eV && *solver_step_eV != 0) {
    const double h = *solver_step_eV;
    // a third of the peaks' half width: eta for the Lorentzian (and more than that for the Gaussian), eta / 2 for
    // the oscillator formula -2E/(E^2 - w^2 - i eta w), whose eta is a full width
    const double half_width = o.broadening == BroadeningShape::oscillator ? broadening_eV / 2 : broadening_eV;
    if (!(h > 0) || !(h <= half_width / 3 * (1 + 1e-9)))
      fail_usage(fmt::format("solver_step_eV (--solver-step) must lie in (0, half width/3 = {:g}] eV, not {:g}",
                             half_width / 3, h));
    o.frequency_stride = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(h / o.grid.step_eV() + 1e-9)));
    if (o.grid.subgrid(o.frequency_stride).steps < 4) o.frequency_stride = 1;  // too few points to interpolate
  }
  o.converge.enabled = converge.value_or(o.theory == Theory::rpa && !o.gblock);
  o.converge.sc_threshold = converge_sc;
  if (o.converge.enabled && !(converge_sc > 0 && converge_sc < 1))
    fail_usage(fmt::format("converge_sc (--converge-sc) must lie in (0, 1), not {}", converge_sc));
  if (!converge_start.empty()) o.converge.start = keyed("converge_start", [&] { return GBlockRequest::parse(converge_start); });
  if (!max_block.empty()) o.converge.max_block = keyed("max_block", [&] { return GBlockRequest::parse(max_block); });
  o.show_progress = progress;
  return o;
}

SpectrumSet compute_spectrum(const SpectrumRequest& request, const std::filesystem::path& input, const Comm& comm,
                             const std::string& command_line) {
  auto o = request.to_options(input);
  o.command_line = command_line;
  auto set = compute_spectrum(o, comm).set;
  set.provenance["request"] = request.to_json();
  return set;
}

}  // namespace rung::response
