// The C API (rung.h): every entry point runs its body inside guard(), which turns every C++
// exception into a status and a thread-local message, so nothing escapes into the host program.
#include "capi/rung.h"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/parallel.hpp"
#include "core/runtime.hpp"
#include "core/timestamp.hpp"
#include "core/version.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "ml/predict_request.hpp"
#include "response/field_direction.hpp"
#include "select/native_spectrum.hpp"
#include "select/run_selection.hpp"
#include "select/selection.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <functional>

using rung::ml::Prediction;
using rung::select::Predictor;

struct rung_save {
  std::shared_ptr<const rung::qe::Save> save;
};
struct rung_model {
  std::unique_ptr<Predictor> predictor;
};
struct rung_prediction {
  Prediction p;
};
struct rung_decision {
  rung_decision_kind kind = RUNG_UNCERTAIN;
  double sc = 0, sc_spread = 0, cpu_seconds = -1;
  std::string json;
};
struct rung_spectrum {
  rung::SpectrumSet set;
  std::string component;  // the one the accessors return
};

namespace {

// An output array or buffer the caller gave is too small (RUNG_ERR_BUFFER).
struct BufferTooSmall : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Another rank's failure, handed on with its status and message unchanged (select_on_root).
struct RootFailure : std::runtime_error {
  RootFailure(rung_status s, const std::string& message) : std::runtime_error(message), status(s) {}
  rung_status status;
};

thread_local std::string last_message;
thread_local rung_status last_code = RUNG_OK;

// Never throws (it runs in guard's handlers and in rung_report_usage_error, inside extern "C"): a message that
// cannot be copied for lack of memory is replaced by one that fits the string's own storage.
rung_status record(rung_status s, const char* prefix, const char* message) noexcept {
  last_code = s;
  try {
    last_message.assign(prefix);
    last_message.append(message ? message : "");
  } catch (...) {
    last_message.clear();  // keeps its capacity; the short text below fits any string's own storage
    try {
      last_message = "out of memory";
    } catch (...) {}
  }
  return s;
}
rung_status record(rung_status s, const char* message) noexcept { return record(s, "", message); }

template <class F>
rung_status guard(F&& body) noexcept {
  try {
    body();
    return RUNG_OK;
  } catch (const RootFailure& e) {
    return record(e.status, e.what());
  } catch (const BufferTooSmall& e) {
    return record(RUNG_ERR_BUFFER, e.what());
  } catch (const rung::FeatureUnavailable& e) {
    return record(RUNG_ERR_UNAVAILABLE, e.what());
  } catch (const rung::Error& e) {
    switch (e.kind()) {
      case rung::ErrorKind::input: return record(RUNG_ERR_INPUT, e.what());
      case rung::ErrorKind::usage: return record(RUNG_ERR_USAGE, e.what());
      default: return record(RUNG_ERR_RUNTIME, e.what());
    }
  } catch (const std::bad_alloc&) {
    return record(RUNG_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return record(RUNG_ERR_INTERNAL, "internal error: ", e.what());
  } catch (...) {
    return record(RUNG_ERR_INTERNAL, "internal error: unknown exception");
  }
}

template <class T>
const T& need(const T* p, const char* what) {
  if (!p) rung::fail_usage(std::string(what) + " is NULL");
  return *p;
}
template <class T>
T& need(T* p, const char* what) {
  if (!p) rung::fail_usage(std::string(what) + " is NULL");
  return *p;
}

void copy_string(const std::string& s, char* buf, size_t len, size_t* needed) {
  if (needed) *needed = s.size();
  if (buf && len > 0) {
    const size_t n = std::min(len - 1, s.size());
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
}

// Parses an options string: NULL/"" -> {}; invalid JSON or anything but an object is a usage error. The
// typed requests then refuse an unknown key by its name.
nlohmann::json parse_options(const char* text) {
  if (!text || !*text) return nlohmann::json::object();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    rung::fail_usage(std::string("options are not valid JSON: ") + e.what());
  }
  if (!j.is_object()) rung::fail_usage("options must be a JSON object");
  return j;
}

// The selection's options: SelectRequest's canonical keys (rung.h lists them; the model key is the handle's).
// `writes_log`: whether this rank appends the decisions (rank 0 of a communicator, which alone decides), whose log
// is then checked before anything is decided; another rank's node need not see the log's folder.
rung::select::SelectRequest select_options(const char* text, bool writes_log) {
  auto r = rung::select::SelectRequest::from_json(parse_options(text));
  r.policy();  // validates, naming the key
  r.size();
  rung::select::parse_launch_mode(r.launch);
  if (writes_log) rung::select::check_decision_log_path(r.log);
  return r;
}

// One input through the selection with the handle's model: evidence, decision, the launch the options ask
// for, the log. Runs on one rank (select_on_root broadcasts the result).
rung::select::SelectResult select_with(rung::select::Predictor* predictor, const rung::select::SelectInput& in,
                                       const rung::select::SelectRequest& o) {
  rung::select::SelectionContext context;
  context.progress = rung::runtime().progress;  // rung_set_progress(1): a native launch shows its progress too
  auto r = rung::select::select_and_launch(in, predictor, rung::select::SelectionSetup(o, context));
  rung::select::append_decision_log(o.log, {r.record});
  return r;
}

rung::Structure structure_from_arrays(const double* cell, int natoms, const double* positions, const int* numbers) {
  if (!cell || !positions || !numbers) rung::fail_usage("cell, positions and numbers must not be NULL");
  if (natoms == -1)  // (what the Fortran module's rung_select passes for them on a collective call)
    rung::fail_usage("positions(3, nat) and numbers(nat) disagree in shape");
  if (natoms <= 0) rung::fail_usage(fmt::format("natoms must be positive, not {}", natoms));
  rung::Structure s;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) s.lattice(i, j) = cell[3 * i + j];
  if (!s.lattice.allFinite()) rung::fail_usage("the cell contains NaN or Inf");
  if (std::abs(s.lattice.determinant()) < 1e-8) rung::fail_usage("the cell is singular (zero volume)");
  const Eigen::Matrix3d to_frac = s.lattice.transpose().inverse();
  for (int a = 0; a < natoms; ++a) {
    const Eigen::Vector3d r(positions[3 * a], positions[3 * a + 1], positions[3 * a + 2]);
    if (!r.allFinite()) rung::fail_usage(fmt::format("position of atom {} is not finite", a + 1));
    s.frac.push_back(to_frac * r);
    s.numbers.push_back(numbers[a]);
  }
  s.id = "memory";
  s.validate("structure given through the C API");
  return s;
}

rung::Comm comm_from(int fcomm) { return fcomm == RUNG_COMM_NONE ? rung::Comm::self() : rung::Comm::from_fortran(fcomm); }

rung_decision_kind kind_of(rung::select::Decision d) {
  switch (d) {
    case rung::select::Decision::ipa_sufficient: return RUNG_IPA_SUFFICIENT;
    case rung::select::Decision::rpa_needed: return RUNG_RPA_NEEDED;
    default: return RUNG_UNCERTAIN;
  }
}

// Runs `decide` on the root of `comm` and hands the decision (or the root's failure) to every rank,
// so all ranks return the same status and the same decision. Only the root's handles and inputs are used.
rung_decision* select_on_root(const rung::Comm& comm, const std::function<rung::select::SelectResult()>& decide) {
  std::string packet;
  if (comm.is_root()) {
    // everything the root can fail at lies inside the guard: a failure must reach the broadcast, or the other
    // ranks would wait in it for ever
    nlohmann::json p;
    const rung_status s = guard([&] {
      const auto r = decide();
      p = {{"status", 0},
           {"kind", int(kind_of(r.decision))},
           {"sc", r.evidence.sc},
           {"sc_spread", r.evidence.sc - r.evidence.lower},
           {"cpu", r.cost_cpu_seconds.value_or(-1.0)},
           {"record", rung::dump_json_line(r.record)}};
      packet = rung::dump_json_line(p);
    });
    if (s != RUNG_OK) packet = rung::dump_json_line({{"status", int(s)}, {"message", last_message}});
  }
  // the other ranks wait asleep (a polled barrier), not spinning in the broadcast for the whole probe and launch
  comm.idle_barrier();
  comm.broadcast(packet);
  const auto p = nlohmann::json::parse(packet);
  if (p.at("status").get<int>() != 0)  // the root's status and message, on every rank
    throw RootFailure(rung_status(p.at("status").get<int>()), p.at("message").get<std::string>());
  auto d = std::make_unique<rung_decision>();
  d->kind = rung_decision_kind(p.at("kind").get<int>());
  d->sc = p.at("sc").get<double>();
  d->sc_spread = p.at("sc_spread").get<double>();
  d->cpu_seconds = p.at("cpu").get<double>();
  d->json = p.at("record").get<std::string>();
  return d.release();
}

// Real and imaginary parts of `values` into the caller's arrays (NULL ones skipped), which hold n values.
void copy_parts(const std::vector<std::complex<double>>& values, double* re, double* im, int n) {
  if (n < int(values.size()))
    throw BufferTooSmall(fmt::format("arrays hold {} values but the spectrum has {}", n, values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (re) re[i] = values[i].real();
    if (im) im[i] = values[i].imag();
  }
}

}  // namespace

extern "C" {

int rung_api_version(void) { return RUNG_API_VERSION; }

rung_status rung_version(int* major, int* minor, int* patch) {
  if (major) *major = rung::version_major;
  if (minor) *minor = rung::version_minor;
  if (patch) *patch = rung::version_patch;
  return RUNG_OK;
}

rung_status rung_version_string(char* buf, size_t len, size_t* needed) {
  copy_string(rung::version_string, buf, len, needed);
  return RUNG_OK;
}

size_t rung_last_error(char* buf, size_t len) {
  copy_string(last_message, buf, len, nullptr);
  return last_message.size();
}

rung_status rung_last_status(void) { return last_code; }

rung_status rung_report_usage_error(const char* message) {
  return record(RUNG_ERR_USAGE, message && *message ? message : "rung_report_usage_error: the message is empty");
}

rung_status rung_set_progress(int enabled) {
  return guard([&] {
    // Progress lines are off for library hosts (the runtime's default) until they ask.
    rung::Runtime r = rung::runtime();
    r.progress = enabled != 0;
    rung::configure(r);
  });
}

rung_status rung_atomic_number(const char* symbol, int* z) {
  return guard([&] {
    if (!symbol || !z) rung::fail_usage("symbol and z must not be NULL");
    const int n = rung::elements::atomic_number_of_label(symbol);  // (QE's species labels: "Fe1", "Oa")
    if (n == 0) rung::fail_usage(std::string("unknown element symbol \"") + symbol + "\"");
    *z = n;
  });
}

rung_status rung_save_open(const char* path, rung_save** out) {
  return guard([&] {
    need(out, "out");
    *out = nullptr;
    if (!path || !*path) rung::fail_usage("the path of the QE save is empty");
    auto h = std::make_unique<rung_save>();
    h->save = std::make_shared<const rung::qe::Save>(rung::qe::Save::read(path));
    *out = h.release();
  });
}

rung_status rung_save_free(rung_save* save) {
  delete save;
  return RUNG_OK;
}

rung_status rung_save_natoms(const rung_save* save, int* natoms) {
  return guard([&] { need(natoms, "natoms") = int(need(save, "save").save->structure.size()); });
}

rung_status rung_save_nbands(const rung_save* save, int* nbands) {
  return guard([&] { need(nbands, "nbands") = need(save, "save").save->nbnd; });
}

rung_status rung_save_structure(const rung_save* save, double* cell, double* positions, int* numbers, int capacity) {
  return guard([&] {
    const auto& s = need(save, "save").save->structure;
    if (!cell || !positions || !numbers) rung::fail_usage("cell, positions and numbers must not be NULL");
    if (capacity < int(s.size()))
      throw BufferTooSmall(fmt::format("capacity {} is smaller than the {} atoms of the save", capacity, s.size()));
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) cell[3 * i + j] = s.lattice(i, j);
    for (std::size_t a = 0; a < s.size(); ++a) {
      const auto r = s.cartesian(a);
      for (int j = 0; j < 3; ++j) positions[3 * a + j] = r[j];
      numbers[a] = s.numbers[a];
    }
  });
}

rung_status rung_model_load(const char* path, rung_model** out) {
  return guard([&] {
    need(out, "out");
    *out = nullptr;
    auto h = std::make_unique<rung_model>();
    h->predictor = rung::select::load_model_predictor(path ? path : "");
    *out = h.release();
  });
}

rung_status rung_model_load_options(const char* options, rung_model** out) {
  return guard([&] {
    need(out, "out");
    *out = nullptr;
    const auto r = rung::ml::PredictRequest::from_json(parse_options(options));
    // the structures come as arrays and the model is a set (ipa, rpa, sc): these keys mean nothing here; a LibTorch
    // thread count would be ignored (a library leaves the host's thread pools as they are): refused, as in Python
    for (const char* key : {"target", "format", "threads"})
      if (parse_options(options).contains(key))
        rung::fail_usage(std::string("predict option \"") + key + "\" does not apply to the C API (rung.h)" +
                         (std::string(key) == "threads" ? ": rung leaves the host's thread pools as they are" : ""));
    auto h = std::make_unique<rung_model>();
    h->predictor = rung::select::load_model_predictor(r.model, r.predictor_options());
    *out = h.release();
  });
}

rung_status rung_model_free(rung_model* model) {
  delete model;
  return RUNG_OK;
}

rung_status rung_model_untrained(const rung_model* model, int* untrained) {
  return guard([&] { need(untrained, "untrained") = need(model, "model").predictor->info().untrained ? 1 : 0; });
}

rung_status rung_predict(rung_model* model, const double* cell, int natoms, const double* positions,
                         const int* numbers, rung_prediction** out) {
  return guard([&] {
    need(out, "out");
    *out = nullptr;
    const auto s = structure_from_arrays(cell, natoms, positions, numbers);
    auto& m = need(model, "model");
    auto preds = m.predictor->predict({s});
    if (preds.size() != 1) rung::fail("the predictor returned no prediction");
    *out = new rung_prediction{std::move(preds.front())};
  });
}

rung_status rung_prediction_free(rung_prediction* p) {
  delete p;
  return RUNG_OK;
}

rung_status rung_prediction_npoints(const rung_prediction* p, int* n) {
  return guard([&] { need(n, "n") = int(need(p, "prediction").p.energy_eV.size()); });
}

rung_status rung_prediction_spectra(const rung_prediction* p, double* energy_eV, double* ipa, double* rpa, int n) {
  return guard([&] {
    const auto& q = need(p, "prediction").p;
    if (n < int(q.energy_eV.size()))
      throw BufferTooSmall(fmt::format("arrays hold {} values but the prediction has {}",
                                                              n, q.energy_eV.size()));
    if (energy_eV) std::copy(q.energy_eV.begin(), q.energy_eV.end(), energy_eV);
    if (ipa) std::copy(q.ipa.begin(), q.ipa.end(), ipa);
    if (rpa) std::copy(q.rpa.begin(), q.rpa.end(), rpa);
  });
}

rung_status rung_prediction_sc(const rung_prediction* p, double* sc, double* sc_spread) {
  return guard([&] {
    const auto& q = need(p, "prediction").p;
    if (sc) *sc = q.sc;
    if (sc_spread) *sc_spread = q.sc_spread;
  });
}

rung_status rung_select(rung_model* model, const double* cell, int natoms, const double* positions,
                        const int* numbers, const char* options, int fcomm, rung_decision** out) {
  return guard([&] {
    // the communicator first (a collective: MPI_Comm_dup), then the checks, agreed on by every rank: a rank whose
    // arguments are refused alone would leave the others waiting in a collective
    const auto comm = comm_from(fcomm);
    const auto o = rung::agreed_on_every_rank(comm, [&] {
      need(out, "out");
      *out = nullptr;
      return select_options(options, comm.is_root());
    });
    *out = select_on_root(comm, [&] {
      auto& m = need(model, "model");
      rung::select::SelectInput in;
      in.kind = "memory";
      in.structure = structure_from_arrays(cell, natoms, positions, numbers);
      return select_with(m.predictor.get(), in, o);
    });
  });
}

rung_status rung_select_save(rung_model* model, const rung_save* save, const char* options, int fcomm,
                             rung_decision** out) {
  return guard([&] {
    const auto comm = comm_from(fcomm);  // (as rung_select: the communicator first, then the agreed checks)
    const auto o = rung::agreed_on_every_rank(comm, [&] {
      need(out, "out");
      *out = nullptr;
      return select_options(options, comm.is_root());
    });
    *out = select_on_root(comm, [&] {
      const auto& s = need(save, "save");
      // no model (a build without LibTorch, or none loaded): the probe decides, and where it cannot,
      // select_one says that a model is needed
      rung::select::Predictor* predictor = model ? model->predictor.get() : nullptr;
      rung::select::SelectInput in;
      in.kind = "qe-save";
      in.path = s.save->dir.string();
      in.structure = s.save->structure;
      in.save = s.save;
      return select_with(predictor, in, o);
    });
  });
}

rung_status rung_decide(double sc, double sc_spread, const char* options, rung_decision** out) {
  return guard([&] {
    need(out, "out");
    *out = nullptr;
    const auto o = select_options(options, true);
    // the caller's numbers are the caller's input: a usage error, not a failure of rung's
    if (!std::isfinite(sc)) rung::fail_usage(fmt::format("sc must be a finite number, not {}", sc));
    if (!std::isfinite(sc_spread) || sc_spread < 0)
      rung::fail_usage(fmt::format("sc_spread must be a finite number >= 0, not {}", sc_spread));
    if (rung::select::parse_launch_mode(o.launch) != rung::select::LaunchMode::none)
      rung::fail_usage(
          "rung_decide launches nothing (it has no QE run): \"launch\" must be \"none\"; "
          "rung_select_save launches");
    const auto r = rung::select::decide(sc, sc_spread, o.policy());
    rung::select::Evidence e;
    e.source = "caller";
    e.sc = sc;
    e.lower = sc - sc_spread;
    e.upper = sc > 1.0 ? sc : std::min(1.0, sc + sc_spread);  // SC cannot exceed 1 (a caller's above 1 stays)
    e.details = {{"interval", "the caller's half-width"}};
    auto d = std::make_unique<rung_decision>();
    d->kind = kind_of(r.decision);
    d->sc = sc;
    d->sc_spread = sc_spread;
    // the layout of every decision record (doc/selection.md, "The decision log"), with the caller as its input
    nlohmann::json j{{"rung_version", rung::version_string},
                     {"created", rung::utc_now_iso8601()},
                     {"input", {{"kind", "caller"}, {"path", ""}}},
                     {"evidence", e.to_json()},
                     {"policy",
                      {{"threshold", o.threshold},
                       {"spread_factor", o.spread_factor},
                       {"max_spread", o.max_spread},
                       {"interval", {r.lower, r.upper}}}},
                     {"decision", rung::select::to_string(r.decision)},
                     {"reason", r.reason},
                     {"launch", {{"mode", "none"}, {"status", "not requested"}}},
                     {"request", o.to_json()}};
    rung::select::append_decision_log(o.log, {j});
    d->json = rung::dump_json_line(j);
    *out = d.release();
  });
}

rung_status rung_decision_free(rung_decision* d) {
  delete d;
  return RUNG_OK;
}

rung_status rung_decision_kind_of(const rung_decision* d, rung_decision_kind* kind) {
  return guard([&] { need(kind, "kind") = need(d, "decision").kind; });
}

rung_status rung_decision_numbers(const rung_decision* d, double* sc, double* sc_spread, double* cpu_seconds) {
  return guard([&] {
    const auto& x = need(d, "decision");
    if (sc) *sc = x.sc;
    if (sc_spread) *sc_spread = x.sc_spread;
    if (cpu_seconds) *cpu_seconds = x.cpu_seconds;
  });
}

rung_status rung_decision_json(const rung_decision* d, char* buf, size_t len, size_t* needed) {
  return guard([&] {
    const auto& x = need(d, "decision");
    copy_string(x.json, buf, len, needed);
    if (!buf) {  // a size query: *needed is the answer, and nothing failed
      if (!needed) rung::fail_usage("a size query (NULL buffer) needs a place for the size");
      return;
    }
    if (len <= x.json.size())
      throw BufferTooSmall(fmt::format("the decision JSON needs {} bytes, the buffer has {}", x.json.size() + 1, len));
  });
}

rung_status rung_compute_spectrum(const rung_save* save, const char* theory, const char* options, int fcomm,
                                  rung_spectrum** out) {
  return guard([&] {
    const auto comm = comm_from(fcomm);  // (the communicator first, then the checks, agreed on by every rank)
    auto j = rung::agreed_on_every_rank(comm, [&] {
      need(out, "out");
      *out = nullptr;
      need(save, "save");
      if (!theory) rung::fail_usage("theory is NULL");
      return parse_options(options);
    });
    const auto& s = *save;
    auto h = std::make_unique<rung_spectrum>();
    // rung_set_progress(1) turns the solver's progress on unless the options say "progress": false
    if (!j.contains("progress") && rung::runtime().progress) j["progress"] = true;
    h->set = rung::select::compute_native_spectrum(*s.save, theory, j, comm);
    if (h->set.components.empty()) rung::fail("the solver returned no spectrum");
    // the accessors return the trace where it was computed, else the first direction asked for (the CLI's
    // --yambo-text writes that one too); rung_spectrum_use_component chooses another
    // (by the name the solver gives it: "Z" is the component "z")
    h->component = h->set.components.count("trace") ? "trace" : h->set.components.begin()->first;
    if (!h->set.components.count("trace") && j.contains("directions") && j["directions"].is_array() &&
        !j["directions"].empty() && j["directions"][0].is_string()) {
      const auto first = rung::response::parse_field_direction(j["directions"][0].get<std::string>()).name;
      if (h->set.components.count(first)) h->component = first;
    }
    *out = h.release();
  });
}

rung_status rung_spectrum_free(rung_spectrum* s) {
  delete s;
  return RUNG_OK;
}

rung_status rung_spectrum_use_component(rung_spectrum* s, const char* component) {
  return guard([&] {
    if (!s) rung::fail_usage("spectrum is NULL");
    auto& x = *s;
    if (!component || !*component) rung::fail_usage("component is empty");
    // a direction as the options name it ("Z", "0,0,1"), by the name the solver gave its component
    std::string name = component;
    if (!x.set.components.count(name)) {
      try {
        name = rung::response::parse_field_direction(component).name;
      } catch (const rung::Error&) {}
    }
    if (!x.set.components.count(name)) {
      std::string have;
      for (const auto& [n, c] : x.set.components) have += (have.empty() ? "" : ", ") + n;
      rung::fail_usage(fmt::format("the spectrum has no component '{}' (it has {})", component, have));
    }
    x.component = name;
  });
}

rung_status rung_spectrum_npoints(const rung_spectrum* s, int* n) {
  return guard([&] { need(n, "n") = int(need(s, "spectrum").set.energy_eV.size()); });
}

rung_status rung_spectrum_data(const rung_spectrum* s, double* energy_eV, double* eps_re, double* eps_im, int n) {
  return guard([&] {
    const auto& x = need(s, "spectrum");
    const auto& sp = x.set.components.at(x.component).spectrum;
    copy_parts(sp.eps, eps_re, eps_im, n);
    if (energy_eV) std::copy(sp.energy_eV.begin(), sp.energy_eV.end(), energy_eV);
  });
}

rung_status rung_spectrum_data_nolf(const rung_spectrum* s, double* eps_re, double* eps_im, int n) {
  return guard([&] {
    const auto& x = need(s, "spectrum");
    const auto& sp = x.set.components.at(x.component).spectrum;
    if (!sp.eps_nolf)
      rung::fail_usage(
          fmt::format("the spectrum ({}) has no eps without local fields: only an RPA run carries one", x.component));
    copy_parts(*sp.eps_nolf, eps_re, eps_im, n);
  });
}

rung_status rung_spectrum_write(const rung_spectrum* s, const char* path) {
  return guard([&] {
    const auto& x = need(s, "spectrum");
    if (!path || !*path) rung::fail_usage("path is empty");
    rung::write_spectrum_file(path, x.set);
  });
}

}  // extern "C"
