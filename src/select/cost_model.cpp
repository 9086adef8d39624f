#include "select/cost_model.hpp"

#include "core/paper.hpp"
#include "core/brillouin_zone.hpp"
#include "response/gblock.hpp"
#include "response/wavefunction_rotation.hpp"

#include "core/atomic_output.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/json_file.hpp"
#include "core/share_path.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/qe/save.hpp"
#include "ml/dataset_file.hpp"
#include "dataset/pseudo_table.hpp"
#include "dataset/qe_runs.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

extern "C" {
#include <spglib.h>
}

namespace rung::select {

nlohmann::json RpaSize::to_json() const {
  return {{"nk", nk},
          {"n_valence", n_valence},
          {"n_conduction", n_conduction},
          {"n_g", n_g},
          {"n_freq", n_freq},
          {"how", how},
          {"nk_irreducible", nk_irreducible},
          {"n_pw", n_pw}};
}

// The transitions stage's exponent in N_pw, bench/solver_scaling.py --ecut on the Si case (20-80 Ry, N_pw
// 408-3263): 0.76 and 0.77 in two sessions (doc/solver.md, "How the stages scale").
const double CostModel::plane_wave_exponent = 0.77;

double estimated_plane_waves(double volume_bohr3, double ecutwfc_Ry) {
  if (!(volume_bohr3 > 0) || !(ecutwfc_Ry > 0)) return 0;
  return volume_bohr3 * std::pow(ecutwfc_Ry, 1.5) / (6 * M_PI * M_PI);
}

RpaSize RpaSize::from_json(const nlohmann::json& j, const std::string& origin) {
  RpaSize s;
  try {
    s.nk = j.at("nk").get<double>();
    s.n_valence = j.at("n_valence").get<double>();
    s.n_conduction = j.at("n_conduction").get<double>();
    s.n_g = j.at("n_g").get<double>();
    s.n_freq = j.value("n_freq", double(paper::steps));
    s.how = j.value("how", "");
    s.nk_irreducible = j.value("nk_irreducible", 0.0);
    s.n_pw = j.value("n_pw", 0.0);
  } catch (const nlohmann::json::exception& e) {
    fail_input(origin, std::string("bad system size record: ") + e.what());
  }
  for (double v : {s.nk, s.n_valence, s.n_conduction, s.n_g, s.n_freq, s.nk_irreducible, s.n_pw})
    if (!std::isfinite(v) || v < 0) fail_input(origin, "system size values must be finite and >= 0");
  return s;
}

namespace {

// |G|² (Bohr⁻², i.e. Ry) of every reciprocal-lattice vector of `s` in a box holding the sphere |G| ≤ gmax, sorted.
std::vector<double> sorted_g_squared(const Structure& s, double gmax) {
  const Eigen::Matrix3d b = s.reciprocal();
  std::array<int, 3> m{};
  for (int i = 0; i < 3; ++i) m[i] = int(std::ceil(gmax * s.lattice.row(i).norm() / (2 * M_PI))) + 1;
  std::vector<double> g2;
  for (int i = -m[0]; i <= m[0]; ++i)
    for (int j = -m[1]; j <= m[1]; ++j)
      for (int k = -m[2]; k <= m[2]; ++k) g2.push_back((i * b.row(0) + j * b.row(1) + k * b.row(2)).squaredNorm());
  std::sort(g2.begin(), g2.end());
  return g2;
}

// The vectors up to and including the shell at |G|² = shell.
double count_to_shell(const std::vector<double>& g2, double shell) {
  return double(std::upper_bound(g2.begin(), g2.end(), shell * (1 + 1e-9)) - g2.begin());
}

}  // namespace

double count_g_vectors(const Structure& s, double cutoff_Ry) {
  if (!(cutoff_Ry > 0)) return 1;  // only G = 0
  // The block both solvers use: every shell up to the first closed shell at or above the cut-off (rung's
  // GBlockRequest, YAMBO's NGsBlkXd in Ry). Search a sphere a little larger than the cut-off for that shell.
  const auto g2 = sorted_g_squared(s, std::sqrt(cutoff_Ry) * 1.5 + 1e-9);
  const auto it = std::lower_bound(g2.begin(), g2.end(), cutoff_Ry * (1 - 1e-9));
  if (it == g2.end()) return std::max(1.0, double(g2.size()));
  return std::max(1.0, count_to_shell(g2, *it));
}

double count_g_vectors_at_least(const Structure& s, std::size_t n_min) {
  if (n_min <= 1) return 1;
  // a sphere holding about 2 n_min vectors (V_cell E^{3/2} / (6π²) of them below E Ry), then the n_min-th |G|²
  const double cutoff = std::pow(6 * M_PI * M_PI * 2.0 * double(n_min) / s.volume(), 2.0 / 3.0);
  const auto g2 = sorted_g_squared(s, std::sqrt(cutoff) + 1e-9);
  if (g2.size() < n_min) return double(g2.size());
  return count_to_shell(g2, g2[n_min - 1]);
}

double estimate_block_g(const Structure& s, const SizeOptions& o) {
  return o.block_cutoff_Ry > 0 ? count_g_vectors(s, o.block_cutoff_Ry)
                               : count_g_vectors_at_least(s, o.converged_block_g);
}

int estimated_valence_electrons(int z) {
  const int g = elements::group(z);
  if (g == 0) return 3;                // lanthanides/actinides
  if (z == 2) return 2;                // He
  if (g <= 12) return g;
  return g - 10;
}

std::optional<dataset::PseudoTable> load_valence_table(const std::filesystem::path& pseudo_dir) {
  if (!std::filesystem::exists(pseudo_dir / "table.json")) return std::nullopt;
  return dataset::PseudoTable::load(pseudo_dir);
}

namespace {
// rung's pseudopotential table, loaded once; if loading throws, the next call tries again (and throws again,
// naming the file).
const std::optional<dataset::PseudoTable>& shipped_pseudo_table() {
  static const std::optional<dataset::PseudoTable> table = load_valence_table(share_dir() / "pseudo");
  return table;
}

// The factory's wavefunction cut-off for `s`: the largest of its elements' in rung's table; 0 when the table
// is absent or lacks an element.
double table_cutoff_Ry(const Structure& s) {
  const auto& table = shipped_pseudo_table();
  if (!table) return 0;
  double e = 0;
  for (int z : s.numbers) {
    const auto* p = table->find(elements::symbol(z));
    if (!p) return 0;
    e = std::max(e, p->ecutwfc_Ry);
  }
  return e;
}

// The irreducible points of the Γ-centred `grid` under the crystal's point group and time reversal (spglib),
// as pw.x reduces the factory's automatic grid; the whole grid when spglib finds no symmetry.
double irreducible_kpoints(const Structure& s, const std::array<int, 3>& grid) {
  const int n = static_cast<int>(s.size());
  const int total = grid[0] * grid[1] * grid[2];
  if (n == 0 || total <= 0) return std::max(total, 1);
  double lattice[3][3];  // spglib: lattice vectors are columns
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) lattice[i][j] = s.lattice(j, i);
  std::vector<double> pos(3 * static_cast<std::size_t>(n));
  std::vector<int> types(static_cast<std::size_t>(n));
  for (int a = 0; a < n; ++a) {
    for (int i = 0; i < 3; ++i) pos[3 * a + i] = s.frac[a][i];
    types[a] = s.numbers[a];
  }
  std::vector<int> address(3 * static_cast<std::size_t>(total)), map(static_cast<std::size_t>(total));
  const int shift[3] = {0, 0, 0};
  const int nir =
      spg_get_ir_reciprocal_mesh(reinterpret_cast<int(*)[3]>(address.data()), map.data(), grid.data(), shift, 1,
                                 lattice, reinterpret_cast<double(*)[3]>(pos.data()), types.data(), n, 1e-3);
  return nir > 0 ? nir : total;
}
}  // namespace

