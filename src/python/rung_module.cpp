// The Python module `rung` (doc/python.md): rung's typed requests with the same canonical keys as the CLI, the
// C API and the provenance, as keyword arguments; results as dicts of numpy arrays. One translation unit over
// librung (LibTorch-free: a prediction loads librung_torch on demand, as the `rung` command does).
//   rung.info(path)                         a QE save / YAMBO SAVE summary, or a rung HDF5 file's metadata
//   rung.spectrum(save, theory="ipa", ...)  the native solver (response::SpectrumRequest's keys)
//   rung.read_spectrum(path, component="")  any spectrum file rung reads, in the same layout
//   rung.compare(a, b, component="", column="im", direction_as_trace=False)   SC, MSE, MAE of a against b
//   rung.structure(x)                       a path, an ASE Atoms or a pymatgen Structure, as rung reads it
//   rung.predict(structures, ...)           the OPTIMATE model (ml::PredictRequest's keys)
//   rung.select(inputs, ...)                the IPA-vs-RPA decision record(s) (select::SelectRequest's keys)
//   rung.set_progress(on)                   progress lines with ETA on stderr (off by default)
// Errors: rung's one-line message; bad input raises FileNotFoundError (a missing file) or ValueError, a bad
// option ValueError naming its key, a feature this build lacks NotImplementedError, anything else RuntimeError.
// The GIL is released while rung computes; a Ctrl-C on Python's main thread stops the native solver (rung.spectrum,
// rung.select's probe and native launch) between two of its steps (KeyboardInterrupt), other work when it returns.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "core/parallel.hpp"
#include "core/runtime.hpp"
#include "core/share_path.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"
#include "io/spectra/file.hpp"
#include "ml/graph.hpp"
#include "io/structures/reader.hpp"
#include "io/summary/summarize.hpp"
#include "ml/predict_request.hpp"
#include "ml/spectrum_output.hpp"
#include "response/spectrum_driver.hpp"
#include "response/spectrum_request.hpp"
#include "select/run_selection.hpp"
#include "select/select_request.hpp"
#include "select/selection.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

namespace py = pybind11;
namespace fs = std::filesystem;

namespace {

// The GIL released while rung works, so that other Python threads run. With an HDF5 built without thread safety
// (HDF5 forbids two threads in it at once, and rung reads and writes its files through it) such calls also take
// turns on one lock, taken after the GIL is released, so a thread waiting for it never holds the GIL.
class ReleasedGil {
public:
  ReleasedGil() {
    static const bool serial = !rung::h5::library_is_thread_safe();
    if (serial) lock_ = std::unique_lock<std::mutex>(mutex());
  }

private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  py::gil_scoped_release release_;  // (constructed first: the GIL goes before the lock is taken)
  std::unique_lock<std::mutex> lock_;
};

// ---- values between Python and rung ---------------------------------------------------------------------

std::string type_name(const py::handle& h) { return py::str(py::type::of(h).attr("__name__")).cast<std::string>(); }

nlohmann::json to_json(const py::handle& h, const std::string& key) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) {
    try {
      return h.cast<long long>();
    } catch (const py::cast_error&) {  // beyond long long: pybind11 would raise a RuntimeError without the key
      rung::fail_usage(fmt::format("option \"{}\": an integer beyond the 64-bit range cannot be passed to rung", key));
    }
  }
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::hasattr(h, "__fspath__")) return py::str(h.attr("__fspath__")()).cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : h.cast<py::dict>()) j[py::str(k).cast<std::string>()] = to_json(v, key);
    return j;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : h) j.push_back(to_json(v, key));
    return j;
  }
  if (py::hasattr(h, "dtype") && py::hasattr(h, "ndim")) {  // numpy: a scalar (ndim 0) as its value, an array as a list
    if (h.attr("ndim").cast<long long>() == 0) return to_json(h.attr("item")(), key);
    return to_json(h.attr("tolist")(), key);
  }
  rung::fail_usage(fmt::format("option \"{}\": a {} cannot be passed to rung", key, type_name(h)));
}

py::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<long long>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<unsigned long long>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& e : j) l.append(to_python(e));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (const auto& [k, v] : j.items()) d[py::str(k)] = to_python(v);
      return d;
    }
    default: return py::none();
  }
}

