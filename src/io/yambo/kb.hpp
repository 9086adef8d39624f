#pragma once
// YAMBO's Kleinman-Bylander projector tables written by p2y: SAVE/ns.kb_pp_pwscf (header) and
// SAVE/ns.kb_pp_pwscf_fragment_<ik> (tables per k). Their presence is what makes YAMBO include
// the [r, Vnl] term in the dipoles. Index order (C, 0-based):
//   pp_table [ip][is][3]: l+1 (0 = projector unused), 2j (SOC, else 0), spin (abinit only)
//   kbs      [ip][is]   : sign of the KB energy
//   kb, kbd  [ip][is][ic]: KB(|k+G|) = sqrt(|D|/(2Ω))·f_l(|k+G|)·|k+G|^l and d KB/d|k+G|
//                          (ic = wavefunction component of k, as in ns.wf; beyond wfc_ng: padding)
// Units: Hartree atomic units as YAMBO uses them (1/Ω and Ry→Ha already inside KB, KBD).
#include <Eigen/Dense>

#include <filesystem>
#include <vector>

#include "io/yambo/db1.hpp"

namespace rung::yambo {

struct KbHeader {
  std::filesystem::path save_dir;
  int natoms_max = 0, nspecies = 0, nproj = 0, n_l_max = 0;  // PARS
  std::vector<int> natoms;                                   // [is]
  std::vector<int> pp_table;                                 // [ip][is][3]
  std::vector<int> kbs;                                      // [ip][is]
  std::vector<std::vector<Eigen::Vector3d>> atom_pos;        // [is][ia] cartesian Bohr
  int l_plus_1(int ip, int is) const { return pp_table[(std::size_t(ip) * std::size_t(nspecies) + std::size_t(is)) * 3]; }
  int two_j(int ip, int is) const { return pp_table[(std::size_t(ip) * std::size_t(nspecies) + std::size_t(is)) * 3 + 1]; }
  int sign(int ip, int is) const { return kbs[std::size_t(ip) * std::size_t(nspecies) + std::size_t(is)]; }
};

struct KbTables {
  int ik = 0, nproj = 0, nspecies = 0, ncx = 0;
  std::vector<double> kb, kbd;  // [ip][is][ic]
  double kb_at(int ip, int is, int ic) const { return kb[index(ip, is, ic)]; }
  double kbd_at(int ip, int is, int ic) const { return kbd[index(ip, is, ic)]; }
  std::size_t index(int ip, int is, int ic) const {
    return (std::size_t(ip) * std::size_t(nspecies) + std::size_t(is)) * std::size_t(ncx) + std::size_t(ic);
  }
};

// True if SAVE has ns.kb_pp_pwscf (the [r,Vnl] term can be computed).
bool has_kb_pp(const std::filesystem::path& save_dir);
KbHeader read_kb_header(const std::filesystem::path& save_dir, const Db1& db1);
// Tables of k-point ik (0-based) from ns.kb_pp_pwscf_fragment_<ik+1> (or the header file when the
// database is not fragmented).
KbTables read_kb_tables(const KbHeader& header, const Db1& db1, int ik);

}  // namespace rung::yambo