double valence_electrons(int z) {
  const auto& table = shipped_pseudo_table();
  if (table)
    if (const auto* e = table->find(elements::symbol(z)); e && e->z_valence > 0) return e->z_valence;
  return estimated_valence_electrons(z);
}

RpaSize estimate_size(const Structure& s, const SizeOptions& o) {
  RpaSize r;
  r.how = "structure estimate";
  const auto grid = dataset::automatic_density_grid(s, o.kppa);
  r.nk = double(grid[0]) * grid[1] * grid[2];
  double nelec = 0;
  for (int z : s.numbers) nelec += valence_electrons(z);
  r.n_valence = std::max(1.0, std::ceil(nelec / 2));
  r.n_conduction = std::max(1.0, std::round(o.conduction_per_bohr3 * s.volume()));
  r.n_g = estimate_block_g(s, o);
  r.n_freq = o.n_freq;
  r.nk_irreducible = irreducible_kpoints(s, grid);
  r.n_pw = estimated_plane_waves(s.volume(), table_cutoff_Ry(s));
  return r;
}

RpaSize estimate_size(const qe::Save& save, const SizeOptions& o) {
  RpaSize r;
  r.how = "qe-save";
  // the k-points both solvers sum over: the irreducible set unfolded by the run's symmetries (a shifted
  // grid unfolds to more points than n1 n2 n3)
  std::vector<Eigen::Matrix3i> krot;
  for (const auto& op : response::space_group_ops(save)) krot.push_back(op.k_rotation);
  std::vector<Eigen::Vector3d> kc;
  for (const auto& k : save.k_cart) kc.push_back(bz::to_crystal(k, save.reciprocal));
  r.nk = double(std::max<std::size_t>(1, bz::unfold(kc, krot, save.time_reversal, 1e-5, true).size()));
  // (a spinor band holds one electron)
  r.n_valence = save.is_insulator() ? save.occupied_bands() : std::ceil(save.noncolin ? save.nelec : save.nelec / 2);
  r.n_conduction = std::max(0.0, double(save.nbnd) - r.n_valence);
  // capped at the wavefunction sphere, as both launches cap their block (a small ecutwfc holds fewer than 300 G)
  r.n_g = std::min(estimate_block_g(save.structure, o),
                   double(response::closed_shells(save.reciprocal, save.ecutwfc).size()));
  r.n_freq = o.n_freq;
  r.nk_irreducible = double(save.k_cart.size());
  double npw = 0, counted = 0;
  for (int v : save.npw)
    if (v > 0) npw += v, ++counted;
  r.n_pw = counted > 0 ? npw / counted : estimated_plane_waves(save.structure.volume(), units::Ha_to_Ry(save.ecutwfc));
  return r;
}

