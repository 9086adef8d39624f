#pragma once
// YAMBO's SAVE/ns.db1 (written by p2y/a2y, io_DB1.F): lattice, atoms, symmetries, k-points,
// eigenvalues and the G-vector / wavefunction-basis tables. Everything in Hartree atomic units.
//
// Conventions (checked on the 5.2.4 Si databases in ../shared/reference):
//  * "iku" (internal k units): k-points and G-vectors are CARTESIAN, component i in units of
//    2π/alat[i] with alat = LATTICE_PARAMETER (per axis). For fcc Si with QE alat 10.26, YAMBO
//    stores alat = (5.13, 5.13, 5.13): p2y takes the largest |component| of the lattice vectors
//    along each axis, not QE's celldm(1). Use iku_to_cartesian(); never assume QE's alat.
//  * Eigenvalues are the DFT code's KS energies in Ha, unshifted (QE's eV values / 27.2114).
//  * Symmetries are cartesian 3×3 matrices R (act on column vectors, R·k). With time reversal
//    (time_reversal == true) the list is doubled: ops nsym/2 .. nsym-1 (0-based) are stored as −R
//    and mean "k → −R k" (doc/yambo-reader.md). nsym counts both halves (48 for Si).
//  * Single precision: entries within 1e-5 of 0, ±1/2, ±1 or ±√3/2 are snapped to them (SP files
//    store 0.9999999 for 1).
#include <Eigen/Dense>

#include <array>
#include <filesystem>
#include <vector>

#include "core/structure.hpp"

namespace rung::yambo {

struct Db1 {
  std::filesystem::path path;
  std::array<int, 3> version{};  // YAMBO version that wrote it, e.g. 5 2 4
  int revision = 0;

  Eigen::Vector3d alat = Eigen::Vector3d::Zero();       // LATTICE_PARAMETER, Bohr (per axis, iku scale)
  Eigen::Matrix3d lattice = Eigen::Matrix3d::Zero();    // rows a1, a2, a3, cartesian Bohr
  std::vector<int> species_z;                           // atomic number per species
  std::vector<std::vector<Eigen::Vector3d>> atom_pos;   // [species][atom] cartesian Bohr

  std::vector<Eigen::Matrix3d> symmetries;  // cartesian R, file order (T-rev half stored as −R)
  bool time_reversal = false;               // i_time_rev (DIMENSIONS(10))

  // DIMENSIONS(i) is YAMBO's 1-based numbering (doc/yambo-reader.md).
  int nbands = 0;        // DIMENSIONS(6)
  int nk = 0;            // irreducible k-points, DIMENSIONS(7)
  int ng = 0;            // G-vectors in G_iku, DIMENSIONS(8)
  int wf_ncx = 0;        // max wavefunction components per k, DIMENSIONS(9)
  int wf_ng = 0;         // WF_G_COMPONENTS: largest G index the wavefunctions use
  int n_spinor = 1;      // DIMENSIONS(12)
  int n_sp_pol = 1;      // DIMENSIONS(13)
  double temperature_Ha = 0;  // electronic temperature (DIMENSIONS(14)); p2y writes 300 K for smearing runs
  double nelec = 0;           // number of electrons (DIMENSIONS(15))

  std::vector<Eigen::Vector3d> g_iku;     // [ng], sorted by |G|, G = 0 first
  std::vector<Eigen::Vector3d> k_iku;     // [nk]
  std::vector<double> eigenvalues_Ha;     // [isp][ik][ib]
  std::vector<int> wfc_ng;                // [nk] valid components per k
  std::vector<int> wfc_grid;              // [ik][ic] (nk × wf_ncx): 0-based index into g_iku, -1 = padding

  int nsym() const { return int(symmetries.size()); }
  std::size_t natoms() const;
  double energy(int isp, int ik, int ib) const {
    return eigenvalues_Ha[(std::size_t(isp) * std::size_t(nk) + std::size_t(ik)) * std::size_t(nbands) + std::size_t(ib)];
  }
  Eigen::Vector3d iku_to_cartesian(const Eigen::Vector3d& v) const;  // Bohr^-1: v[i]·2π/alat[i]
  Eigen::Vector3d k_cartesian(int ik) const { return iku_to_cartesian(k_iku[std::size_t(ik)]); }
  Eigen::Vector3d g_cartesian(int ig) const { return iku_to_cartesian(g_iku[std::size_t(ig)]); }
  Eigen::Vector3i g_miller(int ig) const;  // integer reduced coordinates a_i·G/2π
  Eigen::Vector3d k_crystal(int ik) const; // reduced coordinates a_i·k/2π
  double volume() const;                   // |a1·(a2×a3)|, Bohr^3
  // 0-based index of the top occupied band of an insulator at T=0: nelec·n_spinor/2 − 1 per YAMBO
  // (spin_occ = 2/n_spin; spin-polarised: nelec/2 per channel is only a guess, use occupations).
  int n_occupied_insulator() const;
  Structure structure() const;  // fractional coordinates from the cartesian positions
};

// Reads `path` (the ns.db1 file, or a SAVE directory containing it). Shapes are cross-checked
// against DIMENSIONS; anything inconsistent is fail_input naming the file.
Db1 read_db1(const std::filesystem::path& path);

}  // namespace rung::yambo
