#include "select/select_request.hpp"
#include "select/run_selection.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/file_lock.hpp"
#include "core/json_file.hpp"
#include "core/progress.hpp"
#include "core/request_json.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"

#include <exception>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fcntl.h>
#include <unistd.h>
#include <fmt/format.h>
#include <fstream>
#include <iterator>

namespace rung::select {

SelectRequest SelectRequest::from_json(const nlohmann::json& options) {
  return request_json::from_json<SelectRequest>(options, "select");
}

nlohmann::json SelectRequest::to_json() const { return request_json::to_json(*this); }

std::vector<std::string> SelectRequest::keys() { return request_json::keys<SelectRequest>(); }

PolicyOptions SelectRequest::policy() const {
  PolicyOptions p;
  p.threshold = threshold;
  p.spread_factor = spread_factor;
  p.max_spread = max_spread;
  p.validate();
  return p;
}

SizeOptions SelectRequest::size() const {
  SizeOptions s;
  if (!(kppa > 0)) fail_usage(fmt::format("kppa (--kppa) must be > 0, not {}", kppa));
  s.kppa = kppa;
  if (block_cutoff_Ry) {
    if (!(*block_cutoff_Ry > 0))
      fail_usage(fmt::format("block_cutoff_Ry (--block-cutoff) must be > 0, not {}", *block_cutoff_Ry));
    s.block_cutoff_Ry = *block_cutoff_Ry;
  }
  return s;
}

nlohmann::json SelectionSummary::to_json() const {
  return {{"materials", records.size() - failed},
          {"failed", failed},
          {"ipa_sufficient", ipa_sufficient},
          {"rpa_needed", rpa_needed},
          {"uncertain", uncertain},
          {"rpa_to_run", rpa_needed + uncertain},
          {"launch_failed", launch_failed},
          {"cpu_hours_saved_estimate", cpu_hours_saved ? nlohmann::json(*cpu_hours_saved) : nlohmann::json(nullptr)},
          {"cpu_hours_to_run_estimate", cpu_hours_to_run ? nlohmann::json(*cpu_hours_to_run) : nlohmann::json(nullptr)},
          {"untrained_model", untrained}};
}

namespace {

// The message of a kept failure (a rung::Error).
std::string message_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Appends `text` at `end` (the file's end, under the caller's lock) in as many writes as it takes; when one fails
// (a full disk or a file-size limit after a short write) the file is cut back to `end`, so that no partial record
// is left for the next append to follow.
void append_whole_or_nothing(int fd, off_t end, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      const bool cut = end >= 0 && ::ftruncate(fd, end) == 0;
      fail(fmt::format("{}: cannot append to the decision log: {}{}", path, std::strerror(err),
                       cut || done == 0 ? "" : " (a partial record is left at its end)"));
    }
    done += std::size_t(n);
  }
}
}  // namespace

void check_decision_log_path(const std::string& path) {
  if (path.empty() || path == "-") return;
  // The log is appended to in place (not through a temporary and a rename): an existing file (or a device or a
  // pipe, such as /dev/null) needs only to be writable itself; a new one, a writable folder to be created in.
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) return check_output_path(path);
  if (std::filesystem::is_directory(st)) fail_usage(fmt::format("{}: cannot append to it, it is a folder", path));
  if (::access(path.c_str(), W_OK) != 0)
    fail_usage(fmt::format("{}: cannot append decisions to it: {}", path, std::strerror(errno)));
}

void append_decision_log(const std::string& path, const std::vector<nlohmann::json>& records) {
  if (path.empty() || path == "-" || records.empty()) return;
  std::string text;
  for (const auto& r : records) text += dump_json_line(r) + '\n';
  // O_APPEND under an exclusive lock: decisions appended by other processes at the same time (several ranks,
  // several pw.x runs with the plugin, host threads) all stay; each record is one line written in one call.
  const FileLock lock(path, FileLock::Wait::yes, "the decision log", O_APPEND);
  const int fd = lock.fd();
  // a log whose last line was cut (a process killed while writing) gets a newline first, so that the
  // records after it stay whole lines
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, end - 1) == 1 && last != '\n') text.insert(text.begin(), '\n');
  }
  append_whole_or_nothing(fd, end, text, path);
}

