#pragma once
// `rung select` and the C API's rung_select* end to end: a SelectRequest (select/select_request.hpp) for any
// number of inputs — predict, decide, launch, farm over MPI ranks, log — with the result as typed data.
#include <nlohmann/json.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "select/cost_model.hpp"
#include "select/launch.hpp"
#include "select/policy.hpp"
#include "select/select_request.hpp"
#include "select/selection.hpp"

namespace rung::select {

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
// request.log. In batch mode a failing input becomes a record with its error and the others go
// on; otherwise it throws. A launch that fails is a record with launch status "failed", never an exception.
// Appends records to a JSON-lines decision log, one line each, under an exclusive flock on the file opened for
// appending, so that processes appending to the same log at once lose nothing; "" or "-": nothing.
void append_decision_log(const std::string& path, const std::vector<nlohmann::json>& records);
// The log's path checked before anything is decided (core/atomic_output.hpp check_output_path: its folder exists and
// can be written to, it is not a folder); "" or "-": nothing to check. SelectionSetup calls it.
void check_decision_log_path(const std::string& path);

struct SelectionContext {
  bool batch = false;     // a failing input is recorded and the others go on
  bool progress = false;  // progress on stderr: a batch's over its inputs (rank 0), else a native launch's
  std::string rung_executable = "rung";  // what a YAMBO launch script calls to compare G blocks
  // The models of request.model, already loaded by the caller (the Python module keeps them between calls); when
  // null, run_selection loads them itself before the first input that needs them, unless the caller already
  // failed to: predictor_failure then holds that failure (a rung::Error), used as run_selection's own would be
  Predictor* predictor = nullptr;
  std::exception_ptr predictor_failure;
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
// The same with the request already set up (a caller that checks the request before it loads the models).
SelectionSummary run_selection(const std::vector<std::string>& inputs, const SelectionSetup& setup, const Comm& comm,
                               const SelectionContext& context);

// One input end to end on this rank: select_one, then the launch the request asks for; the record carries
// the launch, the request and the timings. When a launch starts and request.log is set, the decision is
// appended to the log first with launch status "started"; the final record is the caller's to log. What run_selection does per input and
// the C API per call.
SelectResult select_and_launch(const SelectInput& in, Predictor* predictor, const SelectionSetup& setup);

}  // namespace rung::select
