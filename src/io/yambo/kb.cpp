#include "io/yambo/kb.hpp"

#include "core/error.hpp"
#include "io/yambo/netcdf.hpp"

#include <cmath>
#include <fmt/format.h>

namespace rung::yambo {

bool has_kb_pp(const std::filesystem::path& save_dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(save_dir / "ns.kb_pp_pwscf", ec);
}

KbHeader read_kb_header(const std::filesystem::path& save_dir, const Db1& db1) {
  const auto f = NcFile::open(save_dir / "ns.kb_pp_pwscf");
  KbHeader h;
  h.save_dir = save_dir;
  const auto pars = f.read_integral("PARS", {4});
  if (pars[1] != static_cast<long long>(db1.species_z.size()))
    f.fail_var("PARS", fmt::format("{} species, ns.db1 has {}", pars[1], db1.species_z.size()));
  if (pars[0] < 1 || pars[0] > 100000 || pars[2] < 1 || pars[2] > 1000 || pars[3] < 1 || pars[3] > 8)
    f.fail_var("PARS", "implausible dimensions");
  h.natoms_max = int(pars[0]);
  h.nspecies = int(pars[1]);
  h.nproj = int(pars[2]);
  h.n_l_max = int(pars[3]);
  const std::size_t ns = std::size_t(h.nspecies), np = std::size_t(h.nproj);
  const auto na = f.read_integral("N_ATOMS", {ns});
  for (std::size_t is = 0; is < ns; ++is) {
    if (na[is] != static_cast<long long>(db1.atom_pos[is].size()) || na[is] > h.natoms_max)
      f.fail_var("N_ATOMS", fmt::format("species {} has {} atoms, ns.db1 {}", is + 1, na[is], db1.atom_pos[is].size()));
    h.natoms.push_back(int(na[is]));
  }
  const auto table = f.read_integral("PP_TABLE", {np, ns, 3});
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i] < -100 || table[i] > 100) f.fail_var("PP_TABLE", fmt::format("entry {} = {} is implausible", i, table[i]));
    if (i % 3 == 0 && (table[i] < 0 || table[i] > h.n_l_max))
      f.fail_var("PP_TABLE", fmt::format("l+1 = {} outside 0..{}", table[i], h.n_l_max));
    h.pp_table.push_back(int(table[i]));
  }
  const auto kbs = f.read_integral("PP_KBS", {np, ns});
  for (auto k : kbs) {
    if (k < -1 || k > 1) f.fail_var("PP_KBS", fmt::format("KB sign {} is not -1, 0 or 1", k));
    h.kbs.push_back(int(k));
  }
  const auto pos = f.read_double("ATOM_POS", {ns, std::size_t(h.natoms_max), 3});
  h.atom_pos.resize(ns);
  for (std::size_t is = 0; is < ns; ++is)
    for (int ia = 0; ia < h.natoms[is]; ++ia) {
      const std::size_t o = (is * std::size_t(h.natoms_max) + std::size_t(ia)) * 3;
      h.atom_pos[is].emplace_back(pos[o], pos[o + 1], pos[o + 2]);
    }
  return h;
}

KbTables read_kb_tables(const KbHeader& h, const Db1& db1, int ik) {
  if (ik < 0 || ik >= db1.nk) fail(fmt::format("yambo KB tables: k-point {} out of range (1..{})", ik + 1, db1.nk));
  auto file = h.save_dir / fmt::format("ns.kb_pp_pwscf_fragment_{}", ik + 1);
  if (!std::filesystem::exists(file)) file = h.save_dir / "ns.kb_pp_pwscf";
  const auto f = NcFile::open(file);
  KbTables t;
  t.ik = ik;
  t.nproj = h.nproj;
  t.nspecies = h.nspecies;
  t.ncx = db1.wf_ncx;
  const Shape s{std::size_t(h.nproj), std::size_t(h.nspecies), std::size_t(db1.wf_ncx)};
  // p2y writes NaN into KBD (and possibly KB) where |k+G| = 0 for l > 0 (0/0 in the derivative of
  // |q|^l); YAMBO skips plane waves with |k+G| < 1e-5 anyway. Such entries become 0; a non-finite
  // value anywhere else is corruption. Padding components (ic >= wfc_ng) are zeroed.
  for (auto* table : {&t.kb, &t.kbd}) {
    const std::string var = (table == &t.kb ? "PP_KB_K" : "PP_KBD_K") + std::to_string(ik + 1);
    *table = f.read_double(var, s, true);
    const int ng = db1.wfc_ng[std::size_t(ik)];
    for (int ic = 0; ic < db1.wf_ncx; ++ic) {
      const bool padding = ic >= ng;
      const double q = padding ? 0.0
                               : (db1.k_cartesian(ik) +
                                  db1.g_cartesian(db1.wfc_grid[std::size_t(ik) * std::size_t(db1.wf_ncx) + std::size_t(ic)]))
                                     .norm();
      for (int ip = 0; ip < h.nproj; ++ip)
        for (int is = 0; is < h.nspecies; ++is) {
          double& x = (*table)[t.index(ip, is, ic)];
          if (padding) x = 0.0;
          else if (!std::isfinite(x)) {
            if (q < 1e-5) x = 0.0;
            else f.fail_var(var, fmt::format("non-finite value at projector {}, species {}, component {} (|k+G| = {})",
                                             ip + 1, is + 1, ic + 1, q));
          }
        }
    }
  }
  return t;
}

}  // namespace rung::yambo