SelectionSetup::SelectionSetup(const SelectRequest& r, const SelectionContext& ctx)
    : request(r), policy(r.policy()), size(r.size()) {
  check_decision_log_path(r.log);
  cost = r.cost_model.empty() ? CostModel::load_default() : std::optional<CostModel>(CostModel::load(r.cost_model));
  evidence.probe = r.probe;
  evidence.calibration = r.calibration.empty() ? Calibration::load_default()
                                               : std::optional<Calibration>(Calibration::load(r.calibration));
  launch.mode = parse_launch_mode(r.launch);
  launch.outdir = r.outdir;
  launch.block_cutoff_Ry = r.block_cutoff_Ry;
  launch.rung_executable = ctx.rung_executable;
  launch.progress = ctx.progress && !ctx.batch;
}

SelectResult select_and_launch(const SelectInput& in, Predictor* predictor, const SelectionSetup& setup) {
  const auto t1 = std::chrono::steady_clock::now();
  auto r = select_one(in, predictor, setup.evidence, setup.policy, setup.size, setup.cost ? &*setup.cost : nullptr,
                      setup.request.with_spectra, Comm::self());
  const auto t2 = std::chrono::steady_clock::now();
  r.record["request"] = setup.request.to_json();
  // A launch can run for hours and be killed with its job: the decision is logged before it starts (launch
  // status "started"), and the caller appends the outcome as a second line when it ends.
  if (setup.launch.mode != LaunchMode::none && launches_rpa(r.decision) && !setup.request.log.empty() && in.save &&
      !only_occupied_bands(*in.save)) {
    auto started = r.record;
    started["launch"] = {{"mode", setup.request.launch}, {"status", "started"}};
    append_decision_log(setup.request.log, {started});
  }
  r.record["launch"] = launch_rpa(in, r.decision, setup.launch, r.evidence.sc);
  r.record["timings_s"]["launch"] = seconds_since(t2);
  r.record["timings_s"]["total"] = seconds_since(t1);
  return r;
}

SelectionSummary run_selection(const std::vector<std::string>& inputs, const SelectRequest& req, const Comm& comm,
                               const SelectionContext& ctx) {
  if (inputs.empty()) fail_usage("give at least one input");
  return run_selection(inputs, SelectionSetup(req, ctx), comm, ctx);
}

