#pragma once
// What `rung info` reports about a ground-state run, whichever code wrote it (QE save or YAMBO SAVE).
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/structure.hpp"

namespace rung {

struct PseudoSummary {
  std::string element, file, kind;  // kind: "NC", "US", "PAW" or "unknown"
};

struct SystemSummary {
  std::string source;                 // "qe" or "yambo"
  std::string path;
  Structure structure;
  std::string formula;
  std::size_t nk = 0;                 // k-points in the file (irreducible or full)
  std::size_t nk_full_bz = 0;         // after unfolding by the symmetries (YAMBO's star rule)
  std::optional<std::array<int, 3>> mp_grid, mp_shift;
  int nbands = 0;
  double nelec = 0;
  std::optional<double> gap_indirect_eV, gap_direct_eV;  // KS gaps (absent for metals)
  std::optional<double> ecutwfc_Ry;
  std::optional<double> ecutrho_Ry;   // density cutoff (QE), absent when unknown
  int nsym = 0;
  bool time_reversal = true;
  bool spin_polarized = false, noncollinear = false;
  std::string functional;
  std::vector<PseudoSummary> pseudopotentials;

  // Stable keys: formula, natoms, volume_bohr3, nk, nk_full_bz, nbands, nelec, gap_indirect_eV,
  // gap_direct_eV, ecutwfc_Ry, nsym, pseudopotentials [{element, file, kind}], plus lattice_bohr,
  // atoms [{element, frac}], mp_grid, mp_shift, source, path, ecutrho_Ry, time_reversal, spin_polarized,
  // noncollinear, functional. Absent optionals are null.
  nlohmann::json to_json() const;
  std::string to_text() const;
};

}  // namespace rung