// Keyword arguments as a request's JSON object (keys checked by the request itself). A value pybind11 cannot
// convert (a str with lone surrogates, an odd object posing as numpy) is a usage error naming its key, as every
// other bad option, not pybind11's RuntimeError.
nlohmann::json kwargs_json(const py::kwargs& kwargs) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : kwargs) {
    const std::string key = py::str(k);
    if (v.is_none()) continue;
    try {
      j[key] = to_json(v, key);
    } catch (const py::cast_error&) {
      rung::fail_usage(fmt::format("option \"{}\": this {} cannot be converted for rung", key, type_name(v)));
    }
  }
  return j;
}

// A numpy array that owns `v` (moved, not copied).
template <class T>
py::array_t<T> numpy(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({heap->size()}, {sizeof(T)}, heap->data(), owner);
}
template <class T>
py::array_t<T> numpy(const std::vector<T>& v) {
  return numpy(std::vector<T>(v));
}

std::string path_of(const py::handle& h) {
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::hasattr(h, "__fspath__")) return py::str(h.attr("__fspath__")()).cast<std::string>();
  throw py::type_error("expected a path (str or os.PathLike), not " + type_name(h));
}

// ---- spectra ----------------------------------------------------------------------------------------------

py::dict optical_dict(rung::OpticalConstants&& oc) {
  py::dict d;
  d["n"] = numpy(std::move(oc.n));
  d["k"] = numpy(std::move(oc.k));
  d["reflectivity"] = numpy(std::move(oc.reflectivity));
  d["absorption_cm"] = numpy(std::move(oc.absorption_cm));
  d["loss"] = numpy(std::move(oc.loss));
  return d;
}
py::dict optical_dict(const std::vector<double>& energy, const std::vector<std::complex<double>>& eps) {
  return optical_dict(rung::optical_constants(energy, eps));
}

// {"energy_eV", "theory", "eps": {component: complex array}, "eps_nolf": {...}, "optical": {component: {n, k,
//  reflectivity, absorption_cm, loss}}, "description": {...}, "q_direction": {...}, "provenance"}
py::dict set_to_python(rung::SpectrumSet&& set) {
  py::dict eps, nolf, optical, description, qdir;
  for (auto& [name, c] : set.components) {
    optical[py::str(name)] = optical_dict(set.energy_eV, c.spectrum.eps);
    eps[py::str(name)] = numpy(std::move(c.spectrum.eps));
    if (c.spectrum.eps_nolf) nolf[py::str(name)] = numpy(std::move(*c.spectrum.eps_nolf));
    description[py::str(name)] = c.description;
    if (c.q_direction) qdir[py::str(name)] = py::make_tuple((*c.q_direction)[0], (*c.q_direction)[1], (*c.q_direction)[2]);
  }
  py::dict r;
  r["energy_eV"] = numpy(std::move(set.energy_eV));
  r["theory"] = set.theory;
  r["eps"] = eps;
  r["eps_nolf"] = nolf;
  r["optical"] = optical;
  r["description"] = description;
  r["q_direction"] = qdir;
  r["provenance"] = to_python(set.provenance);
  return r;
}

// rung's long loops ask between their steps whether to stop (core/runtime.hpp's InterruptScope), on the thread
// that released the GIL to compute. Here the answer is Python's own: PyErr_CheckSignals runs a pending SIGINT
// handler (on the main thread only; other threads are never interrupted, as in Python); its exception
// (KeyboardInterrupt) is kept for translate() below, which raises it once rung has unwound, and the error indicator
// stays clear meanwhile.
thread_local PyObject *t_interrupt_type = nullptr, *t_interrupt_value = nullptr, *t_interrupt_traceback = nullptr;
bool python_interrupt_requested() {
  if (!Py_IsInitialized()) return false;
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  Py_XDECREF(t_interrupt_type);
  Py_XDECREF(t_interrupt_value);
  Py_XDECREF(t_interrupt_traceback);
  PyErr_Fetch(&t_interrupt_type, &t_interrupt_value, &t_interrupt_traceback);
  return true;
}

// The scope is opened only for a call made on Python's main thread, the only one Python delivers a Ctrl-C to: a
// call on another thread never takes the GIL to ask. Check with the GIL held, before releasing it.
bool on_python_main_thread() {
  return PyThread_get_thread_ident() ==
         py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
}

