#include "io/spectra/file.hpp"
#include "core/timestamp.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace rung {
namespace {

std::string format_component_number(double v) {
  if (v == std::round(v) && std::abs(v) < 1e9) return fmt::format("{}", static_cast<long long>(std::round(v)));
  return fmt::format("{:.6g}", v);
}

bool valid_component_name(const std::string& c) {
  if (c == "x" || c == "y" || c == "z" || c == "trace") return true;
  return c.rfind("q_", 0) == 0 && c.size() > 2 && c.find('/') == std::string::npos;
}

std::optional<std::array<double, 3>> parse_q(const std::string& s) {
  std::istringstream in(s);
  std::array<double, 3> q{};
  if (!(in >> q[0] >> q[1] >> q[2])) return std::nullopt;
  return q;
}

void check_finite_grid(const std::filesystem::path& path, const std::vector<double>& e) {
  if (e.empty()) fail(fmt::format("{}: spectrum set has an empty energy grid", path.string()));
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (!std::isfinite(e[i])) fail(fmt::format("{}: non-finite energy at point {}", path.string(), i));
    if (i > 0 && !(e[i] > e[i - 1]))
      fail(fmt::format("{}: energy grid not strictly increasing at point {}", path.string(), i));
  }
}

void check_finite(const std::filesystem::path& path, const std::string& what,
                  const std::vector<std::complex<double>>& z, std::size_t n) {
  if (z.size() != n)
    fail(fmt::format("{}: {} has {} values, the energy grid {}", path.string(), what, z.size(), n));
  for (std::size_t i = 0; i < z.size(); ++i)
    if (!std::isfinite(z[i].real()) || !std::isfinite(z[i].imag()))
      fail(fmt::format("{}: {} is not finite at point {}", path.string(), what, i));
}

}  // namespace

std::string q_component_name(const std::array<double, 3>& q) {
  return fmt::format("q_{}_{}_{}", format_component_number(q[0]), format_component_number(q[1]),
                     format_component_number(q[2]));
}

std::string direction_name(const std::array<double, 3>& q) {
  const double scale = std::max({std::abs(q[0]), std::abs(q[1]), std::abs(q[2])});
  if (!std::isfinite(scale) || scale == 0) return q_component_name(q);
  std::array<double, 3> u{};
  for (std::size_t i = 0; i < 3; ++i) u[i] = std::round(q[i] / scale * 1e5) / 1e5 + 0.0;  // + 0.0: no "-0"
  // the sign: the first component of the largest magnitude (after rounding, so that 0.7071068 and -0.7071067
  // tie) is made positive
  const std::size_t lead = std::abs(u[0]) == 1 ? 0 : std::abs(u[1]) == 1 ? 1 : 2;
  if (u[lead] < 0)
    for (double& x : u) x = -x + 0.0;
  for (std::size_t i = 0; i < 3; ++i)
    if (u[(i + 1) % 3] == 0 && u[(i + 2) % 3] == 0) return std::string(1, char('x' + i));
  return q_component_name(u);
}

namespace {
// The vector of a component name: x, y, z or q_<a>_<b>_<c> (rung spectrum --direction a,b,c).
std::optional<std::array<double, 3>> component_vector(const std::string& name) {
  if (name == "x" || name == "y" || name == "z") {
    std::array<double, 3> v{};
    v[std::size_t(name[0] - 'x')] = 1.0;
    return v;
  }
  if (name.rfind("q_", 0) != 0) return std::nullopt;
  std::istringstream in(name.substr(2));
  std::array<double, 3> u{};
  char sep1 = 0, sep2 = 0, rest = 0;
  if (in >> u[0] >> sep1 >> u[1] >> sep2 >> u[2] && sep1 == '_' && sep2 == '_' && !(in >> rest)) return u;
  return std::nullopt;
}
}  // namespace

std::string canonical_component(const std::string& name) {
  const auto v = component_vector(name);
  return v ? direction_name(*v) : name;
}

std::map<std::string, SpectrumComponent>::const_iterator find_component(const SpectrumSet& set,
                                                                        const std::string& name) {
  auto it = set.components.find(name);
  if (it != set.components.end()) return it;
  const std::string want = canonical_component(name);
  for (auto c = set.components.begin(); c != set.components.end(); ++c)
    if (canonical_component(c->first) == want) return c;
  return set.components.end();
}

