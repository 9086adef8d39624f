#pragma once
// What `rung dataset run` is asked, in one vocabulary (the same idea as response::SpectrumRequest): each field
// is listed once in `visit` with its canonical key, its `rung dataset run` flag and its help; the JSON reader,
// the writer (every record's "settings") and the CLI binding all go through that list. Defaults are stated
// here once: the paper's window and broadening (core/paper.hpp), rung's k densities per tier
// (doc/dataset.md). doc/dataset.md lists the keys.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/paper.hpp"
#include "response/spectrum_request.hpp"

namespace rung::dataset {

// The data ladder's tiers. full: the IPA and the RPA at the full protocol (the labels the models learn);
// lite: the IPA alone at a cheaper protocol (coarser k grids), for many more structures.
enum class Tier { full, lite };
const char* to_string(Tier t);
Tier parse_tier(const std::string& s);  // fail_usage naming the key "tier"

// k-points per reciprocal atom of a tier's scf and nscf runs. full: nscf the paper's RPA protocol, scf 300 (the
// density of an insulator; 1000 before the cost cut, labels unchanged: doc/dataset.md, "Cost per material");
// lite: chosen by measurement (doc/dataset.md, "The IPA-lite tier").
struct KDensities {
  double scf_kppa, nscf_kppa;
};
inline constexpr KDensities full_protocol{300, 1500};
inline constexpr KDensities lite_protocol{300, 500};

// The factory's native solver computes chi0 and the Dyson equation every 40 meV (every 4th output frequency) and
// interpolates (solver_step_eV): RPA 1.8× cheaper, SC 0.99999 against every frequency (doc/dataset.md).
inline constexpr double factory_solver_step_eV = 0.04;
// ... and bins its spectral function every 20 meV (15 bins per 0.3-eV broadening, the solver's own default is 30):
// the RPA solver 17 % cheaper, SC 0.99997 against 30 (doc/dataset.md, "Cost per material").
inline constexpr double factory_points_per_eta = 15;
inline response::SpectrumRequest factory_solver_defaults() {
  response::SpectrumRequest r;
  r.points_per_eta = factory_points_per_eta;
  return r;
}

struct FactoryRequest {
  Tier tier = Tier::full;
  std::filesystem::path structures;  // file (jsonl, cif, ...) or folder of structure files
  std::filesystem::path pseudo_dir;  // holds table.json; "" = share/pseudo
  std::filesystem::path out;         // DATA.h5
  std::filesystem::path work_dir;    // "" = <out>.work
  int max_atoms = 6;                 // larger cells are recorded as skipped
  std::optional<double> ecutwfc_Ry;  // unset: the largest table cutoff among the elements
  std::optional<double> scf_kppa;    // unset: the tier's (full_protocol, lite_protocol)
  std::optional<double> nscf_kppa;
  double window_eV = paper::band_window_eV;     // bands up to VBM + window
  // pw.x settings of the two runs (doc/dataset.md, "Cost per material"): the scf's total-energy threshold, the
  // nscf's (pw.x derives Davidson's ethr = conv_thr / N_el / 10 from it) and the headroom factor on the
  // free-electron band estimate (1.0: 2 of 405 earlier materials and none of the cost
  // study's 20 would need a second nscf; 0.9 needed it for 2 of the 20). Before the cost cut: 1e-9, 1e-7 and 1.2.
  double scf_conv_thr_Ry = 1e-9;
  double nscf_conv_thr_Ry = 1e-5;
  double nscf_band_headroom = 1.0;
  double broadening_eV = paper::broadening_eV;  // of the spectra
  double symprec_angstrom = 0.01;    // spglib tolerance
  int qe_ranks = 1;                  // > 1: "mpirun -np N pw.x" (only with a 1-rank farm)
  std::string pw_command = "pw.x";
  std::string mpirun_command = "mpirun";
  bool keep_qe_files = false;        // keep prefix.save after a finished material (large)
  // The scf kept for the other tier's run of a material (WORK/scf/<id>), only for cells of at most this many atoms:
  // tools/factory.sh's lite farm takes cells of <= 4 atoms, so its full farm keeps none of the larger ones.
  int keep_scf_max_atoms = 6;
  // The native solver's request (its canonical keys); the factory sets directions, grid, broadening and bands.
  response::SpectrumRequest solver = factory_solver_defaults();  // --solver-options keys apply on top of these
  std::vector<std::string> only_ids;  // non-empty: only these ids

