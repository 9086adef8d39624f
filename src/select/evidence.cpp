#include "select/evidence.hpp"

#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/metrics.hpp"
#include "core/paper.hpp"
#include "core/units.hpp"
#include "core/share_path.hpp"
#include "io/qe/save.hpp"
#include "select/cost_model.hpp"
#include "select/native_spectrum.hpp"
#include "select/predictor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <limits>

namespace rung::select {

double ProbeCorrection::predict(double sc_probe, double sc_second) const {
  return std::min(1.0, 1.0 - (alpha + beta * (1.0 - sc_probe) + gamma * (sc_second - sc_probe)));
}

double conformal_half_width(std::vector<double> residuals, double coverage) {
  if (!(coverage > 0 && coverage < 1)) fail_usage(fmt::format("the coverage must lie in (0, 1), not {}", coverage));
  const std::size_t n = residuals.size();
  // (less a hair: an (n + 1) c that is an integer in exact arithmetic may come out just above it, 75 x 0.68 as
  // 51.00000000000001, whose ceil would take one residual too many)
  const auto rank = static_cast<std::size_t>(std::ceil((double(n) + 1.0) * coverage - 1e-9));
  if (rank == 0 || rank > n) return std::numeric_limits<double>::infinity();
  for (double& r : residuals) r = std::abs(r);
  std::nth_element(residuals.begin(), residuals.begin() + std::ptrdiff_t(rank - 1), residuals.end());
  return residuals[rank - 1];
}

nlohmann::json Calibration::to_json() const {
  // version 2 adds the movement term; a correction without one is written as version 1 (older rungs read it)
  const bool movement = probe && probe->second_g > 0;
  nlohmann::json j{{"format", "rung-calibration"}, {"format_version", movement ? 2 : 1}, {"report", report}};
  if (probe) {
    j["probe"] = {{"probe_g", probe->probe_g}, {"alpha", probe->alpha},          {"beta", probe->beta},
                  {"half_width", probe->half_width}, {"coverage", probe->coverage},
                  {"n_fit", probe->n_fit},     {"n_calibration", probe->n_calibration},
                  {"form", "1 - SC = alpha + beta (1 - SC_probe)"}};
    if (movement) {
      j["probe"]["second_g"] = probe->second_g;
      j["probe"]["gamma"] = probe->gamma;
      j["probe"]["form"] = "1 - SC = alpha + beta (1 - SC_probe) + gamma (SC_second - SC_probe), SC <= 1";
    }
  }
  if (model) {
    j["model"] = {{"model_identity", model->model_identity},
                  {"half_width", model->half_width},
                  {"coverage", model->coverage},
                  {"n_calibration", model->n_calibration},
                  {"method", model->method()}};
    if (model->folds > 0)
      j["model"]["n_cross_validation"] = model->n_cross_validation, j["model"]["folds"] = model->folds;
  }
  return j;
}

std::string ModelInterval::method() const {
  if (folds == 0) return fmt::format("split conformal on {} validation materials", n_calibration);
  return fmt::format(
      "split conformal on {} validation materials and {} training materials predicted by {} "
      "cross-validation folds",
      n_calibration, n_cross_validation, folds);
}

namespace {

double number(const nlohmann::json& j, const char* key, const std::string& source, double lo, double hi) {
  if (!j.contains(key) || !j.at(key).is_number()) fail_input(source, fmt::format("\"{}\" is missing or not a number", key));
  const double v = j.at(key).get<double>();
  if (!(v >= lo && v <= hi)) fail_input(source, fmt::format("\"{}\" = {} lies outside [{}, {}]", key, v, lo, hi));
  return v;
}

}  // namespace

Calibration Calibration::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || j.value("format", "") != "rung-calibration")
    fail_input(source, "is not a rung calibration file (format \"rung-calibration\" missing)");
  if (j.value("format_version", 0) > 2) fail_input(source, "was written by a newer rung (format_version > 2)");
  Calibration c;
  c.report = j.value("report", nlohmann::json::object());
  if (j.contains("probe")) {
    const auto& p = j.at("probe");
    ProbeCorrection pc;
    pc.probe_g = static_cast<std::size_t>(number(p, "probe_g", source, 1, 1e6));
    pc.alpha = number(p, "alpha", source, 0, 1);
    pc.beta = number(p, "beta", source, 0, 10);
    pc.half_width = number(p, "half_width", source, 0, 1);
    pc.coverage = number(p, "coverage", source, 0, 1);
    pc.n_fit = static_cast<std::size_t>(number(p, "n_fit", source, 0, 1e9));
    pc.n_calibration = static_cast<std::size_t>(number(p, "n_calibration", source, 0, 1e9));
    if (p.contains("second_g")) {  // format_version 2: the movement from the sub-block
      pc.second_g = static_cast<std::size_t>(number(p, "second_g", source, 1, double(pc.probe_g) - 1));
      pc.gamma = number(p, "gamma", source, -1, 1);
    }
    c.probe = pc;
  }
  if (j.contains("model")) {
    const auto& m = j.at("model");
    ModelInterval mi;
    if (!m.contains("model_identity") || !m.at("model_identity").is_string())
      fail_input(source, "\"model\".\"model_identity\" is missing");
    mi.model_identity = m.at("model_identity").get<std::string>();
    mi.half_width = number(m, "half_width", source, 0, 1);
    mi.coverage = number(m, "coverage", source, 0, 1);
    mi.n_calibration = static_cast<std::size_t>(number(m, "n_calibration", source, 0, 1e9));
    if (m.contains("folds")) {  // cross-validated (older files have validation residuals only)
      mi.folds = static_cast<std::size_t>(number(m, "folds", source, 2, 1e6));
      mi.n_cross_validation = static_cast<std::size_t>(number(m, "n_cross_validation", source, 1, 1e9));
    }
    c.model = mi;
  }
  return c;
}