std::string recorded_component(const Spectrum& s, std::optional<std::array<double, 3>>* q) {
  std::string name = s.meta("component");
  std::optional<std::array<double, 3>> v = component_vector(name);
  if (!v && name.empty() && s.meta("format") == "yambo") {
    const bool written_by_rung = s.meta("version").rfind("rung ", 0) == 0;
    if (const auto u = parse_q(s.meta("q_direction")); u && !(written_by_rung && *u == std::array<double, 3>{1, 0, 0}))
      v = u;
    else if (const auto f = parse_q(s.meta("q_finite_iku")))
      // a finite q (its "@ Q(n)" in iku, not "q->0 direction") holds no optical limit: named apart, so that it is
      // compared with nothing but another finite-q spectrum
      name = "finite_" + q_component_name(*f);
  }
  if (v) name = direction_name(*v);  // one name for a direction, however the file gave it
  if (q) *q = v;
  return name;
}

void write_spectrum_file(const std::filesystem::path& path, const SpectrumSet& set) {
  check_finite_grid(path, set.energy_eV);
  if (set.theory != "ipa" && set.theory != "rpa")
    fail(fmt::format("{}: theory must be \"ipa\" or \"rpa\", not \"{}\"", path.string(), set.theory));
  if (set.components.empty()) fail(fmt::format("{}: spectrum set has no components", path.string()));
  for (const auto& [name, c] : set.components) {
    if (!valid_component_name(name))
      fail(fmt::format("{}: invalid component name '{}' (x, y, z, trace or q_a_b_c)", path.string(), name));
    if (c.spectrum.energy_eV != set.energy_eV)
      fail(fmt::format("{}: component '{}' is not on the set's energy grid", path.string(), name));
    check_finite(path, name + "/eps", c.spectrum.eps, set.energy_eV.size());
    if (c.spectrum.eps_nolf) check_finite(path, name + "/eps_nolf", *c.spectrum.eps_nolf, set.energy_eV.size());
  }

  AtomicOutput out(path);
  {
    auto f = h5::File::create(out.temp_path());
    f.set_attr("/", "format", std::string(spectrum_file_format));
    f.set_attr("/", "format_version", std::int64_t(spectrum_file_format_version));
    f.set_attr("/", "rung_version", std::string(version_string));
    f.set_attr("/", "created", rung::utc_now_iso8601());
    f.set_attr("/", "theory", set.theory);
    f.set_attr("/", "provenance", set.provenance.is_null() ? std::string("{}") : set.provenance.dump());
    f.write("/energy_eV", set.energy_eV);
    for (const auto& [name, c] : set.components) {
      const std::string g = "/" + name;
      f.create_group(g);
      f.write(g + "/eps", c.spectrum.eps);
      if (c.spectrum.eps_nolf) f.write(g + "/eps_nolf", *c.spectrum.eps_nolf);
      // The optical constants of eps (core/optical_constants.hpp), derived data for readers that want them.
      const auto oc = optical_constants(set.energy_eV, c.spectrum.eps);
      f.create_group(g + "/optical");
      for (const auto& info : optical_constant_names()) {
        f.write(g + "/optical/" + info.name, optical_constant(oc, info.name));
        if (*info.unit) f.set_attr(g + "/optical/" + info.name, "unit", std::string(info.unit));
      }
      if (c.q_direction)
        f.set_attr(g, "q_direction",
                   fmt::format("{:.17g} {:.17g} {:.17g}", (*c.q_direction)[0], (*c.q_direction)[1],
                               (*c.q_direction)[2]));
      f.set_attr(g, "description", c.description);
    }
    f.close();  // a write error shows here, before the commit
  }
  out.commit();
}

bool is_spectrum_file(const std::filesystem::path& path) { return h5::has_format(path, spectrum_file_format); }