  template <class Self, class F>
  static void visit(Self& r, F&& f);

  // fail_usage naming the key: an unknown key, a value of the wrong type.
  static FactoryRequest from_json(const nlohmann::json& options);
  // Every key, the k densities as used (the tier's when not given); ecutwfc_Ry absent = the table's.
  nlohmann::json to_json() const;
  static std::vector<std::string> keys();
  // fail_usage naming the key of a value out of range (run_dataset also needs structures and out).
  void validate() const;
  // The solver's request for one material: the solver options with the factory's step (unless given), the
  // crystal's field directions, the broadening, the paper's grid and bands 1..bands_in_window.
  response::SpectrumRequest solver_request(const std::vector<char>& directions, int bands_in_window) const;

  double scf_kppa_used() const { return scf_kppa.value_or(tier == Tier::lite ? lite_protocol.scf_kppa : full_protocol.scf_kppa); }
  double nscf_kppa_used() const {
    return nscf_kppa.value_or(tier == Tier::lite ? lite_protocol.nscf_kppa : full_protocol.nscf_kppa);
  }
};

// JSON of a tier ("full" | "lite"), for the request's list.
void read(const char* key, const nlohmann::json& v, Tier& out);
void to_json(nlohmann::json& j, const Tier& t);

template <class Self, class F>
void FactoryRequest::visit(Self& r, F&& f) {
  f("tier", "--tier", "full (IPA + RPA labels) or lite (IPA alone, coarser k grids unless given)", r.tier);
  f("structures", "--structures", "Structure file (jsonl, cif, POSCAR, pw.x input) or folder", r.structures);
  f("pseudo_dir", "--pseudo-dir", "Folder with table.json and the UPF files (default: rung's share/pseudo)",
    r.pseudo_dir);
  f("out", "--out", "Output data set (HDF5, format rung-optimate-dataset)", r.out);
  f("work_dir", "--work-dir", "Records, claims and QE runs (default: <out>.work)", r.work_dir);
  f("max_atoms", "--max-atoms", "Skip larger cells (recorded as skipped)", r.max_atoms);
  f("ecutwfc_Ry", "--ecut", "ecutwfc in Ry for every material (default: the table's largest among its elements)",
    r.ecutwfc_Ry);
  f("scf_kppa", "--k-density", "scf k-points per reciprocal atom (default: full 300, lite 300)", r.scf_kppa);
  f("nscf_kppa", "--nscf-k-density", "nscf k-points per reciprocal atom, spectra (default: full 1500, lite 500)",
    r.nscf_kppa);
  f("window_eV", "--window", "Bands up to VBM + this (eV)", r.window_eV);
  f("scf_conv_thr_Ry", "--scf-conv-thr", "pw.x conv_thr of the scf run (Ry)", r.scf_conv_thr_Ry);
  f("nscf_conv_thr_Ry", "--nscf-conv-thr", "pw.x conv_thr of the nscf run (Ry; sets Davidson's threshold)",
    r.nscf_conv_thr_Ry);
  f("nscf_band_headroom", "--nscf-band-headroom",
    "nscf bands: factor on the free-electron estimate of the states up to VBM + window", r.nscf_band_headroom);
  f("broadening_eV", "--broadening", "Lorentzian broadening of the spectra (eV)", r.broadening_eV);
  f("symprec_angstrom", "--symprec", "spglib tolerance (Angstrom)", r.symprec_angstrom);
  f("qe_ranks", "--qe-ranks", "MPI ranks per pw.x run (farm of one rank only)", r.qe_ranks);
  f("pw_command", "--pw-command", "pw.x executable", r.pw_command);
  f("mpirun_command", "", "MPI launcher of pw.x when qe_ranks > 1", r.mpirun_command);
  f("keep_qe_files", "--keep-qe-files", "Keep each material's prefix.save (large)", r.keep_qe_files);
  f("keep_scf_max_atoms", "--keep-scf-max-atoms",
    "Keep the scf for the other tier's run only for cells of at most this many atoms", r.keep_scf_max_atoms);
  f("solver_options", "--solver-options", "Native-solver options (a JSON object over the spectrum keys)", r.solver);
  f("ids", "--ids", "Only these material ids (comma separated)", r.only_ids);
}

}  // namespace rung::dataset
