#include "select/validation.hpp"

#include "core/error.hpp"
#include "core/paper.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>
#include <sstream>
#include <utility>

namespace rung::select {

nlohmann::json Summary::to_json() const {
  return {{"n", n}, {"min", min}, {"q1", q1}, {"median", median}, {"q3", q3}, {"max", max}, {"mean", mean}};
}

Summary summarize(std::vector<double> v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  s.min = *lo;
  s.max = *hi;
  s.q1 = quantile(v, 0.25);
  s.median = quantile(v, 0.5);
  s.q3 = quantile(v, 0.75);
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  return s;
}

Spectrum read_prediction_spectrum(const std::filesystem::path& path, const std::string& id) {
  auto f = h5::File::open(path);
  f.require_format("rung-prediction", 1, "rung prediction file");
  if (!f.exists("/eps_imag"))
    fail_input(path, "holds no predicted spectra (an SC prediction: `rung predict --target ipa|rpa` writes spectra)");
  const auto ids = f.read_strings("/ids");
  h5::Dims dims;
  const auto values = f.read_double("/eps_imag", &dims);
  const auto energy = f.read_double("/energy_eV");
  if (dims.size() != 2 || dims[0] != ids.size() || dims[1] != energy.size())
    fail_input(path, "/eps_imag does not match /ids and /energy_eV");
  std::size_t row = ids.size();
  if (ids.size() == 1) row = 0;
  for (std::size_t i = 0; i < ids.size() && row == ids.size(); ++i)
    if (ids[i] == id) row = i;
  // two structures of one id (a CIF's id is its data_ block name, the same for polymorphs written as data_Si): the
  // computed file cannot say which prediction it belongs to
  if (ids.size() > 1 && row < ids.size() && std::count(ids.begin(), ids.end(), ids[row]) > 1)
    fail_input(path, fmt::format("holds {} predictions with the id '{}': which one the computed spectrum belongs to is "
                                 "ambiguous (predict the structures under distinct ids, e.g. one file each)",
                                 std::count(ids.begin(), ids.end(), ids[row]), ids[row]));
  if (row == ids.size()) {
    std::string have;
    for (std::size_t i = 0; i < ids.size() && i < 8; ++i) have += (have.empty() ? "" : ", ") + ids[i];
    if (ids.size() > 8) have += ", ...";
    fail_input(path, id.empty() ? fmt::format("holds {} predictions ({}); name the computed file after the id", ids.size(), have)
                                : fmt::format("has no prediction with the id '{}' (it has {})", id, have));
  }
  Spectrum s;
  s.energy_eV = energy;
  s.eps.resize(energy.size());
  for (std::size_t k = 0; k < energy.size(); ++k) s.eps[k] = {0.0, values[row * energy.size() + k]};
  s.label = path.string() + ":" + ids[row];
  s.metadata["format"] = "rung-prediction";
  s.metadata["component"] = paper::component;  // rung predicts the trace of Im eps (mean of xx, yy, zz)
  s.metadata["id"] = ids[row];
  if (f.has_attr("/", "target")) s.metadata["theory"] = f.attr_string("/", "target");
  s.validate(path.string() + " (" + ids[row] + ")");
  return s;
}

ValidationEntry validate_pair(const std::filesystem::path& predicted, const std::filesystem::path& computed,
                              const ValidateOptions& options, std::string name) {
  const auto read = [&](const std::filesystem::path& file, const std::filesystem::path& other) {
    if (h5::has_format(file, "rung-prediction")) {
      if (!options.component.empty() && options.component != "trace")
        fail_input(file, "is a rung prediction: it holds the trace only, not component '" + options.component + "'");
      return read_prediction_spectrum(file, other.stem().string());
    }
    return read_any_spectrum(file, options.component);
  };
  const Spectrum p = read(predicted, computed);
  const Spectrum c = read(computed, predicted);
  require_same_component(p, predicted, c, computed, options.direction_as_trace);
  const std::string pc = spectrum_component(p), cc = spectrum_component(c);
  const double lo = std::max(p.energy_eV.front(), c.energy_eV.front());
  const double hi = std::min(p.energy_eV.back(), c.energy_eV.back());
  ValidationEntry e;
  e.name = name.empty() ? computed.stem().string() : std::move(name);
  e.predicted_path = predicted.string();
  e.computed_path = computed.string();
  e.predicted_component = pc;
  e.computed_component = cc;
  const auto ci = c.imag();
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c.energy_eV[i] >= lo - 1e-12 && c.energy_eV[i] <= hi + 1e-12) {
      e.energy_eV.push_back(c.energy_eV[i]);
      e.computed.push_back(ci[i]);
    }
  if (e.energy_eV.size() < 2)
    fail_input(computed, fmt::format("shares no energy range with {} ({:g}..{:g} eV vs {:g}..{:g} eV)",
                                     predicted.string(), p.energy_eV.front(), p.energy_eV.back(),
                                     c.energy_eV.front(), c.energy_eV.back()));
  // (the end values beyond the predicted grid's ends: a computed point may lie a rounding past them)
  e.predicted = interpolate_linear(p.energy_eV, p.imag(), e.energy_eV, true);
  const auto theory = [](const Spectrum& x) {
    const auto it = x.metadata.find("theory");
    return it == x.metadata.end() ? std::string() : it->second;
  };
  e.predicted_theory = theory(p);
  e.computed_theory = theory(c);
  e.distance = spectral_distance(e.energy_eV, e.predicted, e.computed);
  return e;
}

