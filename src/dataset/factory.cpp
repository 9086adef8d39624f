#include "dataset/factory.hpp"

#include "core/atomic_output.hpp"
#include "core/elements.hpp"
#include "core/energy_grid.hpp"
#include "core/json_file.hpp"
#include "core/error.hpp"
#include "core/file_lock.hpp"
#include "core/metrics.hpp"
#include "core/runtime.hpp"
#include "core/share_path.hpp"
#include "core/text_file.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "ml/dataset_file.hpp"
#include "io/structures/reader.hpp"
#include "response/convergence.hpp"
#include "dataset/pseudo_table.hpp"
#include "dataset/qe_runs.hpp"
#include "dataset/symmetry.hpp"

#include <csignal>
#include <cerrno>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

namespace rung::dataset {
using elements::atomic_number;
using elements::symbol;
using namespace units;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

json structure_json(const Structure& s) {
  json lat = json::array(), frac = json::array(), species = json::array();
  for (int i = 0; i < 3; ++i)
    lat.push_back({s.lattice(i, 0) * bohr_angstrom, s.lattice(i, 1) * bohr_angstrom, s.lattice(i, 2) * bohr_angstrom});
  for (std::size_t a = 0; a < s.size(); ++a) {
    frac.push_back({s.frac[a][0], s.frac[a][1], s.frac[a][2]});
    species.push_back(symbol(s.numbers[a]));
  }
  return {{"lattice_angstrom", lat}, {"species", species}, {"frac_coords", frac}};
}

Structure structure_from(const json& j, const std::string& id) {
  Structure s;
  s.id = id;
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) s.lattice(i, k) = j.at("lattice_angstrom").at(i).at(k).get<double>() * angstrom_bohr;
  for (const auto& sp : j.at("species")) s.numbers.push_back(atomic_number(sp.get<std::string>()));
  for (const auto& f : j.at("frac_coords")) s.frac.emplace_back(f.at(0).get<double>(), f.at(1).get<double>(), f.at(2).get<double>());
  return s;
}

// Im eps along x, y and z on `grid` from the solver's components (local fields or not); directions the crystal
// system makes redundant are copied from x (cubic: y = z = x; uniaxial: y = x), as the paper's databases did.
std::array<std::vector<double>, 3> cartesian_on_grid(const SpectrumSet& set, const std::vector<double>& grid,
                                                     bool local_fields, const std::string& what) {
  auto im = [&](const std::string& c) {
    const auto& sp = set.components.at(c).spectrum;
    if (!local_fields && !sp.eps_nolf) fail(fmt::format("the native {} result has no {} spectrum", what, c));
    const auto& eps = local_fields ? sp.eps : *sp.eps_nolf;
    std::vector<double> v(eps.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = eps[i].imag();
    return interpolate_linear(sp.energy_eV, v, grid);
  };
  if (!set.components.count("x")) fail(fmt::format("the native {} result has no x component", what));
  std::array<std::vector<double>, 3> xyz;
  xyz[0] = im("x");
  xyz[1] = set.components.count("y") ? im("y") : xyz[0];
  xyz[2] = set.components.count("z") ? im("z") : xyz[0];
  for (const auto& d : xyz)
    for (double v : d)
      if (!std::isfinite(v)) fail(fmt::format("the native {} spectrum contains NaN or Inf", what));
  return xyz;
}

std::vector<float> trace_of(const std::array<std::vector<double>, 3>& xyz) {
  std::vector<float> t(xyz[0].size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>((xyz[0][i] + xyz[1][i] + xyz[2][i]) / 3.0);
  return t;
}

// The three components as one 3 x n row-major array; empty when they are all equal (nothing beyond the trace).
std::vector<float> components_of(const std::array<std::vector<double>, 3>& xyz) {
  if (xyz[1] == xyz[0] && xyz[2] == xyz[0]) return {};
  std::vector<float> out;
  for (const auto& d : xyz) out.insert(out.end(), d.begin(), d.end());
  return out;
}

std::string pw_command_line(const FactoryRequest& s, const std::string& input) {
  const std::string pw = s.pw_command + " -in " + input;
  return s.qe_ranks > 1 ? fmt::format("{} -np {} {}", s.mpirun_command, s.qe_ranks, pw) : pw;
}

// Runs pw.x; a failure throws with the end of its output as the reason.
CommandResult run_pw(const FactoryRequest& settings, const fs::path& dir, const std::string& name, json& timings) {
  const auto r = run_in(dir, pw_command_line(settings, name + ".in"), dir / (name + ".out"));
  // summed over the runs of one name: an nscf repeated with more bands counts both runs
  timings[name + "_wall_s"] = timings.value(name + "_wall_s", 0.0) + r.wall_s;
  timings[name + "_cpu_s"] = timings.value(name + "_cpu_s", 0.0) + r.cpu_s;
  if (r.lost)
    throw RunStopped(
        fmt::format("pw.x {} in {} ran, but its exit status was lost (this process ignores SIGCHLD): "
                    "the run stops and records nothing for this material",
                    name, dir.string()));
  if (r.exit_code == 126 || r.exit_code == 127 || r.exit_code < 0)
    throw RunStopped(
        fmt::format("pw.x {} could not be started in {} (exit code {}): check --pw-command ({}) and PATH; "
                    "the run stops here and records nothing for this material",
                    name, dir.string(), r.exit_code, settings.pw_command));
  if (r.signal == SIGHUP || r.signal == SIGINT || r.signal == SIGTERM)
    throw RunStopped(
        fmt::format("pw.x {} in {} was stopped by signal {}: the run stops, and the material is computed "
                    "again at the next start",
                    name, dir.string(), r.signal));
  // (a failure on a full disk stops the run: compute_material_with's check, which every failure passes)
  if (r.signal == SIGKILL)  // the kernel's out-of-memory killer, most likely: another try later
    throw TransientFailure(fmt::format("pw.x {} was killed (SIGKILL: out of memory?): {}", name,
                                       pw_failure_reason(dir / (name + ".out"))));
  // pw.x ends "normally" after electron_maxstep unconverged iterations (e.g. the triplet O2 solid with
  // fixed occupations): its density must not be used; some builds exit non-zero after it (checked first)
  std::ifstream log(dir / (name + ".out"));
  for (std::string line; std::getline(log, line);)
    if (line.find("convergence NOT achieved") != std::string::npos)
      fail(fmt::format("pw.x {}: {}", name, "scf convergence NOT achieved (metallic or magnetic with fixed occupations?)"));
  if (r.exit_code != 0)
    fail(fmt::format("pw.x {} failed (exit code {}): {}", name, r.exit_code, pw_failure_reason(dir / (name + ".out"))));
  return r;
}

// The scf of a material is the same in both tiers (same structure, cutoff, k density and threshold), so a run
// whose other tier has not finished the material keeps its density (the save folder without wavefunctions, with
// its scf.in, scf.out and cost) in WORK/scf/<id>, and a later run whose scf.in is the same text starts its nscf
// from it instead of running the scf again; it then removes the kept folder (each tier's run has had the scf
// once). A run removes the kept folders of materials both tiers have finished when it starts. The nscf reads only the
// density and the XML, so the labels are the same as with an scf of its own (tests/dataset).
fs::path kept_scf_dir(const fs::path& work_dir, const std::string& id) { return work_dir / "scf" / id; }

// Takes the kept scf (renamed to KEPT.taken.<pid> first, so that no other run removes or replaces it during the
// copy) and copies it into DIR (scf.in, scf.out, out/rung.save) when its input is SCF_TEXT; returns what the scf
// cost where it ran, or nothing (no kept scf, another input, or a copy that failed: the caller runs it). The
// taken folder is removed either way: each tier's run has the scf once.
std::optional<json> restore_kept_scf(const fs::path& kept_in, const std::string& scf_text, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(kept_in / "scf.json", ec)) return std::nullopt;
  const fs::path kept = kept_in.string() + fmt::format(".taken.{}", ::getpid());
  fs::remove_all(kept, ec);
  fs::rename(kept_in, kept, ec);
  if (ec) return std::nullopt;  // taken or replaced by the other farm meanwhile
  struct RemoveTaken {
    fs::path p;
    ~RemoveTaken() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } const remove_taken{kept};
  try {
    if (read_text_file(kept / "scf.in") != scf_text) return std::nullopt;
    json cost = read_json_file(kept / "scf.json");
    fs::create_directories(dir / "out");
    fs::copy(kept / "rung.save", dir / "out" / "rung.save", fs::copy_options::recursive);
    fs::copy_file(kept / "scf.in", dir / "scf.in");
    fs::copy_file(kept / "scf.out", dir / "scf.out");
    return cost;
  } catch (const std::exception&) {  // a kept folder being replaced by the other farm: run the scf instead
    fs::remove_all(dir / "out", ec);
    fs::remove(dir / "scf.in", ec);
    fs::remove(dir / "scf.out", ec);
    return std::nullopt;
  }
}

// Keeps DIR's scf (its density and XML; the pseudopotentials pw.x copied; no wavefunctions) in KEPT, replacing
// what was there, through a temporary folder renamed into place. A failure leaves no temporary folder and is a
// rung::Error naming KEPT.
void keep_scf(const fs::path& dir, const fs::path& kept, const json& cost) {
  const fs::path tmp = kept.string() + fmt::format(".tmp.{}", ::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp / "rung.save");
    for (const auto& e : fs::directory_iterator(dir / "out" / "rung.save"))
      if (e.is_regular_file() && !e.path().filename().string().starts_with("wfc"))
        fs::copy_file(e.path(), tmp / "rung.save" / e.path().filename());
    fs::copy_file(dir / "scf.in", tmp / "scf.in");
    fs::copy_file(dir / "scf.out", tmp / "scf.out");
    // on disk before scf.json says the folder is whole: after a power loss a kept density cut short would be
    // taken, and the material's nscf would fail for good
    for (const auto& e : fs::recursive_directory_iterator(tmp))
      if (e.is_regular_file()) {
        const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
        const int rc = fd < 0 ? -1 : ::fsync(fd);
        if (fd >= 0) ::close(fd);
        if (rc != 0) fail(fmt::format("{}: cannot write the kept scf to disk (fsync failed)", e.path().string()));
      }
    write_text_atomically(tmp / "scf.json", cost.dump(1) + "\n");
  } catch (const Error&) {
    fs::remove_all(tmp, ec);  // a full disk: nothing half-copied left behind
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    fail(fmt::format("{}: cannot keep the scf: {}", kept.string(), e.what()));
  }
  fs::remove_all(kept, ec);
  fs::rename(tmp, kept, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(tmp, ec);
    fail(fmt::format("{}: cannot move the kept scf into place: {}", kept.string(), why));
  }
}