Calibration Calibration::load(const std::filesystem::path& file) {
  auto c = from_json(read_json_file(file), file.string());
  c.path = file;
  return c;
}

std::optional<Calibration> Calibration::load_default() {
  const auto file = share_dir() / "models" / "calibration.json";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  return load(file);
}

nlohmann::json Evidence::to_json() const {
  return {{"source", source}, {"sc_ipa_rpa", sc}, {"interval", {lower, upper}}, {"coverage", coverage},
          {"details", details}};
}

namespace {

std::vector<double> imag_trace(const SpectrumSet& set, bool local_fields) {
  std::vector<double> t(set.energy_eV.size(), 0.0);
  for (const char* d : {"x", "y", "z"}) {
    const auto& c = set.components.at(d).spectrum;
    if (!local_fields && !c.eps_nolf) fail("the probe's RPA run returned no spectrum without local fields");
    const auto& e = local_fields ? c.eps : *c.eps_nolf;
    for (std::size_t i = 0; i < t.size(); ++i) t[i] += e[i].imag() / 3.0;
  }
  return t;
}

}  // namespace

bool only_occupied_bands(const qe::Save& s) {
  // (occupied_bands counts spinor bands for a noncollinear run; lsda has one count per channel)
  return !s.lsda && s.is_insulator() && s.nbnd <= s.occupied_bands();
}

std::string nscf_advice(const qe::Save& s) {
  // the data set's median density of empty bands up to VBM + 20 eV (cost_model.hpp) gives a starting nbnd
  const int nbnd = s.nbnd + int(std::ceil(SizeOptions{}.conduction_per_bohr3 * s.structure.volume()));
  return fmt::format("run pw.x again on it with calculation = 'nscf' and nbnd large enough to reach 20 eV above "
                     "the valence-band top (about nbnd = {} for this cell; rung's data set uses the bands up to "
                     "VBM + 20 eV)", nbnd);
}

std::optional<double> band_window_eV(const qe::Save& s) {
  if (s.nbnd < 1 || s.eigenvalues.rows() < 1) return std::nullopt;
  double reference = 0;
  const int nocc = s.is_insulator() && !s.lsda ? s.occupied_bands() : 0;
  if (nocc > 0 && nocc < s.nbnd) reference = s.band_edges(0, nocc).vbm;
  else if (s.fermi_energy) reference = *s.fermi_energy;
  else return std::nullopt;
  double top = std::numeric_limits<double>::infinity();
  for (int spin = 0; spin < (s.lsda ? 2 : 1); ++spin)
    for (Eigen::Index k = 0; k < s.eigenvalues.rows(); ++k)
      top = std::min(top, s.eigenvalues(k, spin * s.nbnd + s.nbnd - 1));
  return units::Ha_to_eV(top - reference);
}

