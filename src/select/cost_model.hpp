#pragma once
// What an RPA run will cost, estimated from the size of the system before anything is computed.
//
// The native RPA spends its time in these places (doc/selection.md):
//   building chi0:       every transition (k, v, c) contributes an outer product over the G block
//                        -> Nk·Nv·Nc·NG²
//   per transition:      reading, rotating and binning each (k, v, c) -> Nk·Nv·Nc
//   the Dyson equation:  one NG×NG inversion per frequency -> Nω·NG³
//   the spectral route:  a Hilbert transform per G pair over the frequency grid -> Nω·NG²
//   fixed costs:         reading the save, set-up -> 1
//   the oscillators:     ρ_vc(G) as a convolution over the plane waves of each irreducible k-point
//                        -> Nk,irr·Nv·Nc·NG·Npw^a, a = plane_wave_exponent (measured, doc/solver.md)
// so  cpu_seconds = Σ c_i·term_i with c_i >= 0 fitted (non-negative least squares on relative errors)
// to timings rung measured on its own runs. The fitted coefficients and the data points they came
// from live in share/cost_model.json.
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/structure.hpp"
#include "core/paper.hpp"
#include "dataset/pseudo_table.hpp"

namespace rung::qe { struct Save; }

namespace rung::select {

// The sizes the cost depends on.
struct RpaSize {
  double nk = 0;        // k-points in the full Brillouin zone
  double n_valence = 0;
  double n_conduction = 0;
  double n_g = 0;       // G-block size (local fields); 1 = IPA
  double n_freq = double(paper::steps);
  std::string how;      // "qe-save" or "structure estimate": how the numbers were obtained
  double nk_irreducible = 0;  // k-points whose oscillators are computed (0 = unknown: taken as nk)
  double n_pw = 0;            // plane waves per k-point (0 = unknown: the oscillator term is left out)