py::dict spectrum(const py::object& save, const std::string& theory, const py::kwargs& kwargs) {
  nlohmann::json options = kwargs_json(kwargs);
  options["theory"] = theory;
  // rung.set_progress(True) turns the solver's progress on unless the call says progress=False; progress=True
  // prints for this call (on this thread) even where it is off
  std::optional<bool> asked;
  if (options.contains("progress") && options["progress"].is_boolean()) asked = options["progress"].get<bool>();
  if (!options.contains("progress") && rung::runtime().progress) options["progress"] = true;
  const auto request = rung::response::SpectrumRequest::from_json(options);
  const std::string input = path_of(save);
  request.to_options(input);  // every value checked (naming its key) before any work
  rung::require_exists(input);
  rung::SpectrumSet set;
  std::optional<rung::InterruptScope> interruptible;
  if (on_python_main_thread()) interruptible.emplace(&python_interrupt_requested);
  {
    const ReleasedGil release;
    std::optional<rung::ProgressOverride> progress;
    if (asked) progress.emplace(*asked);
    set = rung::response::compute_spectrum(request, input, rung::Comm::self(),
                                           fmt::format("python: rung.spectrum({})", input));
  }
  return set_to_python(std::move(set));
}

// read_spectrum's work, without Python objects (it runs with the GIL released)
rung::SpectrumSet load_spectrum_set(const std::string& path, const std::string& component) {
  rung::require_exists(path);
  if (rung::is_spectrum_file(path)) {
    auto set = rung::read_spectrum_file(path);
    if (!component.empty()) {  // the name as stored, else the same direction under another name (x for q_1_0_0)
      const auto keep = rung::find_component(set, component);
      if (keep == set.components.end()) rung::fail_input(path, "has no component '" + component + "'");
      const std::string name = keep->first;
      for (auto it = set.components.begin(); it != set.components.end();)
        it = it->first == name ? std::next(it) : set.components.erase(it);
    }
    return set;
  }
  auto s = rung::read_any_spectrum(path, component);
  // YAMBO's o-*.eel_* (the loss function) and o-*.alpha_* files hold another quantity in eps's columns: read as
  // eps, their "optical constants" would be numbers that mean nothing
  const std::string observable = s.meta("observable");
  if (!observable.empty() && observable != "eps")
    rung::fail_input(path, fmt::format("holds '{}', not the dielectric function: rung.read_spectrum reads eps "
                                       "files (YAMBO's o-*.eps_*)",
                                       observable));
  std::optional<std::array<double, 3>> q;
  std::string name = rung::recorded_component(s, &q);
  if (!component.empty() && rung::canonical_component(component) != name) {
    if (name.empty())
      rung::fail_input(path, fmt::format("does not record its field direction, so it cannot be "
                                         "read as component '{}': leave component out",
                                         component));
    rung::fail_input(path,
                     fmt::format("holds the {} direction, not '{}' (the file holds one direction)", name, component));
  }
  rung::SpectrumSet set;
  set.energy_eV = s.energy_eV;
  set.theory = s.meta("theory").empty() ? "unknown" : s.meta("theory");  // as the file states it (YAMBO's columns)
  set.provenance = nlohmann::json(s.metadata);
  auto& c = set.components[name.empty() ? "unknown" : name];
  c.q_direction = q;
  c.spectrum = std::move(s);
  return set;
}

// The file reading and comparing below run with the GIL released (other Python threads go on meanwhile).
py::dict read_spectrum(const py::object& file, const std::string& component) {
  const std::string path = path_of(file);
  rung::SpectrumSet set;
  {
    const ReleasedGil release;
    set = load_spectrum_set(path, component);
  }
  return set_to_python(std::move(set));
}

py::dict compare(const py::object& a, const py::object& b, const std::string& component, const std::string& column,
                 bool direction_as_trace) {
  const std::string pa = path_of(a), pb = path_of(b);
  rung::SpectrumComparison c;
  {
    const ReleasedGil release;
    c = rung::compare_spectrum_files(pa, pb, component, column, direction_as_trace);
  }
  py::dict d;
  d["sc"] = c.distance.sc;
  d["mse"] = c.distance.mse;
  d["mae"] = c.distance.mae;
  d["n_points"] = c.n_points;
  d["range_eV"] = py::make_tuple(c.lo_eV, c.hi_eV);
  d["column"] = column;
  return d;
}

// ---- structures -------------------------------------------------------------------------------------------

Eigen::Matrix3d matrix3(const py::handle& h, const char* what) {
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a || a.ndim() != 2 || a.shape(0) != 3 || a.shape(1) != 3) rung::fail_usage(fmt::format("{} is not a 3x3 matrix", what));
  Eigen::Matrix3d m;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m(i, j) = a.at(i, j);
  return m;
}

