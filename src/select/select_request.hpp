#pragma once
// What `rung select` and the C API's rung_select* are asked, in one vocabulary (the same idea as
// response::SpectrumRequest): each field is listed once in `visit` with its canonical key, its `rung select`
// flag and its help; the JSON reader (the C API), the writer (the provenance) and the CLI binding all go
// through the list. doc/selection.md and rung.h list the keys.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "select/cost_model.hpp"
#include "select/launch.hpp"
#include "select/policy.hpp"
#include "select/selection.hpp"

namespace rung::select {

struct SelectRequest {
  double threshold = 0.9;
  double spread_factor = 1.0;
  double max_spread = 0.1;
  double kppa = 1500;
  std::optional<double> block_cutoff_Ry;  // the cost estimate's block (default 4 Ry) and, given, both launches'
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

  PolicyOptions policy() const;  // validated
  SizeOptions size() const;
};

template <class Self, class F>
void SelectRequest::visit(Self& r, F&& f) {
  f("threshold", "--threshold", "SC(IPA,RPA) at or above which the IPA is sufficient", r.threshold);
  f("spread_factor", "--spread-factor", "Scale of the evidence's interval (1: its stated coverage)", r.spread_factor);
  f("max_spread", "--max-spread", "Interval half-width above which the decision is 'uncertain'", r.max_spread);
  f("kppa", "--kppa", "k-points per reciprocal atom assumed for structure inputs (cost estimate)", r.kppa);
  f("block_cutoff_Ry", "--block-cutoff",
    "G-block cut-off (Ry) of the cost estimate (default 4); when given, also the fixed block of both launches "
    "(else they converge it the same way)",
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

// What run_selection returns on rank 0 (the other ranks get their own records only).
struct SelectionSummary {
  std::vector<nlohmann::json> records;  // every input's decision (or its failure), in input order per rank
  std::size_t ipa_sufficient = 0, rpa_needed = 0, uncertain = 0, failed = 0, launch_failed = 0;
  std::optional<double> cpu_hours_saved, cpu_hours_to_run;  // absent without a cost model
  bool untrained = false;

  nlohmann::json to_json() const;  // the summary counts (without the records)
};

// predict → decide → launch for every input, as a static task farm over `comm` (input i on rank i mod size;
// the probe and launches run on that rank alone), gathered on rank 0, which appends the records to
// request.log (atomically). In batch mode a failing input becomes a record with its error and the others go
// on; otherwise it throws. A launch that fails is a record with launch status "failed", never an exception.
// Appends records to a JSON-lines decision log, atomically (the file is rewritten and renamed); "" or "-":
// nothing.
void append_decision_log(const std::string& path, const std::vector<nlohmann::json>& records);

struct SelectionContext {
  bool batch = false;     // a failing input is recorded and the others go on
  bool progress = false;  // progress of a native launch on stderr (never in batch mode)
  std::string rung_executable = "rung";  // what a YAMBO launch script calls to compare G blocks
};
SelectionSummary run_selection(const std::vector<std::string>& inputs, const SelectRequest& request,
                               const Comm& comm, const SelectionContext& context);

// What a request sets up once for any number of inputs: the validated policy and sizes, the cost model, the
// evidence's calibration, the launch.
struct SelectionSetup {
  SelectionSetup(const SelectRequest& request, const SelectionContext& context);
  SelectRequest request;
  PolicyOptions policy;
  SizeOptions size;
  std::optional<CostModel> cost;
  EvidenceOptions evidence;
  LaunchOptions launch;
};

// One input end to end on this rank: select_one, then the launch the request asks for; the record carries
// the launch, the request and the timings (the log is the caller's). What run_selection does per input and
// the C API per call.
SelectResult select_and_launch(const SelectInput& in, Predictor* predictor, const SelectionSetup& setup);

}  // namespace rung::select
