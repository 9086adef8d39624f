#pragma once
// `rung info` for a YAMBO SAVE folder: what ns.db1 (and the presence of ns.kb_pp_pwscf) tells.
#include <Eigen/Dense>

#include <filesystem>
#include <vector>

#include "io/system_summary.hpp"

namespace rung::yambo {

struct Db1;

// Summary of SAVE/ns.db1. Conventions: nsym counts the spatial operations (YAMBO's stored list
// halved when time reversal doubled it, i.e. 24 for Si, as QE reports); nk_full_bz unfolds the
// irreducible points by every stored operation the way YAMBO's k_expand does (duplicates modulo
// reciprocal vectors dropped within each star); gaps are KS gaps from the eigenvalues with
// nelec·n_spinor/2 occupied bands (absent when any band straddles, i.e. metals or smearing runs
// with a partially filled band). ecutwfc, functional name, MP grid and pseudopotential files are
// not stored in ns.db1 and stay empty, except that mp_grid/mp_shift are filled when the unfolded
// points form a uniform grid; a KB database marks every species' pseudo as "NC".
SystemSummary summarize(const std::filesystem::path& save_dir);

// The full-BZ points YAMBO's k_expand produces from the irreducible k of `db` (crystal coordinates
// in [0,1), IBZ order, then symmetry order), and their number.
std::vector<Eigen::Vector3d> full_bz_crystal(const Db1& db);
std::size_t count_full_bz(const Db1& db);

}  // namespace rung::yambo