std::vector<Eigen::Vector3d> vectors(const py::handle& h, const char* what) {
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a || a.ndim() != 2 || a.shape(1) != 3) rung::fail_usage(fmt::format("{} is not an N x 3 array", what));
  std::vector<Eigen::Vector3d> v(std::size_t(a.shape(0)));
  for (py::ssize_t i = 0; i < a.shape(0); ++i) v[std::size_t(i)] = {a.at(i, 0), a.at(i, 1), a.at(i, 2)};
  return v;
}

std::vector<int> ints(const py::handle& h) {
  std::vector<int> v;
  for (const auto& e : h) {
    // an integer (Python's or numpy's); a float such as 14.0 is refused, as an input error naming what it is
    if (!py::isinstance<py::int_>(e) && !py::hasattr(e, "__index__"))
      rung::fail_usage(fmt::format("atomic numbers must be integers, got {} ({})", std::string(py::str(e)),
                                   std::string(py::str(py::type::of(e).attr("__name__")))));
    v.push_back(py::reinterpret_borrow<py::object>(e).attr("__index__")().cast<int>());
  }
  return v;
}

bool is_path(const py::handle& h) { return py::isinstance<py::str>(h) || py::hasattr(h, "__fspath__"); }

// An ASE Atoms or a pymatgen Structure (duck-typed: neither package is imported by rung), in Bohr.
rung::Structure structure_from_object(const py::handle& h) {
  rung::Structure s;
  const double a2b = rung::units::angstrom_bohr;
  if (py::hasattr(h, "get_scaled_positions") && py::hasattr(h, "get_atomic_numbers")) {  // ase.Atoms
    s.lattice = matrix3(py::array(h.attr("get_cell")()), "Atoms.cell") * a2b;
    s.frac = vectors(h.attr("get_scaled_positions")(py::arg("wrap") = false), "Atoms positions");
    s.numbers = ints(h.attr("get_atomic_numbers")());
    s.id = py::str(h.attr("get_chemical_formula")()).cast<std::string>();
  } else if (py::hasattr(h, "lattice") && py::hasattr(h, "frac_coords")) {  // pymatgen Structure
    if (py::hasattr(h, "is_ordered") && !h.attr("is_ordered").cast<bool>())
      rung::fail_usage("a disordered pymatgen Structure (partial occupancies) cannot be a crystal graph");
    s.lattice = matrix3(h.attr("lattice").attr("matrix"), "Structure.lattice.matrix") * a2b;
    s.frac = vectors(h.attr("frac_coords"), "Structure.frac_coords");
    s.numbers = ints(h.attr("atomic_numbers"));
    s.id = py::str(h.attr("composition").attr("reduced_formula")).cast<std::string>();
  } else if (py::isinstance<py::dict>(h) && h.contains("lattice_bohr")) {  // what rung.structure returns
    const auto d = py::reinterpret_borrow<py::dict>(h);
    for (const char* key : {"frac", "numbers"})
      if (!d.contains(key)) rung::fail_usage(fmt::format("a structure dict with lattice_bohr needs \"{}\" too", key));
    s.lattice = matrix3(d["lattice_bohr"], "lattice_bohr");
    s.frac = vectors(d["frac"], "frac");
    s.numbers = ints(d["numbers"]);
    if (d.contains("id")) s.id = py::str(d["id"]).cast<std::string>();
  } else {
    throw py::type_error(
        "expected a structure file path, an ase.Atoms, a pymatgen Structure or a dict of "
        "rung.structure, not " +
        type_name(h));
  }
  if (s.frac.size() != s.numbers.size()) rung::fail_usage("the structure has different numbers of positions and species");
  return s;
}

// Every structure `x` stands for: a path (a file, possibly with several structures, or a folder of them) or
// an object; a list or tuple of any of these. `sources` gets what each came from.
void collect_structures(const py::handle& x, const std::string& format, std::vector<rung::Structure>& out,
                        std::vector<std::string>& sources) {
  if (py::isinstance<py::list>(x) || py::isinstance<py::tuple>(x)) {
    for (const auto& e : x) collect_structures(e, format, out, sources);
    return;
  }
  if (is_path(x)) {
    const std::string p = path_of(x);
    // files only from here on (a folder may hold thousands): other Python threads run meanwhile
    const ReleasedGil release;
    rung::require_exists(p);
    std::vector<fs::path> files;
    if (rung::is_structure_folder(p)) files = rung::structure_files_in(p);
    else files.push_back(p);
    for (const auto& f : files)
      for (auto& s : rung::read_structures(f, rung::parse_structure_format(format))) {
        out.push_back(std::move(s));
        sources.push_back(f.string());
      }
    return;
  }
  out.push_back(structure_from_object(x));
  sources.push_back("<" + type_name(x) + ">");
}