// The bands the other tier's nscf of the same material found up to VBM + window, when its record exists with
// the same window and cutoff (a measurement on another k grid: on 163 materials with both tiers the full grid
// needed -1..+2 bands more than the lite grid). Nothing otherwise (or from a record that cannot be read: the
// free-electron estimate is used instead).
std::optional<int> other_tier_bands(const fs::path& file, double window_eV, double ecutwfc_Ry) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  try {
    const json r = read_json_file(file);
    const auto n = r.find("nbnd_optics");
    const auto s = r.find("settings");
    if (n == r.end() || !n->is_number_integer() || s == r.end() || !s->is_object()) return std::nullopt;
    if (std::abs(s->value("window_eV", -1.0) - window_eV) > 1e-9) return std::nullopt;
    if (std::abs(r.value("ecutwfc_Ry", -1.0) - ecutwfc_Ry) > 1e-9) return std::nullopt;
    return n->get<int>() > 0 ? std::optional<int>(n->get<int>()) : std::nullopt;
  } catch (const std::exception&) {  // a record being written by the other farm
    return std::nullopt;
  }
}

}  // namespace

fs::path record_path(const fs::path& work_dir, const std::string& id, Tier tier) {
  return work_dir / "records" / (id + (tier == Tier::lite ? ".lite.json" : ".json"));
}

fs::path qe_dir(const fs::path& work_dir, const std::string& id, Tier tier) {
  return work_dir / "qe" / (id + (tier == Tier::lite ? ".lite" : ""));
}

ScfPlan plan_scf(const Structure& input, const FactoryRequest& settings, const PseudoTable& table) {
  std::set<std::string> missing;
  for (int z : input.numbers)
    if (!table.find(symbol(z))) missing.insert(symbol(z));
  if (!missing.empty()) {
    std::string m;
    for (const auto& e : missing) m += (m.empty() ? "" : ", ") + e;
    fail(fmt::format("no pseudopotential for {} in {}", m, (table.dir() / "table.json").string()));
  }
  ScfPlan plan{analyse_symmetry(input, settings.symprec_angstrom * angstrom_bohr, settings.structures.string()), 0, {}};
  const Structure& st = plan.sym.standardized;
  // counted in the standardized primitive cell that pw.x computes: a 2-atom conventional bcc Na cell has
  // an even count, its 1-atom primitive cell an odd one
  plan.valence_electrons = valence_electrons(st, table);
  double ecut = 0;
  for (int z : st.numbers) ecut = std::max(ecut, table.find(symbol(z))->ecutwfc_Ry);
  if (settings.ecutwfc_Ry) ecut = *settings.ecutwfc_Ry;
  plan.scf =
      PwRun{"scf", ecut, symmetric_grid(automatic_density_grid(st, settings.scf_kppa_used()), plan.sym.rotations), 0,
            settings.scf_conv_thr_Ry};
  // a few empty bands so that the scf output already shows the gap
  plan.scf.nbnd = static_cast<int>(std::round(plan.valence_electrons)) / 2 + 4;
  return plan;
}

// A record outlives the machine that made it, so it names no machine's absolute paths. Settings: rung's own
// pseudopotential table by its place in rung's share folder (a table given by the user keeps its path), the work
// folder, the structure file and the output by their names.
static void make_settings_portable(json& s) {
  if (auto p = s.find("pseudo_dir"); p != s.end() && p->is_string()) {
    const fs::path dir = p->get<std::string>();
    std::error_code ec;
    const bool own = fs::equivalent(dir, share_file("pseudo"), ec) ||
                     (dir.is_absolute() && dir.filename() == "pseudo" && dir.parent_path().filename() == "share");
    if (own) *p = "share/pseudo";
  }
  for (const char* k : {"work_dir", "out", "structures"})
    if (auto w = s.find(k); w != s.end() && w->is_string() && fs::path(w->get<std::string>()).is_absolute())
      *w = fs::path(w->get<std::string>()).filename().string();
}

// A whole record: its settings as above, and the QE files of a spectrum's provenance by their place in the work
// folder (qe/<id>/...). Applied when a record is written and again when records are merged into DATA.h5, so that
// records written before this rule leave the data set portable too.
static void make_portable(json& rec) {
  if (auto s = rec.find("settings"); s != rec.end() && s->is_object()) make_settings_portable(*s);
  const std::string id = rec.value("id", "");
  if (id.empty()) return;
  // either tier's folder (qe_dir; records before 2026-12-05 had the full tier's for both)
  std::vector<std::string> keys;
  for (Tier t : {Tier::full, Tier::lite}) keys.push_back("/qe/" + qe_dir({}, id, t).filename().string() + "/");
  for (const char* prov : {"ipa_provenance", "rpa_provenance"}) {
    auto p = rec.find(prov);
    if (p == rec.end() || !p->is_object()) continue;
    auto in = p->find("inputs");
    if (in == p->end() || !in->is_object()) continue;
    for (const char* k : {"qe_save", "qe_xml"}) {
      auto v = in->find(k);
      if (v == in->end() || !v->is_string() || !fs::path(v->get<std::string>()).is_absolute()) continue;
      const std::string path = v->get<std::string>();
      for (const auto& key : keys)
        if (const auto at = path.rfind(key); at != std::string::npos) {
          *v = path.substr(at + 1);
          break;
        }
    }
  }
}

static json portable_settings(const FactoryRequest& settings) {
  json j = settings.to_json();
  make_settings_portable(j);
  return j;
}

namespace {
// a record that a run with these settings will not compute again (below)
bool finished(const fs::path& rec_file, const FactoryRequest& settings);

// Fixed occupations hide a (semi)metal: with no KS gap the spectrum would be silently wrong (first seen on a
// carbon allotrope, agm002050577, gap -0.18 eV with rung's table), so such a material fails.
constexpr double min_gap_eV = 0.05;
void fail_if_metal(double gap_eV, const char* where) {
  if (!(gap_eV > min_gap_eV))
    fail(
        fmt::format("KS gap {:.3f} eV{} <= {:g} eV: a metal or semimetal with rung's pseudopotentials; fixed "
                    "occupations would give a wrong spectrum",
                    gap_eV, where, min_gap_eV));
}

// Less than this left on the work folder's disk when a material fails: the disk's failure, not the material's.
constexpr std::uintmax_t min_free_disk_bytes = std::uintmax_t(64) << 20;

// pw.x's "c_bands: N eigenvalues not converged" warnings in LOG (the Davidson threshold not reached at a k-point)
int count_unconverged_eigenvalue_warnings(const fs::path& log) {
  std::ifstream in(log);
  int n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("eigenvalues not converged") != std::string::npos) ++n;
  return n;
}

