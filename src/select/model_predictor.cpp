// The OPTIMATE models behind the Predictor interface (src/ml; in a build without LibTorch loading one says
// that it is not available).
// A model set is a folder with up to three model files named by their target (as share/models/):
//   ipa.h5, rpa.h5  -> the predicted spectra (trace of Im eps) with their ensemble spread,
//   sc.h5           -> SC(IPA, RPA) and its spread directly (the paper's SC model, doc/models.md).
// The SC estimate is chosen on the validation materials (doc/models.md, tools/sc_estimators.py) and written in
// the folder's model_set.json ({"format": "rung-model-set", "format_version": 1, "sc_estimator": "direct" | "mean"}): with all three
// files and "mean" (the default without the file) it is the mean of sc.h5's regression and the SC of the two
// predicted spectra (their errors are only partly correlated); with "direct" sc.h5's regression alone (the
// spectra are still predicted); with ipa.h5 and rpa.h5 only, the SC of the spectra, its spread from their
// spreads (first order: ∫(σ_ipa + σ_rpa) / ∫|ipa|); a single sc-target file gives the regression alone.
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/metrics.hpp"
#include "core/share_path.hpp"
#include "ml/predictor.hpp"
#include "select/predictor.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <optional>

namespace rung::select {

bool have_model_predictor() {
#ifdef RUNG_HAVE_TORCH
  return true;
#else
  return false;
#endif
}

namespace {

class OptimatePredictor final : public Predictor {
public:
  OptimatePredictor(const std::filesystem::path& where, const ml::PredictorOptions& options) {
    namespace fs = std::filesystem;
    const fs::path dir = where.empty() ? share_dir() / "models" : where;
    require_exists(dir);
    if (fs::is_directory(dir)) {
      for (const char* t : {"ipa", "rpa", "sc"}) {
        const auto f = dir / (std::string(t) + ".h5");
        if (fs::exists(f)) slot(ml::parse_target(t)) = ml::SpectrumPredictor::load(f, options);
      }
      if (!sc_ && !(ipa_ && rpa_))
        fail_input(dir, "holds no usable model set: needs sc.h5, or ipa.h5 and rpa.h5 (`rung train` writes them)");
    } else {
      auto p = ml::SpectrumPredictor::load(dir, options);
      const auto target = p.info().target;
      slot(target) = std::move(p);
      if (target != ml::Target::sc)
        fail_input(dir, "is a single " + ml::to_string(target) +
                            " model; selection needs an sc model or a folder with ipa.h5 and rpa.h5");
    }
    if (fs::is_directory(dir)) read_model_set(dir / "model_set.json");
    info_.path = dir.string();
    info_.kind = "optimate";
    for (const auto* p : {&ipa_, &rpa_, &sc_}) {
      if (!*p) continue;
      const auto& mi = (*p)->info();
      info_.untrained = info_.untrained || mi.untrained;
      info_.ensemble_size = std::max(info_.ensemble_size, mi.ensemble_size);
      info_.version = mi.rung_version;
      info_.metadata[ml::to_string(mi.target)] = {{"file", (*p)->path().string()}, {"created", mi.created},
                                                  {"rung_version", mi.rung_version},
                                                  {"training_dataset", mi.training_dataset},
                                                  {"ensemble_size", mi.ensemble_size},
                                                  {"untrained", mi.untrained}};
    }
    // part of the set's identity: a calibration fitted on one estimator does not hold for another
    info_.metadata["sc_estimator"] = sc_ && ipa_ && rpa_ && !direct_ ? "mean of sc.h5 and SC(predicted ipa.h5, rpa.h5)"
                                     : sc_                           ? "sc.h5"
                                                                     : "SC(predicted ipa.h5, rpa.h5)";
  }