py::dict structure_dict(rung::Structure s) {
  py::array_t<double> lattice({3, 3});
  auto l = lattice.mutable_unchecked<2>();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) l(i, j) = s.lattice(i, j);
  py::array_t<double> frac({py::ssize_t(s.frac.size()), py::ssize_t(3)});
  auto f = frac.mutable_unchecked<2>();
  for (std::size_t a = 0; a < s.frac.size(); ++a)
    for (int j = 0; j < 3; ++j) f(py::ssize_t(a), j) = s.frac[a][j];
  py::dict d;
  d["id"] = s.id;
  d["formula"] = s.formula();
  d["lattice_bohr"] = lattice;
  d["frac"] = frac;
  d["numbers"] = numpy(std::vector<int>(s.numbers));
  return d;
}

py::object structure(const py::object& x, const std::string& format) {
  std::vector<rung::Structure> all;
  std::vector<std::string> sources;
  collect_structures(x, format, all, sources);
  if (all.size() == 1 && !(py::isinstance<py::list>(x) || py::isinstance<py::tuple>(x)) &&
      !(is_path(x) && rung::is_structure_folder(path_of(x))))
    return structure_dict(std::move(all.front()));
  py::list l;
  for (auto& s : all) l.append(structure_dict(std::move(s)));
  return l;
}

// ---- prediction -------------------------------------------------------------------------------------------

#ifdef RUNG_HAVE_TORCH
// Loaded models (rung.predict's predictors, rung.select's model sets), each kept under a key with the stamp of the
// files it was loaded from (modification time and size; a change of permissions alone is not one: clear the cache
// after it): a model loads in about a second, so a script predicting or
// selecting in a loop pays it once, and a file written again (a retrain) is loaded again. A load that failed is kept
// the same way, its error raised again until a file changes, so that a failing set is not read again at every call
// (nor twice in one: rung.select hands the failure to run_selection). rung.clear_model_cache() empties both.
template <class T>
struct StampedCache {
  struct Entry {
    std::string stamp;
    std::shared_ptr<T> value;
    std::exception_ptr failure;  // a rung::Error, kept whole (a missing file stays FileNotFoundError)
  };
  std::map<std::string, Entry> entries;

  // The value for `key` loaded from files of `stamp`: the kept one, else load() (its rung::Error kept and raised).
  template <class Load>
  std::shared_ptr<T> get(const std::string& key, const std::string& stamp, Load&& load) {
    auto& e = entries[key];
    if (e.stamp == stamp && (e.value || e.failure)) {
      if (e.failure) std::rethrow_exception(e.failure);
      return e.value;
    }
    e = {stamp, nullptr, nullptr};
    try {
      e.value = load();
    } catch (const rung::Interrupted&) {
      throw;  // (not the files' fault: loaded again at the next call)
    } catch (const rung::Error&) {
      // kept while the files stay as they were; a load without files to watch (the default model of rung.predict,
      // keyed by the request alone) is tried again at the next call
      if (!stamp.empty()) e.failure = std::current_exception();
      throw;
    }
    return e.value;
  }
  void clear() { entries.clear(); }
};
std::mutex models_mutex;  // (both caches)
StampedCache<const rung::ml::SpectrumPredictor> predictors;
StampedCache<rung::select::Predictor> model_sets;

std::string file_stamp(const std::filesystem::path& p) {
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(p, ec);
  if (ec) return {};
  const auto size = std::filesystem::is_regular_file(p, ec) ? std::filesystem::file_size(p, ec) : 0;
  return fmt::format("{}:{}", t.time_since_epoch().count(), size);
}