// The attempts a transient failure recorded in REC_FILE counts (0 when there is none, or it is unreadable).
int previous_transient_attempts(const fs::path& rec_file) {
  try {
    std::error_code ec;
    if (!fs::is_regular_file(rec_file, ec)) return 0;
    const json r = read_json_file(rec_file);
    return r.value("transient", false) ? r.value("attempts", 1) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}
}  // namespace

json compute_material_with(const Structure& input, const FactoryRequest& settings, const PseudoTable& table,
                           const fs::path& work_dir) {
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu_self0 = self_cpu_seconds();
  double cpu_children = 0;
  json rec{{"id", input.id},
           {"formula", input.formula()},
           {"natoms", input.size()},
           {"rung_version", version_string},
           {"settings", portable_settings(settings)},
           {"input_structure", structure_json(input)},
           {"status", "failed"},
           {"tier", to_string(settings.tier)}};
  json timings = json::object();
  const fs::path dir = qe_dir(work_dir, input.id, settings.tier);
  try {
    input.validate(settings.structures.string() + " (" + input.id + ")");
    if (static_cast<int>(input.size()) > settings.max_atoms) {
      // the primitive cell decides: a conventional cell or supercell of a small one is computed
      const auto primitive =
          analyse_symmetry(input, settings.symprec_angstrom * angstrom_bohr, settings.structures.string())
              .standardized.size();
      if (static_cast<int>(primitive) > settings.max_atoms) {
        rec["status"] = "skipped";
        rec["natoms_primitive"] = primitive;
        rec["reason"] = fmt::format("{} atoms in the primitive cell ({} in the input) > --max-atoms {}", primitive,
                                    input.size(), settings.max_atoms);
        rec["timings"] = timings;  // (every record has them: the run's progress line reads them)
        return rec;
      }
    }
    const ScfPlan plan = plan_scf(input, settings, table);
    const Structure& st = plan.sym.standardized;
    const double nel = plan.valence_electrons;
    rec["valence_electrons"] = nel;
    if (std::abs(nel - std::round(nel)) > 1e-6 || static_cast<long>(std::round(nel)) % 2 != 0)
      fail(fmt::format("odd number of valence electrons ({:g} in the {}-atom primitive cell): no insulator with "
                       "fixed occupations (the paper skipped these too)", nel, st.size()));
    const auto& sym = plan.sym;
    rec["spacegroup"] = sym.spacegroup;
    rec["international"] = sym.international;
    rec["crystal_system"] = sym.crystal_system;
    std::string dirs(sym.directions.begin(), sym.directions.end());
    rec["directions"] = dirs;
    rec["structure"] = structure_json(st);
    const double ecut = plan.scf.ecutwfc_Ry;
    rec["ecutwfc_Ry"] = ecut;

    fs::remove_all(dir);  // a material in flight when a run was killed starts again from scratch
    fs::create_directories(dir);

    // how pw.x ran (its timings depend on it): run_in's malloc settings and OpenMP threads
    const char* omp = std::getenv("OMP_NUM_THREADS");
    rec["pw_environment"] = {{"GLIBC_TUNABLES", child_glibc_tunables()},
                             {"OMP_NUM_THREADS", omp && *omp ? std::string(omp) : std::string("1")}};
    const PwRun& scf = plan.scf;
    const std::string scf_text = pw_input(st, table, scf);
    const Tier other = settings.tier == Tier::lite ? Tier::full : Tier::lite;
    const fs::path kept = kept_scf_dir(work_dir, input.id);
    if (const auto cost = restore_kept_scf(kept, scf_text, dir)) {
      rec["scf_reused"] = {{"from", "scf/" + input.id}, {"cost_where_it_ran", *cost}};
    } else {
      write_text_atomically(dir / "scf.in", scf_text);
      const auto r = run_pw(settings, dir, "scf", timings);
      cpu_children += r.cpu_s;
      try {
        // kept only for the other tier's run of this material: none comes when its record is finished
        if (!finished(record_path(work_dir, input.id, other), settings) &&
            int(input.size()) <= settings.keep_scf_max_atoms)
          keep_scf(dir, kept,
                   {{"cpu_s", r.cpu_s},
                    {"wall_s", r.wall_s},
                    {"tier", to_string(settings.tier)},
                    {"rung_version", version_string}});
      } catch (const std::exception&) {  // only a saving: a failure to keep costs the other tier an scf
      }
    }
    rec["k_scf"] = scf.k;
    const auto scf_save = qe::Save::read(dir / "out" / "rung.save");
    // A gap on any k grid is at least the crystal's: an scf (its nocc + 4 bands) without one already shows a
    // metal or semimetal, before any nscf is paid for
    fail_if_metal(band_facts(scf_save, 0).gap_eV, " on the scf k grid");

    // The band count: what the other tier's nscf of this material needed, plus a margin (doc/dataset.md, "Bands
    // from the other tier"); the free-electron estimate times the headroom where no such record exists.
    const auto measured = other_tier_bands(record_path(work_dir, input.id, other), settings.window_eV, ecut);
    const int nbnd = measured ? std::max(*measured + other_tier_band_margin(*measured), plan.scf.nbnd)
                              : estimate_bands(scf_save, settings.window_eV, settings.nscf_band_headroom);
    rec["nscf_band_estimate"] =
        measured
            ? json{{"from", fmt::format("{} record", to_string(other))}, {"bands_in_window", *measured}, {"nbnd", nbnd}}
            : json{{"from", "free-electron estimate"}, {"headroom", settings.nscf_band_headroom}, {"nbnd", nbnd}};
    // a 4-band Davidson workspace (1/3 less nscf CPU than 2, doc/dataset.md "nscf diagonalization"); the
    // threshold is the request's (doc/dataset.md, "Cost per material")
    PwRun nscf{"nscf",
               ecut,
               symmetric_grid(automatic_density_grid(st, settings.nscf_kppa_used()), sym.rotations),
               nbnd,
               settings.nscf_conv_thr_Ry,
               4};
    rec["nscf_diagonalization"] = {{"conv_thr_Ry", nscf.conv_thr}, {"diago_david_ndim", nscf.david_ndim}};
    BandFacts facts;
    std::optional<qe::Save> save;
    int nscf_runs = 0;
    for (int attempt = 0;; ++attempt) {
      ++nscf_runs;
      write_text_atomically(dir / "nscf.in", pw_input(st, table, nscf));
      cpu_children += run_pw(settings, dir, "nscf", timings).cpu_s;
      // Davidson's "c_bands: N eigenvalues not converged" (counted over the runs; the label keeps them, the
      // record says how many)
      rec["nscf_unconverged_eigenvalue_warnings"] = rec.value("nscf_unconverged_eigenvalue_warnings", 0) +
                                                    count_unconverged_eigenvalue_warnings(dir / "nscf.out");
      save = qe::Save::read(dir / "out" / "rung.save");
      facts = band_facts(*save, settings.window_eV);
      if (!(facts.gap_eV > min_gap_eV)) break;  // a metal on this grid: no more bands help (it fails below)
      if (facts.window_covered) break;
      if (attempt == 3)
        fail(fmt::format("{} bands still end below VBM + {:g} eV", nscf.nbnd, settings.window_eV));
      nscf.nbnd = static_cast<int>(std::ceil(nscf.nbnd * 1.5));  // the paper added 50 until enough
    }
    rec["k_nscf"] = nscf.k;
    rec["nbnd_nscf"] = nscf.nbnd;
    rec["nscf_runs"] = nscf_runs;
    rec["nbnd_optics"] = facts.bands_in_window;
    rec["occupied_bands"] = facts.occupied;
    rec["gap_eV"] = facts.gap_eV;
    rec["direct_gap_eV"] = facts.direct_gap_eV;
    rec["vbm_eV"] = facts.vbm_eV;
    fail_if_metal(facts.gap_eV, "");

    // the native solver: IPA (G = 0) and RPA with local fields, G block converged by the solver
    const EnergyGrid grid = EnergyGrid::paper_default();
    response::SpectrumRequest req = settings.solver_request(sym.directions, facts.bands_in_window);
    rec["solver_options"] = req.to_json();
    const auto values = grid.values_eV();
    try {
      const auto t0 = std::chrono::steady_clock::now();
      if (settings.tier == Tier::lite) {  // the IPA alone: G = 0, no Dyson equation
        req.theory = "ipa";
        const auto ipa = response::compute_spectrum(req, save->dir, Comm::self(), "rung dataset run");
        timings["ipa_wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        rec["eps_imag_lite"] = trace_of(cartesian_on_grid(ipa, values, true, "IPA"));
        rec["ipa_provenance"] = ipa.provenance;
      } else {
        // one RPA run gives both rungs: its spectrum without local fields is the IPA (the head of the same chi0)
        req.theory = "rpa";
        const auto rpa = response::compute_spectrum(req, save->dir, Comm::self(), "rung dataset run");
        timings["rpa_wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto xyz_ipa = cartesian_on_grid(rpa, values, false, "IPA");
        const auto xyz_rpa = cartesian_on_grid(rpa, values, true, "RPA");
        const auto eps_ipa = trace_of(xyz_ipa), eps_rpa = trace_of(xyz_rpa);
        rec["eps_imag_ipa"] = eps_ipa;
        rec["eps_imag_rpa"] = eps_rpa;
        if (auto c = components_of(xyz_ipa); !c.empty()) rec["eps_imag_ipa_xyz"] = c;
        if (auto c = components_of(xyz_rpa); !c.empty()) rec["eps_imag_rpa_xyz"] = c;
        const std::vector<double> di(eps_ipa.begin(), eps_ipa.end()), dr(eps_rpa.begin(), eps_rpa.end());
        // SC(IPA, RPA) = 1 - ∫|ipa - rpa| / ∫|ipa|, as structure_dataset.hpp defines it
        rec["sc_ipa_rpa"] = similarity_coefficient(values, dr, di);
        rec["ipa_from"] = "the RPA run's spectrum without local fields (the head of the same chi0)";
        rec["rpa_provenance"] = rpa.provenance;
      }
      make_portable(rec);  // the QE files by their place in the work folder
      rec["status"] = "done";
    } catch (const FeatureUnavailable& e) {
      rec["status"] = "qe_only";
      rec["reason"] = std::string("native solver not available: ") + e.what();
    }
  } catch (const RunStopped&) {
    throw;  // not this material's failure: no record
  } catch (const std::exception& e) {
    // a full disk is the machine's failure, not the material's (every later material would fail the same way):
    // pw.x's or rung's own, the run stops without a record
    if (std::error_code ec; fs::space(work_dir, ec).available < min_free_disk_bytes && !ec)
      throw RunStopped(
          fmt::format("{} failed with less than {} MB left on the disk of {}: the run stops and records "
                      "nothing for this material ({})",
                      input.id, min_free_disk_bytes >> 20, work_dir.string(), e.what()));
    rec["status"] = "failed";
    // pw.x killed by SIGKILL, memory exhausted: computed again by a later run, up to max_transient_attempts in all
    if (dynamic_cast<const TransientFailure*>(&e) || dynamic_cast<const std::bad_alloc*>(&e)) {
      rec["transient"] = true;
      rec["attempts"] = previous_transient_attempts(record_path(work_dir, input.id, settings.tier)) + 1;
    }
    // the machine's folders named by their place: the work folder's files relative to it, rung's own
    // pseudopotential table as share/pseudo (QE's own message is kept as it is otherwise)
    std::string reason = e.what();
    const auto replace_all = [&](const std::string& from, const std::string& to) {
      if (from.size() < 2) return;
      for (auto at = reason.find(from); at != std::string::npos; at = reason.find(from, at + to.size()))
        reason.replace(at, from.size(), to);
    };
    replace_all(share_file("pseudo").string(), "share/pseudo");
    replace_all(work_dir.string() + "/", "");
    rec["reason"] = reason;
  }
  if (std::error_code ec; !settings.keep_qe_files && fs::exists(dir / "out", ec)) fs::remove_all(dir / "out", ec);
  timings["total_wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  timings["cpu_s"] = cpu_children + (self_cpu_seconds() - cpu_self0);
  rec["timings"] = timings;
  return rec;
}

json compute_material(const Structure& s, const FactoryRequest& settings) {
  settings.validate();
  const auto table = PseudoTable::load(settings.pseudo_dir.empty() ? share_file("pseudo") : settings.pseudo_dir);
  const fs::path work = fs::absolute(settings.work_dir.empty() ? fs::path(settings.out.string() + ".work") : settings.work_dir);
  return compute_material_with(s, settings, table, work);
}

namespace {

std::vector<Structure> read_all_structures(const fs::path& path) {
  require_exists(path);
  std::vector<Structure> all;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(path))
      if (e.is_regular_file() || (e.is_directory() && e.path().extension() == ".save")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto v = read_structures(f);
      all.insert(all.end(), v.begin(), v.end());
    }
  } else {
    all = read_structures(path);
  }
  std::set<std::string> seen;
  for (const auto& s : all) {
    // ids name files and folders of the work folder (records, claims, qe/<id>)
    const bool control =
        std::any_of(s.id.begin(), s.id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (s.id.empty() || s.id == "." || s.id == ".." || s.id.find('/') != std::string::npos || control)
      fail_input(path,
                 fmt::format("structure id '{}' is empty, '.' or '..', or contains '/' or a control character", s.id));
    if (!seen.insert(s.id).second) fail_input(path, fmt::format("structure id '{}' appears twice", s.id));
  }
  if (all.empty()) fail_input(path, "no structures");
  return all;
}

json read_record(const fs::path& p) {
  std::ifstream in(p);
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    fail_input(p, std::string("not a valid record: ") + e.what());
  }
  if (!j.contains("id") || !j.contains("status")) fail_input(p, "record without id or status");
  return j;
}

// A finished material whose RPA label an older G-block rule chose, so that `run` computes it again: the
// neighbour-shell sweep (no "rule" in its convergence record), under-converged at a few G-vectors for many
// materials, or a blocks-E-vs-2E sweep that stopped on a pair whose smaller block lay below this run's start
// (its converge_start, 4 Ry by default; a 2 Ry start let NaF stop at 27 G). A run given a smaller start keeps
// the labels that start allows.
bool label_is_stale(const json& r, const FactoryRequest& settings) {
  if (r.value("status", "") != "done") return false;
  const auto p = r.find("rpa_provenance");
  if (p == r.end() || !p->contains("convergence")) return false;
  const auto& c = (*p)["convergence"];
  if (!c.contains("rule")) return true;
  const auto& h = c.value("history", json::array());
  if (!c.value("converged", false) || h.size() < 2) return false;
  const auto& smaller = h[h.size() - 2];
  const auto start = settings.solver.converge_start.empty()
                         ? response::ConvergenceOptions{}.start
                         : response::GBlockRequest::parse(settings.solver.converge_start);
  if (start.by_energy) return smaller.value("shell_energy_Ry", 0.0) < units::Ha_to_Ry(start.energy_Ha) * (1 - 1e-9);
  return smaller.value("n_g", std::size_t{0}) < start.count;
}

// A skipped material that this run's --max-atoms now admits (its primitive cell, or where an older record does
// not say, its input cell, within the limit), or a transient failure with attempts left.
bool worth_another_run(const json& r, const FactoryRequest& settings) {
  const std::string status = r.value("status", "");
  if (status == "skipped" && r.value("reason", "").find("--max-atoms") != std::string::npos)
    return r.value("natoms_primitive", r.value("natoms", 0)) <= settings.max_atoms;
  return status == "failed" && r.value("transient", false) && r.value("attempts", 1) < max_transient_attempts;
}

// Whether `run` leaves this material alone: it has a record, and that record is neither a stale label nor one
// worth another run. A record that cannot be read (cut short by a machine that went down while it was written,
// or with fields of the wrong type) counts as unfinished: the material is computed again and the record replaced.
bool finished(const fs::path& rec_file, const FactoryRequest& settings) {
  if (!fs::exists(rec_file)) return false;
  try {
    const json r = read_record(rec_file);
    return !label_is_stale(r, settings) && !worth_another_run(r, settings);
  } catch (const Error& e) {
    std::fprintf(stderr, "rung dataset: %s (computed again)\n", e.what());
    return false;
  } catch (const json::exception& e) {
    std::fprintf(stderr, "rung dataset: %s: %s (computed again)\n", rec_file.string().c_str(), e.what());
    return false;
  }
}

// Removes the kept scf folders (WORK/scf/<id>) of materials both tiers have finished: nothing reads them any more
// (kept before the other tier's record was checked, or by a run whose other tier finished meanwhile). Returns how
// many.
std::size_t remove_unused_kept_scf(const fs::path& work_dir, const FactoryRequest& settings) {
  std::error_code ec;
  std::vector<fs::path> unused;
  for (const auto& e : fs::directory_iterator(work_dir / "scf", ec)) {
    const std::string id = e.path().filename().string();
    if (!e.is_directory(ec)) continue;
    const auto at = std::min(id.find(".tmp."), id.find(".taken."));
    if (at != std::string::npos) {
      // one being written or taken, unless the process doing so is gone (killed between the copy and the rename)
      const long pid = std::strtol(id.c_str() + id.find('.', at + 1) + 1, nullptr, 10);
      if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) unused.push_back(e.path());
      continue;
    }
    if (finished(record_path(work_dir, id, Tier::full), settings) &&
        finished(record_path(work_dir, id, Tier::lite), settings))
      unused.push_back(e.path());
  }
  for (const auto& p : unused) fs::remove_all(p, ec);
  return unused.size();
}

// An exclusive, non-blocking flock on a claim file, released (and the file removed) when it goes out of scope or
// when the process dies. A claim file that cannot be opened is no one's claim: the work folder is broken (claims/
// removed, out of file descriptors, no permission), and skipping every material would end the run as if all were
// taken, so that is an error.
class ClaimLock {
public:
  explicit ClaimLock(fs::path path) : path_(std::move(path)), lock_(path_, FileLock::Wait::no, "the claim file") {
    // the lock is on the file opened: if its holder removed it meanwhile (it does so before unlocking) and another
    // process created a new one at the path, that one is the claim, and this lock holds nothing
    if (lock_.held() && !lock_.is_file_at(path_)) lock_.release();
  }
  ~ClaimLock() {
    if (!lock_.held()) return;
    std::error_code ec;
    fs::remove(path_, ec);  // before the unlock (lock_'s own destructor): a waiter that opens the old file finds the
                            // record written
  }
  ClaimLock(const ClaimLock&) = delete;
  ClaimLock& operator=(const ClaimLock&) = delete;
  bool held() const { return lock_.held(); }

private:
  fs::path path_;
  FileLock lock_;
};

std::vector<float> floats(const json& j, const char* key) {
  return j.contains(key) ? j.at(key).get<std::vector<float>>() : std::vector<float>{};
}

}  // namespace