SpectrumSet read_spectrum_file(const std::filesystem::path& path) {
  require_exists(path);
  auto f = h5::File::open(path);
  f.require_format(spectrum_file_format, spectrum_file_format_version, "rung spectrum file");
  SpectrumSet set;
  set.theory = f.attr_string("/", "theory");
  if (f.has_attr("/", "rung_version")) set.rung_version = f.attr_string("/", "rung_version");
  if (f.has_attr("/", "created")) set.created = f.attr_string("/", "created");
  const std::string prov = f.has_attr("/", "provenance") ? f.attr_string("/", "provenance") : "{}";
  set.provenance = nlohmann::json::parse(prov, nullptr, false);
  if (set.provenance.is_discarded()) fail_input(path, "attribute 'provenance' is not valid JSON");
  h5::Dims dims;
  set.energy_eV = f.read_double("/energy_eV", &dims);
  if (dims.size() != 1) fail_input(path, "/energy_eV is not one-dimensional");
  for (const auto& name : f.list("/")) {
    if (name == "energy_eV") continue;
    if (!valid_component_name(name)) continue;  // unknown groups are tolerated (newer writers)
    SpectrumComponent c;
    c.spectrum.energy_eV = set.energy_eV;
    c.spectrum.eps = f.read_complex("/" + name + "/eps");
    if (c.spectrum.eps.size() != set.energy_eV.size())
      fail_input(path, fmt::format("/{}/eps has {} values, /energy_eV {}", name, c.spectrum.eps.size(),
                                   set.energy_eV.size()));
    if (f.exists("/" + name + "/eps_nolf")) {
      c.spectrum.eps_nolf = f.read_complex("/" + name + "/eps_nolf");
      if (c.spectrum.eps_nolf->size() != set.energy_eV.size())
        fail_input(path, fmt::format("/{}/eps_nolf has {} values, /energy_eV {}", name,
                                     c.spectrum.eps_nolf->size(), set.energy_eV.size()));
    }
    if (f.has_attr("/" + name, "q_direction")) c.q_direction = parse_q(f.attr_string("/" + name, "q_direction"));
    if (f.has_attr("/" + name, "description")) c.description = f.attr_string("/" + name, "description");
    c.spectrum.label = path.string() + ":" + name;
    c.spectrum.metadata["format"] = spectrum_file_format;
    c.spectrum.metadata["component"] = name;
    c.spectrum.metadata["theory"] = set.theory;
    c.spectrum.validate(path.string() + " (component " + name + ")");
    if (c.spectrum.eps_nolf) {
      Spectrum nolf{set.energy_eV, *c.spectrum.eps_nolf, std::nullopt, {}, {}};
      nolf.validate(path.string() + " (component " + name + ", eps_nolf)");
    }
    set.components.emplace(name, std::move(c));
  }
  if (set.components.empty()) fail_input(path, "rung spectrum file has no components");
  return set;
}

TextSpectrumFormat text_spectrum_format(const std::filesystem::path& path) {
  if (looks_like_yambo_output(path)) return TextSpectrumFormat::yambo;
  if (!qe_epsilon_partner(path).empty()) return TextSpectrumFormat::qe_epsilon;
  // turbo_spectrum.x: named *.plot_eps.dat, header "# \hbar \omega(eV) Re(1/eps) -Im(1/eps) Re(eps) Im(eps)"
  // (or omega(Ry): read_turbo_plot_eps converts; other units are refused there).
  std::ifstream f(path, std::ios::binary);
  std::string first;
  std::getline(f, first);
  if (path.filename().string().find("plot_eps") != std::string::npos ||
      (first.find("omega") != std::string::npos && first.find("Im(eps)") != std::string::npos))
    return TextSpectrumFormat::turbo_plot_eps;
  return TextSpectrumFormat::none;
}

Spectrum read_any_spectrum(const std::filesystem::path& path, const std::string& component) {
  require_exists(path);
  if (std::filesystem::is_directory(path)) fail_input(path, "is a directory, not a spectrum file");
  if (h5::has_hdf5_signature(path)) {
    const auto set = read_spectrum_file(path);
    std::string name = component;
    if (name.empty()) {
      if (set.components.count("trace")) name = "trace";
      else if (set.components.size() == 1) name = set.components.begin()->first;
      else {
        std::string have;
        for (const auto& [k, v] : set.components) have += (have.empty() ? "" : ", ") + k;
        fail_input(path, "holds several components (" + have + "); choose one with --component");
      }
    }
    const auto it = find_component(set, name);
    if (it == set.components.end()) {
      std::string have;
      for (const auto& [k, v] : set.components) have += (have.empty() ? "" : ", ") + k;
      fail_input(path, "has no component '" + name + "' (it has " + have + ")");
    }
    return it->second.spectrum;
  }
  const TextSpectrumFormat format = text_spectrum_format(path);
  if (format == TextSpectrumFormat::yambo) {
    auto s = read_yambo_spectrum(path);
    if (!component.empty()) {  // YAMBO files hold one direction
      const std::string have = recorded_component(s);
      if (!have.empty() && component != "trace" && canonical_component(component) != have)
        fail_input(path, fmt::format("holds the {} direction, not component '{}' (a YAMBO o-file holds one direction)",
                                     have, component));
      s.metadata["requested_component"] = component;
    }
    return s;
  }
  if (format == TextSpectrumFormat::qe_epsilon) return read_qe_epsilon(path, component);
  if (format == TextSpectrumFormat::turbo_plot_eps) return read_turbo_plot_eps(path);
  fail_input(path, "unknown spectrum format (expected a rung HDF5 spectrum file, a YAMBO o-*.eps_*/eel_* file, "
                   "QE epsilon.x epsr_/epsi_*.dat or turbo_spectrum.x *.plot_eps.dat)");
}