// rung.predict's model: by the request (the model file by its canonical path) and the file's stamp.
std::shared_ptr<const rung::ml::SpectrumPredictor> model_for(const rung::ml::PredictRequest& r) {
  auto key_json = r.to_json();
  key_json.erase("format");
  key_json.erase("threads");  // not applied in a library host (Runtime::manage_threads is off): always 1 here
  std::string stamp;
  if (!r.model.empty()) {
    std::error_code ec;
    const auto canonical = std::filesystem::canonical(r.model, ec);
    if (!ec) key_json["model"] = canonical.string(), stamp = file_stamp(canonical);
  }
  std::lock_guard lock(models_mutex);
  return predictors.get(key_json.dump(), stamp, [&] {
    const auto options = r.predictor_options();
    const std::string target = r.checked_target();
    auto p = r.model.empty()
                 ? rung::ml::SpectrumPredictor::load_default(rung::ml::parse_target(target.empty() ? "ipa" : target), options)
                 : rung::ml::SpectrumPredictor::load(r.model, options);
    if (!target.empty() && rung::ml::parse_target(target) != p.info().target)
      rung::fail_usage(fmt::format("target {} but {} predicts {}", target, p.path().string(),
                                   rung::ml::to_string(p.info().target)));
    return std::make_shared<const rung::ml::SpectrumPredictor>(std::move(p));
  });
}

// rung.select's models (a model set: a folder of ipa.h5, rpa.h5, sc.h5 and model_set.json, or one sc model file), by
// canonical path and the stamps of those files. A path that does not exist gives null: run_selection then says so
// as it would.
std::shared_ptr<rung::select::Predictor> selection_models_for(const std::string& model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path where = fs::canonical(model.empty() ? rung::share_dir() / "models" : fs::path(model), ec);
  if (ec) return nullptr;
  std::string stamp = file_stamp(where);
  if (fs::is_directory(where, ec))
    for (const char* f : {"ipa.h5", "rpa.h5", "sc.h5", "model_set.json"}) stamp += "|" + file_stamp(where / f);
  std::lock_guard lock(models_mutex);
  return model_sets.get(where.string(), stamp, [&] {
    // (the set at `where`, which the key names: a relative spelling resolved now, not at a later call's working
    // folder; the default set by its own name, as run_selection would record it)
    return std::shared_ptr<rung::select::Predictor>(
        rung::select::load_model_predictor(model.empty() ? fs::path() : where));
  });
}
#endif

py::list predict(const py::object& structures, const py::kwargs& kwargs) {
  const auto request = rung::ml::PredictRequest::from_json(kwargs_json(kwargs));
  // The module leaves the process's thread pools as the interpreter has them (Runtime::manage_threads stays off,
  // as for every library host), so a LibTorch thread count would be silently ignored: refused instead.
  if (request.threads != 1)
    rung::fail_usage(
        fmt::format("option \"threads\" ({}) is not applied from Python: rung leaves the process's "
                    "thread pools as they are; set OMP_NUM_THREADS before importing rung",
                    request.threads));
  request.predictor_options();  // checked, naming the key
  std::vector<rung::Structure> all;
  std::vector<std::string> sources;
  collect_structures(structures, request.format, all, sources);
  for (std::size_t i = 0; i < all.size(); ++i)
    rung::graph::validate_for_model(all[i], all[i].id.empty() ? sources[i] : sources[i] + " (" + all[i].id + ")");
#ifndef RUNG_HAVE_TORCH
  rung::fail_unavailable("rung was built without LibTorch (RUNG_WITH_TORCH=OFF): spectrum prediction is not available");
#else
  std::vector<rung::ml::ModelOutput> pred;
  std::shared_ptr<const rung::ml::SpectrumPredictor> model;
  {
    const ReleasedGil release;
    model = model_for(request);
    pred = model->predict(all);
  }
  const auto grid = model->info().grid.values_eV();
  py::list out;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    auto& q = pred[i];
    py::dict d;
    d["id"] = all[i].id;
    d["source"] = sources[i];
    d["formula"] = all[i].formula();
    d["target"] = rung::ml::to_string(q.target);
    d["model"] = model->path().string();
    d["untrained"] = model->info().untrained;
    if (!q.spectrum.empty()) {
      // Re eps by Kramers-Kronig of the predicted Im eps and the optical constants, as for computed spectra
      auto o = rung::ml::predicted_optics(grid, q.spectrum);
      d["energy_eV"] = numpy(grid);
      d["eps_imag"] = numpy(std::move(q.spectrum));
      d["eps_real"] = numpy(std::move(o.eps_real));
      d["optical"] = optical_dict(std::move(o.optical));
      d["re_eps_source"] = rung::ml::re_eps_source(grid);
    }
    if (!q.spread.empty()) d["eps_imag_spread"] = numpy(std::move(q.spread));
    if (q.sc) d["sc"] = *q.sc;
    if (q.sc_spread) d["sc_spread"] = *q.sc_spread;
    d["warnings"] = q.warnings;
    out.append(d);
  }
  return out;