fs::path seed_marker(const fs::path& work_dir, const fs::path& data_file) {
  std::string mark = file_fingerprint(data_file);
  std::replace_if(
      mark.begin(), mark.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '-');
  return work_dir / "records" / (".seeded-from-" + mark);
}

std::size_t seed_records_from_dataset(const fs::path& work_dir, const fs::path& data_file) {
  if (!fs::exists(data_file)) return 0;
  // once per content of the data set (a marker in records/ named by its fingerprint, written here and by
  // merge_records for the file it writes): a record deleted after that, to compute the material again, stays
  // deleted
  const fs::path marker = seed_marker(work_dir, data_file);
  if (fs::exists(marker)) return 0;
  // the data set is its own checkpoint: its provenance is the full tier's record without the spectra, with the
  // lite tier's record under "lite"
  const auto data = read_optimate_dataset(data_file);
  fs::create_directories(work_dir / "records");
  std::size_t written = 0;
  const auto write_if_new = [&](const fs::path& file, const json& r) {
    if (fs::exists(file)) return;  // a record of this work dir is newer than the data set
    write_text_atomically(file, r.dump() + "\n");
    ++written;
  };
  for (const auto& m : data.materials) {
    json r = json::parse(m.provenance.empty() ? "{}" : m.provenance, nullptr, false);
    if (!r.is_object() || !r.contains("status"))
      fail_input(data_file, "material " + m.id + " has no factory provenance (status): not a data set `rung dataset` wrote");
    r["id"] = m.id;
    if (r.contains("lite")) {
      json lite = r["lite"];
      lite["id"] = m.id;
      if (!m.eps_imag_lite.empty()) lite["eps_imag_lite"] = m.eps_imag_lite;
      write_if_new(record_path(work_dir, m.id, Tier::lite), lite);
      r.erase("lite");
    }
    if (r["status"] == "pending") continue;  // the full tier was never run
    if (!m.eps_imag_ipa.empty()) r["eps_imag_ipa"] = m.eps_imag_ipa;
    if (!m.eps_imag_rpa.empty()) r["eps_imag_rpa"] = m.eps_imag_rpa;
    if (!m.eps_imag_ipa_xyz.empty()) r["eps_imag_ipa_xyz"] = m.eps_imag_ipa_xyz;
    if (!m.eps_imag_rpa_xyz.empty()) r["eps_imag_rpa_xyz"] = m.eps_imag_rpa_xyz;
    write_if_new(record_path(work_dir, m.id, Tier::full), r);
  }
  write_text_atomically(marker, data_file.string() + "\n");
  return written;
}