CostPoint cost_point_from_provenance(const nlohmann::json& pv, const std::string& source) {
  CostPoint p;
  p.source = source;
  try {
    const auto& sys = pv.at("system");
    const auto& par = pv.at("parameters");
    p.size.how = "measured";
    p.size.nk = sys.at("n_k_full").get<double>();
    const double transitions = sys.at("n_transitions").get<double>();
    // Only the product Nk·Nv·Nc enters the model; split it as valence x conduction bands per k.
    const double occ = sys.value("occupied_bands", 1.0);
    p.size.n_valence = occ;
    p.size.n_conduction = transitions / std::max(1.0, p.size.nk * occ);
    double ng = par.at("n_g").get<double>();
    if (pv.contains("convergence"))
      for (const auto& h : pv["convergence"].value("history", nlohmann::json::array()))
        ng = std::max(ng, h.value("n_g", 0.0));
    p.size.n_g = ng;
    p.size.n_freq = par.value("steps", double(paper::steps));
    // A run that solved on every n-th frequency (`solver_step_eV`, the factory's default since its cost cut)
    // built chi0 and solved the Dyson equation `count` times, not `steps`: the terms in N_ω must see that
    // count, or the fit would charge its saved time to the other terms.
    if (const auto sf = par.find("solver_frequencies"); sf != par.end() && sf->is_object() && sf->contains("count"))
      p.size.n_freq = sf->at("count").get<double>();
    p.size.nk_irreducible = sys.value("n_k_irreducible", 0.0);
    p.size.n_pw = sys.value("n_pw_mean", 0.0);
    const double ranks = pv.value("mpi_ranks", 1.0);
    p.cpu_seconds = pv.at("timings_s").at("total_s").get<double>() * ranks;
  } catch (const nlohmann::json::exception& e) {
    fail_input(source, std::string("provenance lacks what the cost model needs: ") + e.what());
  }
  return p;
}

