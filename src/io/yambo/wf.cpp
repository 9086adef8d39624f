#include "io/yambo/wf.hpp"

#include "core/error.hpp"
#include "io/yambo/netcdf.hpp"

#include <cstdint>
#include <fmt/format.h>

namespace rung::yambo {

WfReader::WfReader(std::filesystem::path save_dir, const Db1& db1) : save_(std::move(save_dir)), db_(&db1) {
  const auto f = NcFile::open(save_ / "ns.wf");
  const auto groups = f.read_integral("BAND_GROUPS", {2});
  if (groups[0] < 1 || groups[1] < 1 || groups[0] > (1 << 20) || groups[1] > (1 << 20) ||
      groups[0] * groups[1] < db1.nbands)
    f.fail_var("BAND_GROUPS", fmt::format("({}, {}) cannot hold the {} bands of ns.db1", groups[0], groups[1], db1.nbands));
  nb_block_ = int(groups[0]);
  n_blocks_ = int(groups[1]);
  if (f.has("FRAGMENTED")) fragmented_ = f.read_integral("FRAGMENTED", {1})[0] != 0;
}

KWavefunctions WfReader::read(int ik, int isp) const {
  const Db1& db = *db_;
  if (ik < 0 || ik >= db.nk || isp < 0 || isp >= db.n_sp_pol)
    fail(fmt::format("yambo wavefunctions: k-point {} / spin {} out of range ({} k, {} spins)", ik + 1, isp + 1, db.nk,
                     db.n_sp_pol));
  KWavefunctions wf;
  wf.ik = ik;
  wf.isp = isp;
  wf.nbands = db.nbands;
  wf.n_spinor = db.n_spinor;
  wf.ncx = db.wf_ncx;
  wf.ng = db.wfc_ng[std::size_t(ik)];
  const std::size_t ncx = std::size_t(wf.ncx), nsp = std::size_t(wf.n_spinor);
  const int ifrag = ik + 1 + isp * db.nk;
  // Every band group's file opened and its shape checked first, and the table's size bounded by what those files can
  // hold (NcFile::max_data_bytes, the bound read_double applies): the sizes of ns.db1 alone (bands, components) are
  // not trusted with an allocation until the data that backs them is there.
  struct Group {
    NcFile file;
    std::string var;
    Shape shape;
    int b0, nb;
  };
  std::vector<Group> groups;
  for (int igrp = 1; igrp <= n_blocks_; ++igrp) {
    const int b0 = (igrp - 1) * nb_block_;
    if (b0 >= db.nbands) break;
    const int nb_here = std::min(nb_block_, db.nbands - b0);
    auto f = NcFile::open(fragmented_ ? save_ / fmt::format("ns.wf_fragments_{}_{}", ifrag, igrp) : save_ / "ns.wf");
    const std::string var = fmt::format("WF_COMPONENTS_@_SP_POL{}_K{}_BAND_GRP_{}", isp + 1, ik + 1, igrp);
    const Shape s = f.shape(var);
    if (s.size() != 4 || s[1] != nsp || s[2] != ncx || s[3] != 2 || s[0] < std::size_t(nb_here))
      f.fail_var(var, fmt::format("shape {} where ({}, {}, {}, 2) was expected", shape_string(s), nb_here, nsp, ncx));
    groups.push_back({std::move(f), var, s, b0, nb_here});
  }
  if (!groups.empty()) {
    std::uintmax_t budget = 0;  // bytes of single-precision (re, im) pairs the files may hold
    if (fragmented_)
      for (const auto& g : groups) budget += g.file.max_data_bytes();
    else budget = groups.front().file.max_data_bytes();  // one ns.wf holds every group
    const std::uintmax_t values = std::uintmax_t(wf.nbands) * nsp * ncx;
    if (values > budget / (2 * sizeof(float)))
      fail_input(groups.front().file.path(),
                 fmt::format("{} bands x {} spinors x {} components (ns.db1) for k-point {} are more than the "
                             "wavefunction file(s) can hold (corrupted database?)",
                             wf.nbands, nsp, ncx, ik + 1));
  }
  wf.c.assign(std::size_t(wf.nbands) * nsp * ncx, {0.0, 0.0});
  for (const auto& g : groups) {
    const auto d = g.file.read_double(g.var, g.shape);
    for (int ib = 0; ib < g.nb; ++ib)
      for (std::size_t is = 0; is < nsp; ++is)
        for (std::size_t ic = 0; ic < std::size_t(wf.ng); ++ic) {
          const std::size_t src = ((std::size_t(ib) * nsp + is) * ncx + ic) * 2;
          wf.c[(std::size_t(g.b0 + ib) * nsp + is) * ncx + ic] = {d[src], d[src + 1]};
        }
  }
  return wf;
}

}  // namespace rung::yambo