namespace {
// WORK/records/*.json (of the given ids, or all) as data-set materials, both tiers of a material in one entry.
OptimateDataset dataset_from_records(const fs::path& work_dir, const std::vector<std::string>& ids) {
  // id -> (full record file, lite record file)
  std::map<std::string, std::pair<fs::path, fs::path>> files;
  const auto add = [&](const fs::path& f) {
    const std::string name = f.filename().string();
    constexpr std::string_view lite_suffix = ".lite.json";
    if (name.size() > lite_suffix.size() && name.ends_with(lite_suffix))
      files[name.substr(0, name.size() - lite_suffix.size())].second = f;
    else
      files[f.stem().string()].first = f;
  };
  if (!ids.empty()) {
    for (const auto& id : ids)
      for (Tier t : {Tier::full, Tier::lite})
        if (fs::exists(record_path(work_dir, id, t))) add(record_path(work_dir, id, t));
  } else if (fs::exists(work_dir / "records")) {
    for (const auto& e : fs::directory_iterator(work_dir / "records"))
      if (e.path().extension() == ".json") add(e.path());
  }
  OptimateDataset data;
  for (const auto& [id, pair] : files) {
    const auto& [full_file, lite_file] = pair;
    std::optional<json> full, lite;
    if (!full_file.empty()) make_portable(*(full = read_record(full_file)));
    if (!lite_file.empty()) make_portable(*(lite = read_record(lite_file)));
    const json& base = full ? *full : *lite;
    DatasetMaterial m;
    m.id = id;
    try {
      m.structure = structure_from(base.contains("structure") ? base.at("structure") : base.at("input_structure"), m.id);
    } catch (const std::exception& e) {
      fail_input(full ? full_file : lite_file, std::string("bad structure: ") + e.what());
    }
    json prov;
    if (full) {
      json& r = *full;
      m.eps_imag_ipa = floats(r, "eps_imag_ipa");
      m.eps_imag_rpa = floats(r, "eps_imag_rpa");
      m.eps_imag_ipa_xyz = floats(r, "eps_imag_ipa_xyz");
      m.eps_imag_rpa_xyz = floats(r, "eps_imag_rpa_xyz");
      if (r.contains("sc_ipa_rpa")) m.sc_ipa_rpa = r["sc_ipa_rpa"].get<double>();
      if (r.contains("gap_eV")) m.gap_eV = r["gap_eV"].get<double>();
      for (const char* k : {"eps_imag_ipa", "eps_imag_rpa", "eps_imag_ipa_xyz", "eps_imag_rpa_xyz"}) r.erase(k);
      prov = r;
    } else {
      prov = {{"id", id}, {"status", "pending"}, {"formula", base.value("formula", "")}, {"natoms", base.value("natoms", 0)}};
      for (const char* k : {"crystal_system", "spacegroup", "structure"})
        if (base.contains(k)) prov[k] = base[k];
      if (base.contains("gap_eV")) m.gap_eV = base["gap_eV"].get<double>();
    }
    if (lite) {
      m.eps_imag_lite = floats(*lite, "eps_imag_lite");
      lite->erase("eps_imag_lite");
      prov["lite"] = *lite;
    }
    m.provenance = prov.dump();
    data.materials.push_back(std::move(m));
  }
  return data;
}

// Materials sorted by id, one per id: a later entry replaces an earlier one of the same id.
void keep_last_by_id(std::vector<DatasetMaterial>& materials) {
  std::stable_sort(materials.begin(), materials.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::vector<DatasetMaterial> kept;
  for (auto& m : materials) {
    if (!kept.empty() && kept.back().id == m.id) kept.back() = std::move(m);
    else kept.push_back(std::move(m));
  }
  materials = std::move(kept);
}

// The same material as a data set holds it: the same provenance (a material computed again has other timings and
// dates) and the same spectra to the file's 16-bit storage: one scale per array, so a value is kept to (max - min)
// / 65535 of its array (a record the farm computed, merged into the file since, differs from it by that much; one
// seeded from the file comes back to float32 rounding).
bool same_material(const DatasetMaterial& a, const DatasetMaterial& b) {
  if (json::parse(a.provenance.empty() ? "{}" : a.provenance, nullptr, false) !=
      json::parse(b.provenance.empty() ? "{}" : b.provenance, nullptr, false))
    return false;
  const auto same = [](const std::vector<float>& x, const std::vector<float>& y) {
    if (x.size() != y.size()) return false;
    if (x.empty()) return true;
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    const double step = (double(*hi) - double(*lo)) / 65535.0;  // the storage's step (half of it is the round-off)
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::abs(double(x[i]) - double(y[i])) > step + 1e-6 * std::abs(double(x[i])) + 1e-9) return false;
    return true;
  };
  return same(a.eps_imag_ipa, b.eps_imag_ipa) && same(a.eps_imag_rpa, b.eps_imag_rpa) &&
         same(a.eps_imag_lite, b.eps_imag_lite) && same(a.eps_imag_ipa_xyz, b.eps_imag_ipa_xyz) &&
         same(a.eps_imag_rpa_xyz, b.eps_imag_rpa_xyz);
}

// A file or folder by its name alone (a committed data set names no machine's folders; "WORK/" is "WORK").
std::string name_of(const fs::path& p) {
  fs::path q = p.lexically_normal();
  if (q.filename().empty()) q = q.parent_path();
  return q.filename().string();
}

// What a data set written by merge, delta or combine records of its making (OptimateDataset::provenance): the command
// with its files by name, and each input: a data set by name and fingerprint, a work folder by name and the number
// of materials its records gave.
std::string made_by(const std::string& command, const json& inputs) {
  return json{{"command", command}, {"inputs", inputs}}.dump();
}
json input_file(const fs::path& f) { return {{"file", name_of(f)}, {"fingerprint", file_fingerprint(f)}}; }
json input_work(const fs::path& w, std::size_t materials) {
  return {{"work_dir", name_of(w)}, {"materials", materials}};
}
}  // namespace