std::optional<CostPoint> cost_point_from_dataset_record(const std::string& provenance_json,
                                                       const std::string& source) {
  const auto record = nlohmann::json::parse(provenance_json, nullptr, false);
  if (record.is_discarded() || !record.is_object()) fail_input(source, "the provenance is not a JSON object");
  const auto it = record.find("rpa_provenance");
  if (it == record.end() || it->is_null()) return std::nullopt;
  auto p = cost_point_from_provenance(*it, source);
  // The factory also measures the CPU time of the whole material (its own process and QE's); what is not
  // scf or nscf is the RPA run. Prefer it to the solver's wall time x ranks, which a loaded or paused
  // machine inflates (wall / CPU had a median of 1.9 in round 8, which ran beside model training).
  if (const auto t = record.find("timings"); t != record.end() && t->is_object()) {
    const double cpu = t->value("cpu_s", 0.0) - t->value("scf_cpu_s", 0.0) - t->value("nscf_cpu_s", 0.0);
    if (t->value("cpu_s", 0.0) > 0 && t->contains("scf_cpu_s") && t->contains("nscf_cpu_s") && cpu > 0)
      p.cpu_seconds = cpu;
  }
  if (p.size.n_pw == 0 && record.contains("ecutwfc_Ry") && record["ecutwfc_Ry"].is_number())
    p.size.n_pw = estimated_plane_waves((*it)["system"].value("volume_bohr3", 0.0), record["ecutwfc_Ry"].get<double>());
  return p;
}

std::vector<CostPoint> cost_points_from_dataset(const std::filesystem::path& path) {
  const auto data = read_optimate_dataset(path);
  std::vector<CostPoint> points;
  const std::string name = path.filename().string();
  for (const auto& m : data.materials)
    if (auto p = cost_point_from_dataset_record(m.provenance, name + ":" + m.id)) points.push_back(std::move(*p));
  return points;
}

CostCheck check_cost_model(const CostModel& m, const std::filesystem::path& data, const SizeOptions& o) {
  CostCheck c;
  for (const auto& mat : read_optimate_dataset(data).materials) {
    const auto p = cost_point_from_dataset_record(mat.provenance, data.string() + ":" + mat.id);
    if (!p || !(p->cpu_seconds > 0)) continue;
    auto size = o;
    size.n_freq = p->size.n_freq;  // the run's own protocol
    const auto est = estimate_size(mat.structure, size);
    c.nk.push_back(est.nk / p->size.nk);
    c.transitions.push_back(est.n_valence * est.n_conduction / (p->size.n_valence * p->size.n_conduction));
    c.n_g.push_back(est.n_g / p->size.n_g);
    c.cpu_from_structure.push_back(m.cpu_seconds(est) / p->cpu_seconds);
    c.cpu_own_sizes.push_back(m.cpu_seconds(p->size) / p->cpu_seconds);
  }
  if (c.nk.empty()) fail_input(data, "a data set without any RPA run to compare with");
  return c;
}

std::array<double, CostModel::n_terms> CostModel::terms(const RpaSize& s) {
  const double trans = s.nk * s.n_valence * s.n_conduction;
  const double nk_irr = s.nk_irreducible > 0 ? s.nk_irreducible : s.nk;
  const double osc =
      s.n_pw > 0 ? nk_irr * s.n_valence * s.n_conduction * s.n_g * std::pow(s.n_pw, plane_wave_exponent) : 0;
  return {trans * s.n_g * s.n_g, trans, s.n_freq * s.n_g * s.n_g * s.n_g, s.n_freq * s.n_g * s.n_g, 1.0, osc};
}

std::array<const char*, CostModel::n_terms> CostModel::term_names() {
  return {"nk*nv*nc*ng^2", "nk*nv*nc", "nfreq*ng^3", "nfreq*ng^2", "1", "nk_irr*nv*nc*ng*npw^a"};
}

double CostModel::cpu_seconds(const RpaSize& s) const {
  const auto t = terms(s);
  double sum = 0;
  for (int i = 0; i < n_terms; ++i) sum += coefficients[i] * t[i];
  return sum;
}