std::string band_window_warning(const qe::Save& s) {
  const auto window = band_window_eV(s);
  if (!window || *window >= paper::emax_eV) return {};
  return fmt::format(
      "the highest of the save's {} bands lies only {:.1f} eV above the {} at some k-point: "
      "transitions above that are missing from the {:g}-{:g} eV spectra and their SC(IPA, RPA); for the "
      "whole window {}",
      s.nbnd, *window, s.is_insulator() && !s.lsda ? "valence-band top" : "Fermi level", paper::emin_eV, paper::emax_eV,
      nscf_advice(s));
}

Evidence probe_evidence(const qe::Save& save, const ProbeCorrection& correction, const Comm& comm) {
  if (only_occupied_bands(save))
    fail_input(save.dir.string(), fmt::format("holds only the {} occupied bands: the RPA probe needs empty ones; {}",
                                              save.nbnd, nscf_advice(save)));
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  response::SpectrumRequest probe;
  probe.theory = "rpa";
  probe.block = std::to_string(correction.probe_g);
  probe.converge = false;
  probe.directions = {"x", "y", "z"};
  std::vector<std::size_t> sub_blocks;
  if (correction.second_g > 0) sub_blocks.push_back(correction.second_g);
  const auto set = compute_native_spectrum(save, probe, comm, sub_blocks);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
  const auto ipa = imag_trace(set, false), rpa = imag_trace(set, true);
  const double sc_probe = similarity_coefficient(set.energy_eV, rpa, ipa);
  if (!std::isfinite(sc_probe)) fail_input(save.dir.string(), "the probe's IPA spectrum is zero: no optical transitions in 0-20 eV");

  const auto& par = set.provenance.value("parameters", nlohmann::json::object());
  // SC at the sub-block (the first shell of at least second_g G below the probe block); a sub-block that is
  // the probe block itself moves nothing, as the calibration's fit assumes
  double sc_second = sc_probe;
  std::size_t second_n_g = par.value("n_g", std::size_t{0});
  if (correction.second_g > 0)
    for (const auto& q : set.provenance.value("sub_block_probes", nlohmann::json::array()))
      if (q.value("n_g", std::size_t{0}) >= correction.second_g) {
        sc_second = q.at("sc_ipa_rpa").get<double>();
        second_n_g = q.at("n_g").get<std::size_t>();
        break;
      }

  Evidence e;
  e.source = "qe-probe";
  e.sc = correction.predict(sc_probe, sc_second);
  e.lower = e.sc - correction.half_width;  // SC has no floor at 0: a spectrum can differ by more than its area
  e.upper = std::min(1.0, e.sc + correction.half_width);
  e.coverage = correction.coverage;
  nlohmann::json corr{{"alpha", correction.alpha}, {"beta", correction.beta}, {"n_fit", correction.n_fit}};
  if (correction.second_g > 0) corr["gamma"] = correction.gamma, corr["second_g"] = correction.second_g;
  e.details = {{"probe_n_g", par.value("n_g", 0)},
               {"probe_shell_energy_Ry", par.value("gblock_shell_energy_Ry", 0.0)},
               {"sc_probe", sc_probe},
               {"correction", corr},
               {"interval",
                {{"half_width", correction.half_width},
                 {"scale", "constant: split conformal on the validation residuals"},
                 {"n_calibration", correction.n_calibration}}},
               {"cost", {{"wall_s", wall}, {"cpu_s_rank0", cpu}, {"ranks", comm.size()}}}};
  if (correction.second_g > 0) e.details["sc_second"] = {{"n_g", second_n_g}, {"sc", sc_second}};
  if (const auto w = band_window_warning(save); !w.empty()) e.details["warning"] = w;
  return e;
}

Evidence model_evidence(const Prediction& p, const std::optional<ModelInterval>& interval) {
  Evidence e;
  e.source = "model";
  e.sc = std::min(p.sc, 1.0);
  if (interval) {
    e.lower = e.sc - interval->half_width;
    e.upper = std::min(1.0, e.sc + interval->half_width);
    e.coverage = interval->coverage;
    e.details = {{"interval", interval->method()}, {"n_calibration", interval->n_calibration}};
    if (interval->folds > 0) e.details["n_cross_validation"] = interval->n_cross_validation;
  } else {
    e.lower = e.sc - p.sc_spread;
    e.upper = std::min(1.0, e.sc + p.sc_spread);
    e.coverage = 0;
    e.details = {{"interval", "ensemble spread (not calibrated: no calibration for this model)"}};
  }
  return e;
}

}  // namespace rung::select