std::size_t merge_records(const fs::path& work_dir, const fs::path& out, const std::vector<std::string>& ids,
                          const std::string& command) {
  check_output_path(out);
  // one merge into `out` at a time (two runs on one work folder may end together): the second reads what the
  // first wrote
  const FileLock lock(out.parent_path() / ("." + out.filename().string() + ".lock"), FileLock::Wait::yes,
                      "the merge lock");
  // a data set whose materials are all in the work folder's records (or none yet) stays so after the merge: the
  // file written is marked as seeded, so a record deleted later to compute the material again is not written
  // back from it
  const bool seeded = !fs::exists(out) || fs::exists(seed_marker(work_dir, out));
  OptimateDataset data = dataset_from_records(work_dir, ids);
  json inputs = json::array({input_work(work_dir, data.materials.size())});
  // an existing file keeps the materials the merged records do not name (a run on a few ids adds to it)
  if (fs::exists(out)) {
    inputs.push_back(input_file(out));
    auto old = read_optimate_dataset(out);
    old.materials.insert(old.materials.end(), std::make_move_iterator(data.materials.begin()),
                         std::make_move_iterator(data.materials.end()));
    data.materials = std::move(old.materials);
    keep_last_by_id(data.materials);
  }
  data.provenance = made_by(
      command.empty() ? fmt::format("rung dataset merge {} --out {}", name_of(work_dir), name_of(out)) : command,
      inputs);
  write_optimate_dataset(out, data);
  if (seeded) {
    fs::create_directories(work_dir / "records");
    write_text_atomically(seed_marker(work_dir, out), out.string() + "\n");
  }
  return data.materials.size();
}

std::size_t write_records_delta(const fs::path& work_dir, const fs::path& base, const fs::path& out) {
  check_output_path(out);
  std::error_code ec;
  if (fs::exists(out) && fs::equivalent(base, out, ec))
    fail_usage("the delta of " + work_dir.string() + " cannot replace its base " + base.string());
  OptimateDataset data = dataset_from_records(work_dir, {});
  std::map<std::string, DatasetMaterial> held;
  for (auto& m : read_optimate_dataset(base).materials) held.emplace(m.id, std::move(m));
  const json inputs = json::array({input_work(work_dir, data.materials.size()), input_file(base)});
  std::erase_if(data.materials, [&](const DatasetMaterial& m) {
    const auto it = held.find(m.id);
    return it != held.end() && same_material(it->second, m);
  });
  data.provenance = made_by(
      fmt::format("rung dataset delta {} --base {} --out {}", name_of(work_dir), name_of(base), name_of(out)), inputs);
  write_optimate_dataset(out, data);
  return data.materials.size();
}

std::size_t combine_datasets(const std::vector<fs::path>& files, const fs::path& out) {
  if (files.empty()) fail_usage("no data set to combine");
  check_output_path(out);
  OptimateDataset data;
  json inputs = json::array();
  std::string command = "rung dataset combine";
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    inputs.push_back(input_file(f));
    command += " " + name_of(f);
    auto d = read_optimate_dataset(f);
    if (i == 0) data.grid = d.grid;
    else if (!d.grid.same_as(data.grid, 1e-6)) fail_input(f, "its energy grid is not the one of " + files[0].string());
    data.materials.insert(data.materials.end(), std::make_move_iterator(d.materials.begin()),
                          std::make_move_iterator(d.materials.end()));
  }
  keep_last_by_id(data.materials);
  data.provenance = made_by(command + " --out " + name_of(out), inputs);
  write_optimate_dataset(out, data);
  return data.materials.size();
}

namespace {
// The structures a request names: all of request.structures, or only request.only_ids of them.
std::vector<Structure> requested_structures(const FactoryRequest& request) {
  auto structures = read_all_structures(request.structures);
  if (!request.only_ids.empty()) {
    std::set<std::string> want(request.only_ids.begin(), request.only_ids.end());
    std::erase_if(structures, [&](const Structure& s) { return !want.count(s.id); });
    if (structures.empty()) fail_usage("none of the ids (--ids) is in " + request.structures.string());
  }
  return structures;
}
}  // namespace

std::vector<json> write_scf_inputs(const FactoryRequest& request, const fs::path& out_dir) {
  request.validate();
  if (request.structures.empty()) fail_usage("option \"structures\" is required (a structure file or folder)");
  const auto structures = requested_structures(request);
  const auto table = PseudoTable::load(request.pseudo_dir.empty() ? share_file("pseudo") : request.pseudo_dir);
  std::vector<json> out;
  for (const auto& s : structures) {
    try {
      s.validate(request.structures.string() + " (" + s.id + ")");
      const ScfPlan plan = plan_scf(s, request, table);
      const fs::path input = fs::absolute(out_dir / s.id / "scf.in");
      fs::create_directories(input.parent_path());
      write_text_atomically(input, pw_input(plan.sym.standardized, table, plan.scf));
      out.push_back({{"id", s.id}, {"input", input.string()}, {"valence_electrons", plan.valence_electrons},
                     {"k", plan.scf.k}, {"ecutwfc_Ry", plan.scf.ecutwfc_Ry}, {"nbnd", plan.scf.nbnd}});
    } catch (const Error& e) {
      out.push_back({{"id", s.id}, {"error", e.what()}});
    }
  }
  return out;
}