ValidationReport make_report(std::vector<ValidationEntry> entries) {
  ValidationReport r;
  r.entries = std::move(entries);
  std::vector<double> sc, mse, mae;
  for (const auto& e : r.entries) {
    sc.push_back(e.distance.sc);
    mse.push_back(e.distance.mse);
    mae.push_back(e.distance.mae);
  }
  r.sc = summarize(sc);
  r.mse = summarize(mse);
  r.mae = summarize(mae);
  return r;
}

nlohmann::json ValidationReport::to_json() const {
  nlohmann::json j;
  auto& m = j["materials"] = nlohmann::json::array();
  for (const auto& e : entries)
    m.push_back({{"name", e.name},
                 {"predicted", e.predicted_path},
                 {"computed", e.computed_path},
                 {"predicted_component", e.predicted_component},
                 {"computed_component", e.computed_component},
                 {"sc", e.distance.sc},
                 {"mse", e.distance.mse},
                 {"mae", e.distance.mae},
                 {"predicted_theory", e.predicted_theory},
                 {"computed_theory", e.computed_theory},
                 {"n_points", e.energy_eV.size()},
                 {"range_eV", {e.energy_eV.front(), e.energy_eV.back()}}});
  j["aggregate"] = {{"sc", sc.to_json()}, {"mse", mse.to_json()}, {"mae", mae.to_json()}};
  return j;
}

std::string ValidationReport::to_text() const {
  std::size_t w = 8;
  for (const auto& e : entries) w = std::max(w, e.name.size());
  std::string s = fmt::format("{:<{}}  {:>9}  {:>11}  {:>11}  {:>13}  {}\n", "material", w, "SC", "MSE", "MAE",
                              "range (eV)", "theory (predicted / computed)");
  for (const auto& e : entries) {
    const auto name = [](const std::string& t) {
      return t.empty() ? std::string("?") : t;
    };
    std::string theory = name(e.predicted_theory) + " / " + name(e.computed_theory);
    if (!e.predicted_theory.empty() && !e.computed_theory.empty() && e.predicted_theory != e.computed_theory)
      theory += " (different theories)";
    s += fmt::format("{:<{}}  {:>9.5f}  {:>11.5g}  {:>11.5g}  {:>6.2f}-{:<6.2f}  {}\n", e.name, w, e.distance.sc,
                     e.distance.mse, e.distance.mae, e.energy_eV.front(), e.energy_eV.back(), theory);
  }
  if (entries.size() > 1) {
    s += fmt::format("\n{} materials           min        Q1    median        Q3       max\n", entries.size());
    for (const auto& [name, q] : {std::pair{"SC ", sc}, {"MSE", mse}, {"MAE", mae}})
      s += fmt::format("{}          {:>12.5g}{:>10.5g}{:>10.5g}{:>10.5g}{:>10.5g}\n", name, q.min, q.q1, q.median,
                       q.q3, q.max);
  }
  return s;
}

}  // namespace rung::select
