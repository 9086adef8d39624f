#pragma once
// YAMBO dipole databases, all three layouts (doc/yambo-reader.md):
//   * ndb.dipoles with single variables DIP_iR, DIP_P, DIP_v: Fortran (2,3,nc,nv,nk,n_sp_pol)
//     = C [isp][ik][iv][ic][xyz][re/im] (parallel-IO builds; what yambopy reads);
//   * ndb.dipoles + ndb.dipoles_fragment_<ik+(isp-1)nk> with DIP_<X>_k_%04d_spin_%04d,
//     C [iv][ic][xyz][re/im] (serial-IO builds, e.g. the 5.2.4 runs in ../shared/reference);
//   * legacy 4.x ndb.dip_iR_and_P + ndb.dip_iR_and_P_fragment_<ik> (DIP_iR and DIP_P only).
// Contents (atomic units, KS energies, irreducible k-points of ns.db1):
//   iR(c,v,k) = i<v|r|c> (Bohr),  P(c,v,k) = <v|p|c>,  v(c,v,k) = <v|p + i[Vnl,r]|c>,
//   with iR = v / (E_v − E_c), set to 0 where |E_v − E_c| ≤ 1e-5 eV (P instead of v in 4.x / no KB).
// Band indices in the accessors are 0-based GLOBAL band numbers: v in [v_first, v_last],
// c in [c_first, c_last] (from PARS: band range and band limits; c_first = v_first when the
// database was written with unordered bands).
#include <complex>
#include <filesystem>
#include <string>
#include <vector>

namespace rung::yambo {

enum class DipoleKind { iR, P, v };

struct Dipoles {
  std::filesystem::path path;   // the main file (ndb.dipoles or ndb.dip_iR_and_P)
  std::string layout;           // "single", "fragments" or "legacy"
  int nk = 0, n_sp_pol = 1;
  int v_first = 0, v_last = 0;  // 0-based valence band range
  int c_first = 0, c_last = 0;  // 0-based conduction band range
  bool vnl_included = false;    // PARS(8): [r,Vnl] included
  int rl_vectors = 0;           // PARS(7): G-vectors used in the sums
  std::string approach, kinds;  // "G-space v", "R V P" (absent in legacy files)
  std::vector<std::complex<double>> iR, P, vel;  // [isp][ik][iv][ic][xyz]; empty when not stored

  int nv() const { return v_last - v_first + 1; }
  int nc() const { return c_last - c_first + 1; }
  bool has(DipoleKind k) const { return !data(k).empty(); }
  const std::vector<std::complex<double>>& data(DipoleKind k) const {
    return k == DipoleKind::iR ? iR : (k == DipoleKind::P ? P : vel);
  }
  std::size_t index(int isp, int ik, int v, int c, int dir) const {
    return ((((std::size_t(isp) * std::size_t(nk) + std::size_t(ik)) * std::size_t(nv()) + std::size_t(v - v_first)) *
                 std::size_t(nc()) + std::size_t(c - c_first)) * 3) + std::size_t(dir);
  }
  // Component dir (0,1,2 = x,y,z) for valence band v and conduction band c (0-based global).
  std::complex<double> at(DipoleKind k, int isp, int ik, int v, int c, int dir) const {
    return data(k)[index(isp, ik, v, c, dir)];
  }
};

// Reads the dipoles in `path`: a file (ndb.dipoles / ndb.dip_iR_and_P) or a directory holding
// one of them. Fragments are looked for beside the main file. fail_input on anything missing,
// malformed or inconsistent (band ranges vs shapes, k count vs HEAD_R_LATT).
Dipoles read_dipoles(const std::filesystem::path& path);

}  // namespace rung::yambo