RunSummary run_dataset(const FactoryRequest& settings_in, const Comm& comm) {
  settings_in.validate();
  if (settings_in.structures.empty()) fail_usage("option \"structures\" is required (a structure file or folder)");
  if (settings_in.out.empty()) fail_usage("option \"out\" is required (the data set to write)");
  FactoryRequest settings = settings_in;
  if (settings.pseudo_dir.empty()) settings.pseudo_dir = share_file("pseudo");
  if (settings.work_dir.empty()) settings.work_dir = settings.out.string() + ".work";
  // pw.x runs inside WORK/qe/<id>: every path it is given must survive the cd
  settings.work_dir = fs::absolute(settings.work_dir);
  settings.pseudo_dir = fs::absolute(settings.pseudo_dir);
  // --out is written (and its merge lock taken beside it) after every material: its folder must be there now, or be
  // one the work folder's creation makes (the default work folder, OUT.work, sits beside it); checked by rank 0,
  // which merges into it, for every rank
  agreed_on_every_rank(comm, [&] {
    if (!comm.is_root()) return;
    const fs::path out_dir = fs::absolute(settings.out).parent_path().lexically_normal();
    const fs::path work = settings.work_dir.lexically_normal();
    const bool made_with_work =
        std::mismatch(out_dir.begin(), out_dir.end(), work.begin(), work.end()).first == out_dir.end();
    std::error_code ec;
    if (!made_with_work || fs::exists(out_dir, ec)) check_output_path(settings.out);
  });
  if (settings.qe_ranks > 1 && comm.size() > 1)
    fail_usage("qe_ranks > 1 (--qe-ranks) needs a farm of one rank (mpirun inside an MPI rank is not supported)");
  const auto structures = requested_structures(settings);
  const auto table = PseudoTable::load(settings.pseudo_dir);
  const fs::path claims = settings.work_dir / "claims";
  RunSummary sum;
  sum.total = structures.size();
  if (comm.is_root()) {
    fs::create_directories(settings.work_dir / "records");
    fs::create_directories(claims);
    const std::size_t seeded = seed_records_from_dataset(settings.work_dir, settings.out);
    if (seeded > 0)
      std::fprintf(stderr, "rung dataset: %zu finished materials taken from %s\n", seeded, settings.out.string().c_str());
    // the temporary files of record and data-set writes cut short by a kill (AtomicOutput's .<name>.tmp-<pid>-<x>):
    // an hour old is long past any write (other runs on the work folder, on other nodes too, write in milliseconds)
    for (const fs::path& folder : {settings.work_dir / "records",
                                   settings.out.parent_path().empty() ? fs::path(".") : settings.out.parent_path()}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(folder, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(".") && name.find(".tmp-") != std::string::npos && e.is_regular_file(ec) &&
            fs::last_write_time(e.path(), ec) < fs::file_time_type::clock::now() - std::chrono::hours(1) && !ec)
          fs::remove(e.path(), ec);
      }
    }
    if (const std::size_t unused = remove_unused_kept_scf(settings.work_dir, settings); unused > 0)
      std::fprintf(stderr, "rung dataset: %zu kept scf folders of materials both tiers have finished removed\n",
                   unused);
    std::size_t stale = 0;
    for (const auto& s : structures) {
      const auto rec = record_path(settings.work_dir, s.id, settings.tier);
      if (finished(rec, settings)) ++sum.already_done;
      else if (fs::exists(rec)) ++stale;
    }
    if (stale > 0)
      std::fprintf(stderr,
                   "rung dataset: %zu materials with a record are computed again (RPA labels of a superseded G-block "
                   "convergence, transient failures, cells --max-atoms now admits)\n",
                   stale);
    std::fprintf(stderr, "rung dataset: %zu structures, %zu already finished in %s\n", sum.total, sum.already_done,
                 settings.work_dir.string().c_str());
  }
  comm.idle_barrier();  // while the root seeds records from DATA.h5 and counts what is finished
  const std::size_t n = structures.size();
  long long computed_here = 0;  // by this rank (materials other processes computed meanwhile are not counted)
  // for the ETA of each material's line: what is left (materials without a record, counted again at each line, so
  // the other ranks' and other runs' materials count too) at this rank's mean time per material, shared by the
  // run's ranks
  const auto left_now = [&] {
    std::size_t n_left = 0;
    for (const auto& s : structures) n_left += fs::exists(record_path(settings.work_dir, s.id, settings.tier)) ? 0 : 1;
    return n_left;
  };
  const auto loop_start = std::chrono::steady_clock::now();
  // one line per material rank 0 finishes, when progress is wanted (not under -q): what is left is counted on disk,
  // so it is the whole run's (every rank's, and other runs' on the same work folder)
  const bool report = comm.is_root() && progress_wanted();
  if (report && comm.size() > 1)
    std::fprintf(stderr,
                 "rung dataset: %d ranks; a line for each material rank 0 finishes, with what is left of the "
                 "run and its ETA (every material has its record in %s)\n",
                 comm.size(), (settings.work_dir / "records").string().c_str());
  for (std::size_t step = 0; step < n; ++step) {
    // every rank walks the same order (smallest cells first when the input is so ordered); a material belongs to
    // whoever holds the lock on its claim file, a rank of this run or of another run on the same work dir. The
    // lock (flock) lives as long as its process: the claim of a killed run is free again at once, and a claim
    // file left behind blocks nothing.
    const auto& s = structures[step];
    const auto rec_file = record_path(settings.work_dir, s.id, settings.tier);
    if (finished(rec_file, settings)) continue;
    const ClaimLock claim(claims / (s.id + "." + to_string(settings.tier) + ".claim"));
    if (!claim.held()) continue;   // another process computes it now
    if (finished(rec_file, settings)) continue;  // finished between our check and the claim
    const json rec = compute_material_with(s, settings, table, settings.work_dir);
    write_text_atomically(rec_file, rec.dump() + "\n");
    ++computed_here;
    if (!report) continue;
    const std::size_t left = left_now();
    const double per_material =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count() / double(computed_here);
    const double eta_h = double(left) * per_material / double(comm.size()) / 3600.0;
    std::fprintf(stderr, "rung dataset: %s %s: %s%s (%.0f s) [%zu left, ETA %.1f h]\n", s.id.c_str(),
                 s.formula().c_str(), rec["status"].get<std::string>().c_str(),
                 rec.contains("reason") ? (" — " + rec["reason"].get<std::string>()).c_str() : "",
                 rec.value("timings", json::object()).value("total_wall_s", 0.0), left, eta_h);
  }
  comm.idle_barrier();  // a rank done early leaves its core to the others' last materials
  comm.sum(&computed_here, 1);
  std::exception_ptr failure;
  if (comm.is_root()) {
    std::vector<std::string> ids;
    for (const auto& s : structures) ids.push_back(s.id);
    for (const auto& id : ids) {
      const auto p = record_path(settings.work_dir, id, settings.tier);
      if (!fs::exists(p)) continue;
      std::string st;
      try {
        st = read_record(p)["status"].get<std::string>();
      } catch (const std::exception&) {  // counted as neither; the merge below names the file
      }
      if (st == "failed") ++sum.failed;
      else if (st == "skipped") ++sum.skipped;
    }
    sum.computed = std::size_t(computed_here);
    try {
      merge_records(settings.work_dir, settings.out, ids,
                    fmt::format("rung dataset run --tier {} --structures {} --out {}", to_string(settings.tier),
                                name_of(settings.structures), name_of(settings.out)));
    } catch (const std::exception&) {  // handed to every rank below, which would otherwise wait for ever
      failure = std::current_exception();
    }
  }
  comm.idle_barrier();  // while the root merges
  comm.rethrow_on_every_rank(failure);  // (the root's own exception, its kind kept: an input error stays one)
  return sum;
}

