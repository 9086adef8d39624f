#pragma once
// YAMBO wavefunctions: SAVE/ns.wf (header: BAND_GROUPS) and the fragments
// SAVE/ns.wf_fragments_<ifrag>_<igrp> (ifrag = ik + (isp-1)·nk, igrp = band block), each holding
// WF_COMPONENTS_@_SP_POL<isp>_K<ik>_BAND_GRP_<igrp>, Fortran (2, wf_ncx, n_spinor, nb_block)
// = C [band][spinor][component][re/im]. Non-fragmented databases (everything inside ns.wf) are read
// too. Component ic of k-point ik is the plane wave k + G with G = db1.g_iku[db1.wfc_grid[ik][ic]];
// components ic ≥ wfc_ng[ik] are padding and returned as zero. YAMBO normalises Σ|c|² = 1 over all
// components and spinors (single precision files: to ~1e-6).
#include <complex>
#include <filesystem>
#include <vector>

#include "io/yambo/db1.hpp"

namespace rung::yambo {

struct KWavefunctions {
  int ik = 0, isp = 0;             // 0-based
  int nbands = 0, n_spinor = 1;
  int ncx = 0;                     // components stored per band and spinor (db1.wf_ncx)
  int ng = 0;                      // valid components (db1.wfc_ng[ik])
  std::vector<std::complex<double>> c;  // [band][spinor][component]
  const std::complex<double>& at(int ib, int ispinor, int ic) const {
    return c[(std::size_t(ib) * std::size_t(n_spinor) + std::size_t(ispinor)) * std::size_t(ncx) + std::size_t(ic)];
  }
};

class WfReader {
public:
  // `save_dir` holds ns.wf; `db1` (read from the same SAVE) provides the dimensions.
  WfReader(std::filesystem::path save_dir, const Db1& db1);
  int bands_per_block() const { return nb_block_; }
  int n_blocks() const { return n_blocks_; }
  bool fragmented() const { return fragmented_; }
  // All bands of k-point ik (0-based) and spin isp (0-based).
  KWavefunctions read(int ik, int isp = 0) const;

private:
  std::filesystem::path save_;
  const Db1* db_;
  int nb_block_ = 0, n_blocks_ = 1;
  bool fragmented_ = true;
};

}  // namespace rung::yambo