#endif
}

// ---- selection --------------------------------------------------------------------------------------------

py::object select_inputs(const py::object& inputs, const py::kwargs& kwargs) {
  auto request = rung::select::SelectRequest::from_json(kwargs_json(kwargs));
  request.policy();  // validated, naming the key
  request.size();
  const bool many = py::isinstance<py::list>(inputs) || py::isinstance<py::tuple>(inputs);
  std::vector<py::object> items;
  if (many)
    for (const auto& e : inputs) items.push_back(py::reinterpret_borrow<py::object>(e));
  else items.push_back(inputs);
  rung::select::SelectionContext context;
  context.progress = rung::runtime().progress;
  std::vector<nlohmann::json> records;
  std::vector<std::string> paths;
  std::vector<rung::Structure> objects;
  for (const auto& e : items) {
    if (is_path(e)) paths.push_back(path_of(e));
    else objects.push_back(structure_from_object(e));
  }
  if (!paths.empty() && !objects.empty()) rung::fail_usage("give rung.select either paths or structure objects, not both");
  std::optional<rung::InterruptScope> interruptible;
  if (on_python_main_thread()) interruptible.emplace(&python_interrupt_requested);
  {
    const ReleasedGil release;
    const rung::select::SelectionSetup setup(request, context);  // (the request's own checks before any model loads)
    std::shared_ptr<rung::select::Predictor> models;  // (kept between calls: a model set loads in about a second)
#ifdef RUNG_HAVE_TORCH
    try {
      models = selection_models_for(request.model);
    } catch (const rung::Interrupted&) {
      throw;
    } catch (const rung::Error&) {
      // a save is still decided by its probe, and run_selection records why there is no model
      context.predictor_failure = std::current_exception();
    }
#endif
    context.predictor = models.get();
    if (!paths.empty()) {
      records = rung::select::run_selection(paths, setup, rung::Comm::self(), context).records;
    } else {
      std::unique_ptr<rung::select::Predictor> loaded;
      if (!models && context.predictor_failure) std::rethrow_exception(context.predictor_failure);
      if (!models) loaded = rung::select::load_model_predictor(request.model);  // (raises why it cannot)
      rung::select::Predictor* predictor = models ? models.get() : loaded.get();
      for (auto& s : objects) {
        rung::select::SelectInput in;
        in.kind = "memory";
        in.structure = std::move(s);
        records.push_back(rung::select::select_and_launch(in, predictor, setup).record);
        // logged as it is made (as run_selection and the C API do): a later structure's failure loses none
        rung::select::append_decision_log(request.log, {records.back()});
      }
    }
  }
  // one path can hold several structures (JSON lines, a CIF of several blocks): a list then, as rung.structure
  if (!many && records.size() == 1) return to_python(records.front());
  if (!many && records.empty()) return py::none();
  py::list l;
  for (const auto& r : records) l.append(to_python(r));
  return l;
}

// ---- info -------------------------------------------------------------------------------------------------

py::dict info(const py::object& p) {
  const std::string path = path_of(p);
  nlohmann::json j;
  {
    const ReleasedGil release;
    std::error_code ec;
    if (fs::is_regular_file(path, ec) && rung::h5::has_hdf5_signature(path)) j = rung::summarize_rung_file(path);
    else j = rung::summarize_run(path).to_json();
  }
  return to_python(j);
}

// rung::Error -> a Python exception with rung's one-line message.
void translate(std::exception_ptr p) {
  if (p && t_interrupt_type) {  // a Ctrl-C taken during the call wins over what else unwound it (as in Python)
    PyErr_Restore(t_interrupt_type, t_interrupt_value, t_interrupt_traceback);  // (the references move)
    t_interrupt_type = t_interrupt_value = t_interrupt_traceback = nullptr;
    return;
  }
  try {
    if (p) std::rethrow_exception(p);
  } catch (const rung::Interrupted&) {  // (the handler's own exception, when it left one, was raised above)
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  } catch (const rung::FeatureUnavailable& e) {
    PyErr_SetString(PyExc_NotImplementedError, e.what());
  } catch (const rung::MissingFile& e) {  // a file that is not there (rung::fail_missing)
    PyErr_SetString(PyExc_FileNotFoundError, e.what());
  } catch (const rung::Error& e) {  // malformed or unsupported input and bad options: ValueError
    PyErr_SetString(e.kind() == rung::ErrorKind::runtime ? PyExc_RuntimeError : PyExc_ValueError, e.what());
  }
}

}  // namespace