std::vector<json> compare_datasets(const fs::path& reference, const fs::path& other) {
  const auto ref = read_optimate_dataset(reference), oth = read_optimate_dataset(other);
  if (!ref.grid.same_as(oth.grid, 0.0)) fail_input(other, "has another energy grid than " + reference.string());
  std::map<std::string, const DatasetMaterial*> by_id;
  for (const auto& m : oth.materials) by_id[m.id] = &m;
  const auto w = ref.grid.values_eV();
  const auto as_double = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  std::vector<json> rows;
  for (const auto& r : ref.materials) {
    json row{{"id", r.id}, {"formula", r.structure.formula()}, {"status", "missing"}};
    const auto it = by_id.find(r.id);
    if (it != by_id.end()) {
      const DatasetMaterial& o = *it->second;
      const json prov = json::parse(o.provenance, nullptr, false);
      row["status"] = prov.is_object() ? prov.value("status", "unknown") : "unknown";
      if (!r.eps_imag_ipa.empty() && !r.eps_imag_rpa.empty() && !o.eps_imag_ipa.empty() && !o.eps_imag_rpa.empty()) {
        const auto oi = as_double(o.eps_imag_ipa), orpa = as_double(o.eps_imag_rpa);
        row["sc_ipa_rpa"] = o.sc_ipa_rpa ? json(*o.sc_ipa_rpa) : json(nullptr);
        row["sc_ipa_vs_reference"] = similarity_coefficient(w, oi, as_double(r.eps_imag_ipa));
        row["sc_rpa_vs_reference"] = similarity_coefficient(w, orpa, as_double(r.eps_imag_rpa));
      }
      if (prov.is_object()) {
        if (prov.contains("rpa_provenance")) row["n_g"] = prov["rpa_provenance"].value("parameters", json::object()).value("n_g", json());
        if (prov.contains("timings")) row["cpu_s"] = prov["timings"].value("cpu_s", 0.0);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string dataset_stats(const fs::path& path, DatasetFigure* figure) {
  const auto data = read_optimate_dataset(path);
  std::map<std::string, int> status, elements, systems;
  std::vector<double> sc, gaps;
  double cpu = 0, wall = 0;
  std::map<std::string, int> reasons, protocols;
  double worst_dsc = 0, worst_roundoff = 0;
  const auto grid = data.grid.values_eV();
  std::map<std::string, int> lite_status;
  std::map<std::size_t, std::pair<int, int>> by_size;  // atoms -> (full done, lite done)
  std::vector<double> sc_lite_full;
  double lite_cpu = 0;
  std::size_t timed = 0;
  for (const auto& m : data.materials) {
    json p = json::parse(m.provenance.empty() ? "{}" : m.provenance, nullptr, false);
    if (p.is_discarded()) p = json::object();
    const std::string st = p.value("status", m.eps_imag_rpa.empty() ? "unknown" : "done");
    ++status[st];
    if (p.contains("reason") && st != "done") {
      auto r = p["reason"].get<std::string>();
      if (r.size() > 60) r = r.substr(0, 57) + "...";
      ++reasons[r];
    }
    if (p.contains("crystal_system")) ++systems[p["crystal_system"].get<std::string>()];
    if (st == "done") ++by_size[m.structure.size()].first;
    if (p.contains("lite")) {
      const auto& l = p["lite"];
      const std::string ls = l.value("status", "unknown");
      ++lite_status[ls];
      if (ls == "done") ++by_size[m.structure.size()].second;
      if (l.contains("timings")) {
        lite_cpu += l["timings"].value("cpu_s", 0.0);
        if (figure && ls == "done")
          figure->lite_cost.push_back({double(m.structure.size()), l["timings"].value("cpu_s", 0.0) / 60});
      }
    }
    if (!m.eps_imag_lite.empty() && !m.eps_imag_ipa.empty())
      sc_lite_full.push_back(similarity_coefficient(grid, std::vector<double>(m.eps_imag_lite.begin(), m.eps_imag_lite.end()),
                                                    std::vector<double>(m.eps_imag_ipa.begin(), m.eps_imag_ipa.end())));
    std::set<int> zs(m.structure.numbers.begin(), m.structure.numbers.end());
    for (int z : zs) ++elements[symbol(z)];
    if (m.sc_ipa_rpa) sc.push_back(*m.sc_ipa_rpa);
    if (st == "done" && p.contains("rpa_provenance")) {
      const auto& rp = p["rpa_provenance"];
      ++protocols[!rp.contains("convergence") ? "fixed block"
                  : rp["convergence"].contains("rule") ? "blocks E vs 2E"
                                                        : "neighbour shells (superseded)"];
    }
    // the stored SC was computed from the unrounded spectra: recomputing it from the stored ones shows what
    // the 16-bit storage changes
    if (m.sc_ipa_rpa && !m.eps_imag_ipa.empty() && !m.eps_imag_rpa.empty()) {
      const std::vector<double> di(m.eps_imag_ipa.begin(), m.eps_imag_ipa.end()),
          dr(m.eps_imag_rpa.begin(), m.eps_imag_rpa.end());
      worst_dsc = std::max(worst_dsc, std::abs(similarity_coefficient(grid, dr, di) - *m.sc_ipa_rpa));
      for (const auto* v : {&m.eps_imag_ipa, &m.eps_imag_rpa}) {
        const auto [lo, hi] = std::minmax_element(v->begin(), v->end());
        worst_roundoff = std::max(worst_roundoff, (double(*hi) - double(*lo)) / 65535.0 / 2.0);
      }
    }
    if (m.gap_eV) gaps.push_back(*m.gap_eV);
    if (figure && st == "done" && p.contains("timings"))
      figure->full_cost.push_back({double(m.structure.size()), p["timings"].value("cpu_s", 0.0) / 60});
    if (p.contains("timings")) {
      ++timed;
      cpu += p["timings"].value("cpu_s", 0.0);
      wall += p["timings"].value("total_wall_s", 0.0);
    }
  }
  if (figure) {
    figure->sc_ipa_rpa = sc;
    figure->sc_lite_full = sc_lite_full;
  }
  std::ostringstream o;
  o << fmt::format("{}: {} materials (rung {}, created {})\n", path.string(), data.materials.size(), data.rung_version,
                   data.created);
  o << "status:";
  for (const auto& [k, v] : status) o << fmt::format(" {} {}", k, v);
  o << "\n";
  for (const auto& [k, v] : reasons) o << fmt::format("  {:4d} x {}\n", v, k);
  if (!lite_status.empty()) {
    o << "lite tier (IPA only):";
    int done = 0;
    for (const auto& [k, v] : lite_status) {
      o << fmt::format(" {} {}", k, v);
      done += k == "done" ? v : 0;
    }
    o << fmt::format("; {:.2f} CPU-h ({:.2f} CPU-min per material)\n", lite_cpu / 3600,
                     done > 0 ? lite_cpu / 60 / done : 0.0);
  }
  if (!by_size.empty()) {
    o << "done by cell size (atoms: full / lite):";
    for (const auto& [n, c] : by_size) o << fmt::format(" {}: {} / {};", n, c.first, c.second);
    o << "\n";
  }
  if (!sc_lite_full.empty()) {
    std::sort(sc_lite_full.begin(), sc_lite_full.end());
    o << fmt::format("SC(lite, full IPA): {} materials, median {:.3f}, 10th percentile {:.3f}, min {:.3f}\n",
                     sc_lite_full.size(), quantile(sc_lite_full, 0.5), quantile(sc_lite_full, 0.1), sc_lite_full.front());
  }
  if (!protocols.empty()) {
    o << "RPA labels by G-block rule:";
    for (const auto& [k, v] : protocols) o << fmt::format(" {} {};", k, v);
    o << "\n";
  }
  if (data.format_version >= 2)
    o << fmt::format("storage: 16-bit scaled spectra, largest round-off {:.2e}; largest change of a stored "
                     "SC(IPA,RPA) when recomputed from the stored spectra {:.2e}\n",
                     worst_roundoff, worst_dsc);
  if (!systems.empty()) {
    o << "crystal systems:";
    for (const auto& [k, v] : systems) o << fmt::format(" {} {}", k, v);
    o << "\n";
  }
  o << fmt::format("elements ({}):", elements.size());
  for (const auto& [k, v] : elements) o << fmt::format(" {} {}", k, v);
  o << "\n";
  if (!gaps.empty()) {
    std::sort(gaps.begin(), gaps.end());
    o << fmt::format("gap: {} materials, min {:.3f} eV, median {:.3f} eV, max {:.3f} eV\n", gaps.size(), gaps.front(),
                     gaps[gaps.size() / 2], gaps.back());
  }
  o << fmt::format("SC(IPA,RPA): {} materials\n", sc.size());
  if (!sc.empty()) {
    const double edges[] = {-1e300, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 + 1e-12};
    const char* names[] = {"   < 0.5", "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", "0.9-1.0"};
    for (int b = 0; b < 6; ++b) {
      const auto c = std::count_if(sc.begin(), sc.end(), [&](double x) { return x >= edges[b] && x < edges[b + 1]; });
      o << fmt::format("  {:>8} {:5d} {}\n", names[b], c, std::string(static_cast<std::size_t>(std::min<long>(c, 60)), '#'));
    }
    std::sort(sc.begin(), sc.end());
    o << fmt::format("  median {:.3f}, mean {:.3f}\n", sc[sc.size() / 2],
                     std::accumulate(sc.begin(), sc.end(), 0.0) / double(sc.size()));
  }
  o << fmt::format("CPU time: {:.2f} CPU-h in total ({:.2f} CPU-min per material), wall {:.2f} h\n", cpu / 3600,
                   timed == 0 ? 0.0 : cpu / 60 / double(timed), wall / 3600);
  return o.str();
}

}  // namespace rung::dataset
