#pragma once
// Quantum ESPRESSO's prefix.save/ folder: data-file-schema.xml (read eagerly) and the wfcN.dat
// wavefunction files (read lazily, one k-point at a time). Everything in Hartree atomic units.
//
// Conventions (see doc/qe-reader.md, "Units" and "Index order"):
//  - k-points: Cartesian, Bohr^-1 (QE stores them in 2π/alat units; converted here).
//  - reciprocal vectors: rows of `reciprocal`, Bohr^-1, with a_i·b_j = 2π δ_ij.
//  - eigenvalues/occupations: [ik][band] (spin-unpolarised); for lsda QE lists up then down bands
//    per k-point: `eigenvalues` then has 2*nbnd columns and `lsda` is true.
//  - symmetry rotations: `rotation` acts on crystal (fractional) coordinates as QE's s(:,:,isym);
//    `rotation_cart` is the same operation in Cartesian coordinates; `fractional_translation` is in
//    crystal coordinates (QE's ft), with QE's sign: the operation maps x to rotation·x − ft.
//    On k-points in crystal coordinates the same rotation acts as rotation^{-T} (bz::k_rotation).
#include "core/structure.hpp"

#include <Eigen/Dense>

#include <array>
#include <complex>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rung::qe {

enum class PseudoKind { norm_conserving, ultrasoft, paw, unknown };
std::string to_string(PseudoKind);

struct Species {
  std::string label;        // as in ATOMIC_SPECIES ("Si", "Si1")
  int z = 0;                // atomic number
  double mass = 0;
  std::string pseudo_file;  // file name as given in the XML
  std::filesystem::path pseudo_path;  // resolved: prefix.save/<file>, else the XML's pseudo_dir
  PseudoKind kind = PseudoKind::unknown;  // from the UPF header (read on load)
};

struct SymmetryOp {
  Eigen::Matrix3i rotation;                     // crystal coordinates (QE s)
  Eigen::Matrix3d rotation_cart;                // Cartesian
  Eigen::Vector3d fractional_translation = Eigen::Vector3d::Zero();  // crystal coordinates: x -> R x - ft
  std::string name;
};

struct MonkhorstPack {
  std::array<int, 3> n{0, 0, 0};
  std::array<int, 3> shift{0, 0, 0};  // 0 or 1, QE's k1 k2 k3
};

// The plane-wave coefficients of all bands at one k-point.
struct Wavefunction {
  int ik = 0;                       // 0-based k index
  Eigen::Vector3d k_cart;           // Bohr^-1
  bool gamma_only = false;
  int npol = 1;                     // 2 for noncollinear spinors
  int ngw = 0;                      // number of plane waves
  Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor> miller;  // ngw x 3, G = m1 b1 + m2 b2 + m3 b3
  Eigen::MatrixXcd coefficients;    // (ngw*npol) x nbnd, column = band, normalised to 1
};

struct Save {
  std::filesystem::path dir;         // the prefix.save folder
  std::filesystem::path xml;         // its data-file-schema.xml
  std::string prefix;
  std::string qe_version;            // creator version

  Structure structure;               // Bohr
  double alat = 0;                   // Bohr
  Eigen::Matrix3d reciprocal;        // rows b1..b3, Bohr^-1 (2π included)
  std::vector<Species> species;      // ATOMIC_SPECIES order
  std::vector<int> atom_species;     // per atom: index into `species`

  double ecutwfc = 0, ecutrho = 0;   // Ha
  std::array<int, 3> fft_grid{0, 0, 0};
  bool gamma_only = false;           // Γ-only run: wavefunctions hold half the G sphere
  std::string functional;
  std::vector<SymmetryOp> symmetries;  // crystal symmetries used by the run (nrot first nsym)
  int nrot = 0;                      // number of Bravais-lattice symmetries (informational)
  bool no_inversion = false;         // noinv
  bool no_symmetry = false;          // nosym
  bool time_reversal = true;         // false for magnetic noncollinear runs

  bool lsda = false, noncolin = false, spinorbit = false;
  std::string occupations;           // "fixed", "smearing", "tetrahedra", ...
  double nelec = 0;
  int nbnd = 0;                      // bands per spin channel
  std::optional<double> fermi_energy, homo, lumo;  // Ha
  // A spin-polarised run at fixed total magnetisation: one Fermi level per spin channel (up, down; Ha). fermi_energy
  // is then the higher of the two.
  std::optional<std::array<double, 2>> two_fermi_energies;
  std::optional<MonkhorstPack> mp_grid;

  std::vector<Eigen::Vector3d> k_cart;  // irreducible (or full) k list, Bohr^-1
  std::vector<double> k_weights;        // QE weights (sum 2 for unpolarised)
  std::vector<int> npw;                 // plane waves per k-point (XML <npw>; -1 if absent)
  Eigen::MatrixXd eigenvalues;          // nk x nbnd(x2 for lsda), Ha
  Eigen::MatrixXd occupations_kb;       // same shape, 0..1 per state as QE writes them

  // Set when this object stands for a YAMBO SAVE (yambo::as_qe_save): wavefunctions then come from
  // ns.wf* through `wavefunction_reader`, and the KB projectors from ns.kb_pp_pwscf* (no UPF files).
  std::filesystem::path yambo_save;
  std::function<Wavefunction(int ik, int spin)> wavefunction_reader;

  // Locate and parse. `path` may be the prefix.save folder, its data-file-schema.xml, or a folder
  // holding exactly one *.save. Missing/malformed files -> rung::Error (input) naming the file.
  static Save read(const std::filesystem::path& path);

  std::size_t nk() const { return k_cart.size(); }
  // Reads wfc<ik+1>.dat (or wfcup/wfcdw for lsda, spin = 0/1). Validates record lengths against the
  // header and that Miller indices and coefficient counts are consistent.
  Wavefunction read_wavefunction(int ik, int spin = 0) const;
  std::filesystem::path wavefunction_file(int ik, int spin = 0) const;

  // Number of fully occupied bands for an insulator (nelec/2 for unpolarised, nelec for noncollinear).
  int occupied_bands() const;
  bool is_insulator() const;  // fixed occupations, or a gap at the Fermi level with integer fillings
  // The number of bands of spin channel `spin` filled at every k (integer occupations, the same count at every k;
  // 0 for an empty channel), or none where a filling is fractional or the count changes with k.
  std::optional<int> filled_bands(int spin) const;
  // A spin-polarised run whose occupations are unknown (a YAMBO SAVE keeps energies only): the bands filled in each
  // channel (up, down) when its nelec electrons fill every state below one gap common to both channels, as a
  // single Fermi level inside it would (YAMBO's rule); none when no such gap exists (a metal). Each channel keeps
  // at least one empty band.
  std::optional<std::array<int, 2>> common_gap_filling() const;

  // The band edges of spin channel `spin` (0 unless lsda) with its `nocc` lowest bands filled at every k
  // (0 < nocc < nbnd), in Ha: the highest filled and the lowest empty energy over the k-points, and the smallest
  // gap at one k-point. A gap is cbm > vbm.
  struct BandEdges {
    double vbm, cbm, direct;
  };
  BandEdges band_edges(int spin, int nocc) const;
};

}  // namespace rung::qe