PYBIND11_MODULE(rung, m) {
  m.doc() = "rung: optical spectra of QE and YAMBO runs (native IPA/RPA, optical constants, OPTIMATE predictions, "
            "the IPA-vs-RPA decision). Keyword arguments are rung's canonical request keys (doc/python.md).";
  m.attr("__version__") = rung::version_string;
  py::register_exception_translator(&translate);

  py::list spectrum_keys, predict_keys, select_keys, optical;
  for (const auto& k : rung::response::SpectrumRequest::keys()) spectrum_keys.append(k);
  for (const auto& k : rung::ml::PredictRequest::keys()) predict_keys.append(k);
  for (const auto& k : rung::select::SelectRequest::keys()) select_keys.append(k);
  for (const auto& c : rung::optical_constant_names()) optical.append(c.name);
  m.attr("SPECTRUM_KEYS") = spectrum_keys;
  m.attr("PREDICT_KEYS") = predict_keys;
  m.attr("SELECT_KEYS") = select_keys;
  m.attr("OPTICAL_CONSTANTS") = optical;

  m.def("info", &info, py::arg("path"),
        "Summary of a QE prefix.save or YAMBO SAVE (what `rung info --json` prints), or a rung HDF5 file's metadata.");
  m.def("spectrum", &spectrum, py::arg("save"), py::arg("theory") = "ipa",
        "The native IPA/RPA dielectric function of a QE save. Keywords: rung.SPECTRUM_KEYS (block, bands, "
        "directions, broadening_eV, ...). Returns {energy_eV, theory, eps: {component: complex array}, eps_nolf, "
        "optical: {component: {n, k, reflectivity, absorption_cm, loss}}, provenance, ...}.");
  m.def("read_spectrum", &read_spectrum, py::arg("path"), py::arg("component") = "",
        "A spectrum file of any format rung reads (rung HDF5, YAMBO o-*.eps_* file, epsilon.x, turbo), as "
        "rung.spectrum returns it; the component is the direction the file records (\"unknown\" where it records "
        "none), theory \"unknown\" where the file does not state it. A file of another quantity than eps (YAMBO's "
        "o-*.eel_*) is a ValueError.");
  m.def("compare", &compare, py::arg("a"), py::arg("b"), py::arg("component") = "", py::arg("column") = "im",
        py::arg("direction_as_trace") = false,
        "SC, MSE and MAE of spectrum file a against the reference b (`rung compare`), like with like: a trace "
        "against one direction is a ValueError unless direction_as_trace (a cubic crystal).");
  m.def("structure", &structure, py::arg("structure"), py::arg("format") = "auto",
        "A structure as rung reads it: {id, formula, lattice_bohr (rows), frac, numbers}; from a file path, a folder "
        "(a list), an ase.Atoms or a pymatgen Structure.");
  m.def(
      "predict", &predict, py::arg("structures"),
      "OPTIMATE predictions for structures (paths, folders, ase.Atoms, pymatgen Structure, or a list of them). "
      "Keywords: rung.PREDICT_KEYS (model, target, batch, precision, raw, ...). Returns a list of dicts: id, formula, "
      "target, energy_eV, eps_imag, eps_real (Kramers-Kronig of eps_imag, re_eps_source), optical: {n, k, "
      "reflectivity, absorption_cm, loss} (ipa/rpa), or sc (sc); warnings.");
  m.def(
      "clear_model_cache",
      [] {
#ifdef RUNG_HAVE_TORCH
        std::lock_guard lock(models_mutex);
        predictors.clear();
        model_sets.clear();
#endif
      },
      "Forgets the models rung.predict and rung.select have loaded (they are kept by file, and loaded again when a "
      "file changes).",
      py::call_guard<py::gil_scoped_release>());
  m.def("select", &select_inputs, py::arg("inputs"),
        "The IPA-vs-RPA decision for a QE save, a structure file or object (or a list): the decision record as a "
        "dict (a list for a list). Keywords: rung.SELECT_KEYS (threshold, probe, launch, model, ...).");
  m.def(
      "set_progress",
      [](bool on) {
        auto r = rung::runtime();
        r.progress = on;
        rung::configure(r);
      },
      py::arg("enabled"),
      "Progress lines with ETA on stderr (off by default); for one rung.spectrum call, progress=True or False "
      "(on the calling thread only).");
}
