#include "response/spectrum_request.hpp"

#include "core/error.hpp"

#include <cmath>
#include <fmt/format.h>
#include <set>
#include <type_traits>

namespace rung::response {

namespace {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

[[noreturn]] void wrong_type(const char* key, const char* want, const nlohmann::json& v) {
  fail_usage(fmt::format("option \"{}\" must be {}, not {}", key, want, v.dump()));
}

void read(const char* key, const nlohmann::json& v, std::string& out) {
  if (v.is_string()) out = v.get<std::string>();
  else if (v.is_number_integer()) out = std::to_string(v.get<long long>());  // a block given as a count
  else if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer())
    out = fmt::format("{}:{}", v[0].get<long long>(), v[1].get<long long>());  // bands as [first, last]
  else wrong_type(key, "a string", v);
}
void read(const char* key, const nlohmann::json& v, double& out) {
  if (!v.is_number()) wrong_type(key, "a number", v);
  out = v.get<double>();
}
void read(const char* key, const nlohmann::json& v, std::size_t& out) {
  if (!v.is_number_integer() || v.get<long long>() < 0) wrong_type(key, "a non-negative integer", v);
  out = v.get<std::size_t>();
}
void read(const char* key, const nlohmann::json& v, bool& out) {
  if (!v.is_boolean()) wrong_type(key, "true or false", v);
  out = v.get<bool>();
}
void read(const char* key, const nlohmann::json& v, std::optional<bool>& out) {
  bool b = false;
  read(key, v, b);
  out = b;
}
void read(const char* key, const nlohmann::json& v, std::vector<std::string>& out) {
  out.clear();
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return;
  }
  if (!v.is_array()) wrong_type(key, "a list of directions", v);
  // a single Cartesian vector [a, b, c] is one direction
  if (v.size() == 3 && v[0].is_number() && v[1].is_number() && v[2].is_number()) {
    out.push_back(fmt::format("{},{},{}", v[0].get<double>(), v[1].get<double>(), v[2].get<double>()));
    return;
  }
  for (const auto& e : v) {
    if (!e.is_string()) wrong_type(key, "a list of strings (x, y, z, trace or \"a,b,c\")", v);
    out.push_back(e.get<std::string>());
  }
}

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
  if (options.is_null()) return {};
  if (!options.is_object()) fail_usage("spectrum options must be a JSON object, not " + options.dump());
  SpectrumRequest r;
  std::set<std::string> known;
  visit(r, [&](const char* key, const char*, const char*, auto& field) {
    known.insert(key);
    if (options.contains(key)) read(key, options.at(key), field);
  });
  for (const auto& [k, v] : options.items())
    if (!known.count(k)) fail_usage("unknown spectrum option \"" + k + "\" (known: " + fmt::format("{}", fmt::join(keys(), ", ")) + ")");
  return r;
}

nlohmann::json SpectrumRequest::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  visit(*this, [&](const char* key, const char*, const char*, const auto& field) {
    using T = std::decay_t<decltype(field)>;
    if constexpr (is_optional<T>::value) {
      if (field) j[key] = *field;
    } else {
      j[key] = field;
    }
  });
  return j;
}

std::vector<std::string> SpectrumRequest::keys() {
  std::vector<std::string> k;
  SpectrumRequest r;
  visit(r, [&](const char* key, const char*, const char*, auto&) { k.push_back(key); });
  return k;
}

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
  o.drude.temperature_K = drude_temperature_K;
  for (const auto& d : directions) o.directions.push_back(keyed("directions", [&] { return parse_field_direction(d); }));
  o.include_vnl = include_vnl;
  o.method = keyed("method", [&] { return parse_method(method); });
  if (!(points_per_eta >= 4)) fail_usage(fmt::format("points_per_eta (--points-per-eta) must be at least 4, not {}", points_per_eta));
  o.spectral.points_per_eta = points_per_eta;
  o.converge.enabled = converge.value_or(o.theory == Theory::rpa && !o.gblock);
  o.converge.sc_threshold = converge_sc;
  if (o.converge.enabled && !(converge_sc > 0 && converge_sc < 1))
    fail_usage(fmt::format("converge_sc (--converge-sc) must lie in (0, 1), not {}", converge_sc));
  if (!converge_start.empty()) o.converge.start = keyed("converge_start", [&] { return GBlockRequest::parse(converge_start); });
  if (!max_block.empty()) o.converge.max_block = keyed("max_block", [&] { return GBlockRequest::parse(max_block); });
  o.show_progress = progress;
  return o;
}

}  // namespace rung::response