SelectionSummary run_selection(const std::vector<std::string>& inputs, const SelectionSetup& setup, const Comm& comm,
                               const SelectionContext& ctx) {
  if (inputs.empty()) fail_usage("give at least one input");
  const SelectRequest& req = setup.request;
  std::unique_ptr<Predictor> loaded;
  Predictor* predictor = ctx.predictor;  // the caller's, else `loaded` once an input needs it

  // This rank's share of the farm. Each input's final record is appended to the log as soon as it is decided (and
  // launched), by the rank that decided it: a job killed later, or an input that fails after it, loses nothing
  // already decided. The log is therefore in the order decisions ended; every record names its input and rank.
  std::vector<nlohmann::json> mine;
  // why the default models could not be loaded (said in every record after; kept whole, so that it is raised again
  // as what it is, a missing file as a missing file)
  std::exception_ptr model_failure = ctx.predictor ? nullptr : ctx.predictor_failure;
  const auto failure = [&](const std::string& path, const std::string& item, const std::string& what, int code,
                           std::chrono::steady_clock::time_point t0) {
    nlohmann::json f{{"input_path", path},
                     {"error", what},
                     {"exit_code", code},
                     {"rung_version", version_string},
                     {"timings_s", {{"total", seconds_since(t0)}}},
                     {"mpi", {{"rank", comm.rank()}, {"ranks", comm.size()}}}};
    if (!item.empty()) f["item"] = item;
    append_decision_log(req.log, {f});
    mine.push_back(std::move(f));
  };
  // Runs `body`; outside batch mode an error ends the run, in batch mode it becomes this input's failure record.
  const auto guarded = [&](const std::string& path, const std::string& item, auto&& body) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      body();
    } catch (const Interrupted&) {  // the host asked to stop: not this input's failure, the whole call ends
      throw;
    } catch (const Error& e) {
      if (interrupt_requested()) throw Interrupted();  // a child killed by the same Ctrl-C: stop, not a failure
      if (!ctx.batch) throw;
      failure(path, item, e.what(), e.exit_code(), t0);
    } catch (const std::exception& e) {  // out of memory and the like: this input fails, the farm goes on
      if (interrupt_requested()) throw Interrupted();
      if (!ctx.batch) throw;
      failure(path, item, std::string("internal error: ") + e.what(), 1, t0);
    }
  };
  // a batch shows its progress over rank 0's share of the inputs (with several ranks the others' shares are
  // about as long), with an ETA; a single input shows its launch's own
  const std::size_t share = inputs.size() > std::size_t(comm.rank())
                                ? (inputs.size() - std::size_t(comm.rank()) - 1) / std::size_t(comm.size()) + 1
                                : 0;
  Progress progress(
      comm.size() > 1 ? fmt::format("rung select (rank 0 of {})", comm.size()) : std::string("rung select"), share,
      ctx.batch && ctx.progress && comm.is_root() && share > 1);
  for (std::size_t i = std::size_t(comm.rank()); i < inputs.size(); i += std::size_t(comm.size()), progress.advance()) {
    std::vector<SelectInput> items;
    guarded(inputs[i], "", [&] { items = read_select_inputs(inputs[i]); });
    // a file of several inputs (JSON lines): one that fails is recorded and the ones after it go on
    for (std::size_t k = 0; k < items.size(); ++k) {
      const auto& in = items[k];
      const std::string item =
          items.size() > 1 ? fmt::format("{} (input {} of {})", in.structure.id, k + 1, items.size()) : "";
      guarded(inputs[i], item, [&] {
        // With LibTorch the model is loaded before the first input (the cross-check of a probe, and the evidence
        // where a probe cannot run); without, only for an input that has no QE save. When the default models
        // cannot be loaded, a QE save is still decided by its probe and its record says why there is no model;
        // a model the request names, or a structure without a save, fails.
        if (!predictor && (have_model_predictor() || !in.save)) {
          if (!model_failure) try {
              loaded = load_model_predictor(req.model);
              predictor = loaded.get();
            } catch (const Interrupted&) {
              throw;
            } catch (const Error&) {
              model_failure = std::current_exception();
            }
          if (model_failure && (!in.save || !req.model.empty())) std::rethrow_exception(model_failure);
        }
        auto r = select_and_launch(in, predictor, setup);
        if (!predictor && model_failure) r.record["model_unavailable"] = message_of(model_failure);
        r.record["mpi"] = {{"rank", comm.rank()}, {"ranks", comm.size()}};
        append_decision_log(req.log, {r.record});
        mine.push_back(std::move(r.record));
      });
    }
  }

  // Collect on rank 0 (in input order per rank; the log is ordered by rank, then input).
  SelectionSummary s;
  comm.idle_barrier();  // a rank done early (its share may have had no launch) waits without taking a core
  const auto all = comm.gather(nlohmann::json(mine).dump());
  if (!comm.is_root()) {
    s.records = std::move(mine);
    return s;
  }
  for (const auto& blob : all)
    for (auto& r : nlohmann::json::parse(blob)) s.records.push_back(std::move(r));

  double saved_s = 0, needed_s = 0;
  for (const auto& r : s.records) {
    if (r.contains("error")) {
      ++s.failed;
      continue;
    }
    s.untrained = s.untrained || (r.contains("model") && r["model"].value("untrained", false));
    if (r.contains("launch") && r["launch"].value("status", "") == "failed") ++s.launch_failed;
    const std::string d = r["decision"];
    const auto& c = r["rpa_cost_estimate"]["cpu_seconds"];
    if (d == "ipa-sufficient") {
      ++s.ipa_sufficient;
      if (c.is_number()) saved_s += c.get<double>();
    } else {
      (d == "rpa-needed" ? s.rpa_needed : s.uncertain)++;
      if (c.is_number()) needed_s += c.get<double>();
    }
  }
  if (setup.cost) s.cpu_hours_saved = saved_s / 3600, s.cpu_hours_to_run = needed_s / 3600;
  return s;
}

}  // namespace rung::select
