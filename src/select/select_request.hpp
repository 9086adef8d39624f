#pragma once
// What `rung select` and the C API's rung_select* are asked, in one vocabulary (the same idea as
// response::SpectrumRequest): each field is listed once in `visit` with its canonical key, its `rung select`
// flag and its help; the JSON reader (the C API), the writer (the provenance) and the CLI binding all go
// through the list. doc/selection.md and rung.h list the keys.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace rung::select {

struct PolicyOptions;  // select/policy.hpp
struct SizeOptions;    // select/cost_model.hpp

struct SelectRequest {
  double threshold = 0.9;
  double spread_factor = 1.0;
  double max_spread = 0.1;
  double kppa = 1500;
  std::optional<double> block_cutoff_Ry;  // given: both launches' fixed block and the cost estimate's (else converged)
  bool with_spectra = false;
  bool probe = true;
  std::string launch = "none";            // none | native | yambo
  std::string outdir = "rung-select";
  std::string model;                      // "" = share/models
  std::string calibration;                // "" = share/models/calibration.json when present
  std::string cost_model;                 // "" = share/cost_model.json when present
  std::string log;                        // JSON-lines decision log to append to ("" or "-": none)

  template <class Self, class F>
  static void visit(Self& r, F&& f);

  static SelectRequest from_json(const nlohmann::json& options);  // fail_usage naming an unknown/bad key
  nlohmann::json to_json() const;
  static std::vector<std::string> keys();

  PolicyOptions policy() const;  // validated (select/policy.hpp)
  SizeOptions size() const;      // select/cost_model.hpp
};

template <class Self, class F>
void SelectRequest::visit(Self& r, F&& f) {
  f("threshold", "--threshold", "SC(IPA,RPA) at or above which the IPA is sufficient", r.threshold);
  f("spread_factor", "--spread-factor", "Scale of the evidence's interval (1: its stated coverage)", r.spread_factor);
  f("max_spread", "--max-spread",
    "The evidence's own interval half-width (before --spread-factor) above which the decision is 'uncertain'",
    r.max_spread);
  f("kppa", "--kppa", "k-points per reciprocal atom assumed for structure inputs (cost estimate)", r.kppa);
  f("block_cutoff_Ry", "--block-cutoff",
    "G-block cut-off (Ry) of both launches and of the cost estimate; without it both launches converge the block the "
    "same way and the estimate takes the sweep's largest block (300 G, rounded up to a closed shell)",
    r.block_cutoff_Ry);
  f("with_spectra", "--with-spectra", "Put the predicted spectra into the records", r.with_spectra);
  f("probe", "", "On a QE save, decide on rung's RPA probe (the CLI's --no-probe turns it off)", r.probe);
  f("launch", "--launch", "none | native (rung's RPA) | yambo (inputs + commands, run when YAMBO is installed)",
    r.launch);
  f("outdir", "--outdir", "Where launched runs write (native spectra, YAMBO inputs)", r.outdir);
  f("model", "--model", "Model folder (ipa.h5, rpa.h5, sc.h5) or sc model file; default share/models", r.model);
  f("calibration", "--calibration",
    "Probe correction and intervals (from `rung calibrate`); default share/models/calibration.json", r.calibration);
  f("cost_model", "--cost-model", "Cost model JSON; default share/cost_model.json", r.cost_model);
  f("log", "--log", "JSON-lines decision log to append to ('-' for none)", r.log);
}

}  // namespace rung::select