CostModel CostModel::fit(std::vector<CostPoint> points, std::string machine) {
  points.erase(std::remove_if(points.begin(), points.end(),
                              [](const CostPoint& p) { return !(p.cpu_seconds > 0) || !std::isfinite(p.cpu_seconds); }),
               points.end());
  if (points.size() < 2) fail(fmt::format("fitting the cost model needs at least 2 timed runs, got {}", points.size()));
  const int np = int(points.size());
  // Relative residuals: row i is terms_i / t_i, target 1.
  Eigen::MatrixXd a(np, n_terms);
  for (int i = 0; i < np; ++i) {
    const auto t = terms(points[i].size);
    for (int j = 0; j < n_terms; ++j) a(i, j) = t[j] / points[i].cpu_seconds;
  }
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(np);
  // Exact non-negative least squares for a handful of unknowns: try every subset of active terms and
  // keep the best feasible one (2^6 - 1 small solves).
  double best = std::numeric_limits<double>::infinity();
  std::array<double, n_terms> best_c{};
  for (int mask = 1; mask < (1 << n_terms); ++mask) {
    std::vector<int> cols;
    for (int j = 0; j < n_terms; ++j)
      if (mask & (1 << j)) cols.push_back(j);
    if (int(cols.size()) > np) continue;
    Eigen::MatrixXd sub(np, cols.size());
    for (std::size_t c = 0; c < cols.size(); ++c) sub.col(c) = a.col(cols[c]);
    // Scale columns: the terms differ by many orders of magnitude.
    Eigen::VectorXd scale = sub.colwise().norm().transpose();
    if ((scale.array() <= 0).any()) continue;
    const Eigen::MatrixXd scaled = sub * scale.cwiseInverse().asDiagonal();
    const Eigen::VectorXd x = scaled.colPivHouseholderQr().solve(ones).cwiseQuotient(scale);
    if ((x.array() < 0).any() || !x.allFinite()) continue;
    const double res = (sub * x - ones).squaredNorm();
    if (res < best) {
      best = res;
      best_c = {};
      for (std::size_t c = 0; c < cols.size(); ++c) best_c[cols[c]] = x[c];
    }
  }
  if (!std::isfinite(best)) fail("the cost model fit found no non-negative solution");
  CostModel m;
  m.coefficients = best_c;
  m.points = std::move(points);
  m.machine = std::move(machine);
  std::vector<double> rel;
  for (const auto& p : m.points) rel.push_back(std::abs(m.cpu_seconds(p.size) - p.cpu_seconds) / p.cpu_seconds);
  std::nth_element(rel.begin(), rel.begin() + rel.size() / 2, rel.end());
  m.median_relative_error = rel[rel.size() / 2];
  return m;
}

nlohmann::json CostModel::to_json() const {
  nlohmann::json j;
  j["format"] = "rung-cost-model";
  j["format_version"] = 2;
  j["plane_wave_exponent"] = plane_wave_exponent;
  j["rung_version"] = version_string;
  j["model"] = "cpu_seconds = sum_i coefficients[i] * terms[i]";
  j["terms"] = term_names();
  j["coefficients"] = coefficients;
  j["machine"] = machine;
  j["median_relative_error"] = median_relative_error;
  auto& pts = j["points"] = nlohmann::json::array();
  for (const auto& p : points)
    pts.push_back({{"size", p.size.to_json()}, {"cpu_seconds", p.cpu_seconds}, {"source", p.source},
                   {"model_cpu_seconds", cpu_seconds(p.size)}});
  return j;
}

CostModel CostModel::from_json(const nlohmann::json& j, const std::filesystem::path& origin) {
  CostModel m;
  try {
    if (j.at("format").get<std::string>() != "rung-cost-model") fail_input(origin, "not a rung cost model");
    auto c = j.at("coefficients").get<std::vector<double>>();
    // format 1 had no oscillator term: its coefficient is 0
    if (j.value("format_version", 1) == 1 && c.size() == n_terms - 1) c.push_back(0.0);
    if (c.size() != n_terms) fail_input(origin, fmt::format("expected {} coefficients, found {}", n_terms, c.size()));
    if (j.contains("plane_wave_exponent") &&
        std::abs(j["plane_wave_exponent"].get<double>() - plane_wave_exponent) > 1e-9)
      fail_input(origin, fmt::format("fitted with the plane-wave exponent {} but this rung uses {}: refit it "
                                     "(rung cost-model fit)",
                                     j["plane_wave_exponent"].get<double>(), plane_wave_exponent));
    for (int i = 0; i < n_terms; ++i) {
      if (!std::isfinite(c[i]) || c[i] < 0) fail_input(origin, "cost coefficients must be finite and >= 0");
      m.coefficients[i] = c[i];
    }
    m.machine = j.value("machine", "");
    m.median_relative_error = j.value("median_relative_error", 0.0);
    for (const auto& p : j.value("points", nlohmann::json::array()))
      m.points.push_back({RpaSize::from_json(p.at("size"), origin.string()), p.at("cpu_seconds").get<double>(),
                          p.value("source", "")});
  } catch (const nlohmann::json::exception& e) {
    fail_input(origin, std::string("malformed cost model: ") + e.what());
  }
  return m;
}

CostModel CostModel::load(const std::filesystem::path& path) { return from_json(read_json_file(path), path); }

std::optional<CostModel> CostModel::load_default() {
  const auto p = share_dir() / "cost_model.json";
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::nullopt;
  return load(p);
}

}  // namespace rung::select