std::string spectrum_component(const Spectrum& s) {
  const std::string name = recorded_component(s);
  return name.empty() ? "direction" : name;
}

void require_same_component(const Spectrum& a, const std::filesystem::path& pa, const Spectrum& b,
                            const std::filesystem::path& pb, bool direction_as_trace) {
  const std::string ca = spectrum_component(a), cb = spectrum_component(b);
  if (ca == cb) return;
  if (ca == "trace" || cb == "trace") {
    if (direction_as_trace) return;
    const bool a_is_trace = ca == "trace";
    const auto& direction_file = a_is_trace ? pb : pa;
    const auto& trace_file = a_is_trace ? pa : pb;
    const std::string& direction = a_is_trace ? cb : ca;
    const std::string& requested = (a_is_trace ? b : a).meta("requested_component");
    fail_input(direction_file,
               fmt::format("holds one direction ({}){} while {} holds the trace (mean of xx, yy, zz): they differ "
                           "unless the crystal is cubic. Compare with a trace (all three directions), or pass "
                           "--direction-as-trace if the crystal is cubic",
                           direction, requested == "trace" ? ", not the requested trace," : "", trace_file.string()));
  }
  if (ca == "direction" || cb == "direction") return;  // a direction the file does not name: nothing to check
  fail_input(pb, fmt::format("holds component {} while {} holds {}: compare the same direction (--component)", cb,
                             pa.string(), ca));
}

SpectrumComparison compare_spectrum_files(const std::filesystem::path& pa, const std::filesystem::path& pb,
                                          const std::string& component, const std::string& column,
                                          bool direction_as_trace) {
  if (column != "im" && column != "re") fail_usage("column must be 'im' or 're', not '" + column + "'");
  const Spectrum a = read_any_spectrum(pa, component);
  const Spectrum b = read_any_spectrum(pb, component);
  require_same_component(a, pa, b, pb, direction_as_trace);
  // YAMBO's o-*.eel_* (the loss function) and o-*.alpha_* files hold another quantity than eps in the same
  // columns: compared with an eps, their SC would look like a number and mean nothing
  const auto observable = [](const Spectrum& s) {
    const std::string o = s.meta("observable");
    return o.empty() ? std::string("eps") : o;
  };
  if (observable(a) != observable(b))
    fail_input(pb, fmt::format("holds '{}' while {} holds '{}': compare like with like (eps with eps)", observable(b),
                               pa.string(), observable(a)));
  SpectrumComparison r;
  r.lo_eV = std::max(a.energy_eV.front(), b.energy_eV.front());
  r.hi_eV = std::min(a.energy_eV.back(), b.energy_eV.back());
  for (double w : b.energy_eV)
    if (w >= r.lo_eV - 1e-12 && w <= r.hi_eV + 1e-12) ++r.n_points;
  if (r.n_points < 2)
    fail_input(pb, fmt::format("shares no energy range with {} ({:g}..{:g} eV vs {:g}..{:g} eV)", pa.string(),
                               a.energy_eV.front(), a.energy_eV.back(), b.energy_eV.front(), b.energy_eV.back()));
  const auto pick = [&](const Spectrum& s) { return column == "re" ? s.real() : s.imag(); };
  r.distance = compare_on_common_grid(a.energy_eV, pick(a), b.energy_eV, pick(b));
  r.format_a = a.meta("format").empty() ? "?" : a.meta("format");
  r.format_b = b.meta("format").empty() ? "?" : b.meta("format");
  return r;
}

}  // namespace rung