  std::vector<Prediction> predict(const std::vector<Structure>& structures) override {
    std::vector<Prediction> out(structures.size());
    if (ipa_ && rpa_) {
      const auto grid = ipa_->info().grid.values_eV();
      const auto a = ipa_->predict(structures), b = rpa_->predict(structures);
      for (std::size_t i = 0; i < structures.size(); ++i) {
        auto& p = out[i];
        p.energy_eV = grid;
        p.ipa.assign(a[i].spectrum.begin(), a[i].spectrum.end());
        p.rpa.assign(b[i].spectrum.begin(), b[i].spectrum.end());
        p.ipa_spread.assign(a[i].spread.begin(), a[i].spread.end());
        p.rpa_spread.assign(b[i].spread.begin(), b[i].spread.end());
        p.sc = sc_ipa_rpa(p.energy_eV, p.ipa, p.rpa);
        p.sc_spread = propagated_spread(p);
        add_warnings(p, a[i].warnings);
        add_warnings(p, b[i].warnings);
      }
    }
    if (sc_) {
      const auto s = sc_->predict(structures);
      for (std::size_t i = 0; i < structures.size(); ++i) {
        if (!s[i].sc) fail("the SC model returned no SC for " + structures[i].id);
        // (capped at 1 by the predictor)
        const double direct = *s[i].sc, direct_spread = s[i].sc_spread.value_or(0.0);
        if (ipa_ && rpa_ && !direct_) {
          out[i].sc = 0.5 * (direct + out[i].sc);
          out[i].sc_spread = 0.5 * (direct_spread + out[i].sc_spread);
        } else {
          out[i].sc = direct;
          out[i].sc_spread = direct_spread;
        }
        add_warnings(out[i], s[i].warnings);
      }
    }
    return out;
  }

  const ModelSetInfo& info() const override { return info_; }

private:
  // The folder's choice of SC estimator (absent: the mean, as model sets before the file).
  void read_model_set(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return;
    const auto j = read_json_file(file);
    if (!j.is_object() || j.value("format", "") != "rung-model-set")
      fail_input(file.string(), "is not a rung model-set file (format \"rung-model-set\" missing)");
    // format_version 1 (written since 2026-12-06; a file without one is of version 1 too)
    if (j.contains("format_version")) {
      const auto& v = j["format_version"];
      if (!v.is_number_integer() || (v.is_number_unsigned() ? v.get<std::uint64_t>() < 1 : v.get<std::int64_t>() < 1))
        fail_input(file.string(), "\"format_version\" is " + v.dump() + " (expected an integer, 1)");
      if (v != 1) fail_input(file.string(), "has format_version " + v.dump() + ", newer than this rung reads (1)");
    }
    const std::string e = j.value("sc_estimator", "mean");
    if (e != "mean" && e != "direct")
      fail_input(file.string(), "\"sc_estimator\" is \"" + e + "\" (expected \"mean\" or \"direct\")");
    direct_ = e == "direct";
  }
  std::optional<ml::SpectrumPredictor>& slot(ml::Target t) {
    return t == ml::Target::ipa ? ipa_ : t == ml::Target::rpa ? rpa_ : sc_;
  }
  // The models of a set usually share a training set: one copy of each warning.
  static void add_warnings(Prediction& p, const std::vector<std::string>& more) {
    for (const auto& w : more)
      if (std::find(p.warnings.begin(), p.warnings.end(), w) == p.warnings.end()) p.warnings.push_back(w);
  }
  static double propagated_spread(const Prediction& p) {
    if (p.ipa_spread.size() != p.energy_eV.size() || p.rpa_spread.size() != p.energy_eV.size()) return 0.0;
    std::vector<double> sum(p.energy_eV.size()), abs_ipa(p.energy_eV.size());
    for (std::size_t i = 0; i < sum.size(); ++i) {
      sum[i] = p.ipa_spread[i] + p.rpa_spread[i];
      abs_ipa[i] = std::abs(p.ipa[i]);
    }
    const double norm = trapezoid(p.energy_eV, abs_ipa);
    return norm > 0 ? trapezoid(p.energy_eV, sum) / norm : 0.0;
  }

  std::optional<ml::SpectrumPredictor> ipa_, rpa_, sc_;
  bool direct_ = false;  // model_set.json: sc.h5's regression alone, not its mean with the spectra's SC
  ModelSetInfo info_;
};

}  // namespace

std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path) {
  if (!have_model_predictor()) fail_unavailable(no_torch_message);
  return std::make_unique<OptimatePredictor>(path, ml::PredictorOptions{});
}
std::unique_ptr<Predictor> load_model_predictor(const std::filesystem::path& path,
                                                const ml::PredictorOptions& options) {
  if (!have_model_predictor()) fail_unavailable(no_torch_message);
  return std::make_unique<OptimatePredictor>(path, options);
}

}  // namespace rung::select