  nlohmann::json to_json() const;
  static RpaSize from_json(const nlohmann::json& j, const std::string& origin);
};

// How a size is estimated when only a structure (or a ground-state run) is known: rung's own protocol
// (the data-set factory's), so that the estimate is of the run `rung select --launch native` would make.
struct SizeOptions {
  double kppa = 1500;             // k-points per reciprocal atom: the paper's RPA protocol (doc/selection.md)
  // G block. A cut-off > 0 (--block-cutoff) is the launches' fixed block. 0: the converged launch, which sweeps
  // blocks 4, 8, 16 ... Ry up to the first closed shell of at least `converged_block_g` G-vectors and stops when
  // two agree; the data set's converged runs (the points the cost model is fitted to, timed over the whole sweep
  // with the sweep's largest block as their size) end there in 65 % of cases (median 301 G; 10th percentile
  // 179 G), so the estimate takes that block.
  double block_cutoff_Ry = 0;
  // Empty bands up to VBM + 20 eV per Bohr³ of cell: the median of the data set's RPA runs (0.041;
  // 10th-90th percentile 0.034-0.050), where "3 per occupied band" was off by 1.5-3.8x.
  double conduction_per_bohr3 = 0.041;
  double n_freq = double(paper::steps);  // 0-20 eV in 10 meV steps
  std::size_t converged_block_g = 300;   // response::ConvergeOptions' largest block
};

// Number of G vectors in the block a cut-off gives both solvers: every shell up to the first closed shell with
// |G|² at or above the cut-off (Rydberg units: |G|² in Bohr⁻² equals the energy in Ry; rung's GBlockRequest and
// YAMBO's NGsBlkXd in Ry, e.g. 51 G for Si at 4 Ry), counted on the reciprocal lattice of `s` (exact, not the
// sphere-volume estimate).
double count_g_vectors(const Structure& s, double cutoff_Ry);
// The G-vectors up to the first closed shell holding at least `n_min` of them (rung's GBlockRequest::of_count).
double count_g_vectors_at_least(const Structure& s, std::size_t n_min);
// The block of a size estimate: the fixed cut-off, or the converged launch's largest block (SizeOptions).
double estimate_block_g(const Structure& s, const SizeOptions& o);
// Valence electrons per element as a pseudopotential without semicore states would have them
// (group 1-2: group, 3-12: group, 13-18: group-10, f-block: 3). An estimate, documented as such.
int estimated_valence_electrons(int z);
// The valence charge of rung's own pseudopotential for `z` (share/pseudo/table.json: what the factory
// and a native launch run with, semicore included), else estimated_valence_electrons(z). A broken
// table is an input error naming it (load_valence_table).
double valence_electrons(int z);
// `pseudo_dir`/table.json for valence_electrons: nullopt when the file does not exist (a checkout
// without share/pseudo: group counting, doc/selection.md); a table that exists but is not valid is
// fail_input naming it, never silently replaced.
std::optional<dataset::PseudoTable> load_valence_table(const std::filesystem::path& pseudo_dir);

// From a structure alone: Nk of the Gamma-centred grid the factory would use for `kppa`, Nv from the
// pseudopotentials' valence, Nc from the cell volume, NG counted below the block cut-off.
RpaSize estimate_size(const Structure& s, const SizeOptions& o);
// From a QE run: its bands and occupations, k-grid (Monkhorst-Pack product, else the k list) and cell.
RpaSize estimate_size(const qe::Save& save, const SizeOptions& o);

// One measured run.
struct CostPoint {
  RpaSize size;
  double cpu_seconds = 0;  // wall seconds x cores used
  std::string source;      // what was timed (file or command)
};

// The measured point in a rung spectrum file's provenance (written by the native solver):
// system.n_k_full, system.n_transitions (= Nk·Nv·Nc), parameters.n_g (for a converged run the largest
// block of the sweep, which chi0 was built for), parameters.steps (or parameters.solver_frequencies.count when
// the solver ran on every n-th frequency), timings_s.total_s x mpi_ranks; and, when
// present, system.n_k_irreducible and system.n_pw_mean (older files lack the latter: n_pw stays 0).
// fail_input(source, ...) when a field is missing.
CostPoint cost_point_from_provenance(const nlohmann::json& provenance, const std::string& source);

// The RPA run of one data-set record (`rung dataset run`: the material's provenance JSON, whose
// "rpa_provenance" is the native solver's); nullopt for a material without an RPA (a failed one). Without
// n_pw_mean in the solver's provenance, n_pw is estimated from the cell volume and the record's ecutwfc_Ry.
// fail_input(source, ...) when the record is malformed.
std::optional<CostPoint> cost_point_from_dataset_record(const std::string& provenance_json, const std::string& source);
// Every RPA run of a rung data set (DATA.h5) as a cost point named "DATA.h5:<material id>".
std::vector<CostPoint> cost_points_from_dataset(const std::filesystem::path& path);

class CostModel;
// How well `m` predicts a data set's RPA runs (`rung cost-model check` and its test): per run with a CPU time,
// estimated / actual for the k-points, transitions per k (Nv·Nc), the G block and the CPU time, the sizes
// estimated from the structure alone (estimate_size with `o`) but at the run's own solver frequencies (the
// factory solves every 4th since its cost cut, a launch every one: a setting of the run, not something the
// structure tells), and the CPU time of the run's own sizes. fail_input naming `data` when it holds no RPA run.
struct CostCheck {
  std::vector<double> nk, transitions, n_g, cpu_from_structure, cpu_own_sizes;
};
CostCheck check_cost_model(const CostModel& m, const std::filesystem::path& data, const SizeOptions& o = {});

// Mean plane waves per k-point of a cell of `volume_bohr3` at `ecutwfc_Ry`: the sphere |k+G|² < E_cut,
// V·E_cut^{3/2}/(6π²) (within 1 % of pw.x's counts for the cells of doc/solver.md).
double estimated_plane_waves(double volume_bohr3, double ecutwfc_Ry);

class CostModel {
public:
  static constexpr int n_terms = 6;
  // a in the oscillator term Npw^a: the oscillator stage's exponent in the plane-wave count, fitted by
  // bench/solver_scaling.py --ecut (doc/solver.md, "How the stages scale").
  static const double plane_wave_exponent;
  // The terms above for `s`, in that order.
  static std::array<double, n_terms> terms(const RpaSize& s);
  static std::array<const char*, n_terms> term_names();

  std::array<double, n_terms> coefficients{};  // CPU seconds per unit of each term
  std::vector<CostPoint> points;                      // the data the coefficients were fitted to
  std::string machine;                                // where the points were measured
  double median_relative_error = 0;                   // of the fit on its own points

  double cpu_seconds(const RpaSize& s) const;

  // Non-negative least squares on relative residuals ((model - t)/t); needs >= 2 points with t > 0.
  static CostModel fit(std::vector<CostPoint> points, std::string machine = {});

  nlohmann::json to_json() const;
  static CostModel from_json(const nlohmann::json& j, const std::filesystem::path& origin);
  static CostModel load(const std::filesystem::path& path);  // fail_input naming the file
  // share/cost_model.json when present.
  static std::optional<CostModel> load_default();
};

}  // namespace rung::select
