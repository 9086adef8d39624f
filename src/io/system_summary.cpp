#include "io/system_summary.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"

#include <fmt/format.h>

#include <cmath>

namespace rung {

namespace {
std::string element_of(int z) { return z >= 1 && z <= elements::max_z ? elements::symbol(z) : std::string("X"); }
}  // namespace

nlohmann::json SystemSummary::to_json() const {
  using nlohmann::json;
  json j;
  j["source"] = source;
  j["path"] = path;
  j["formula"] = formula;
  j["natoms"] = structure.size();
  j["volume_bohr3"] = structure.volume();
  json lat = json::array();
  for (int i = 0; i < 3; ++i) lat.push_back({structure.lattice(i, 0), structure.lattice(i, 1), structure.lattice(i, 2)});
  j["lattice_bohr"] = lat;
  json atoms = json::array();
  for (std::size_t i = 0; i < structure.size(); ++i) {
    const auto& f = structure.frac[i];
    atoms.push_back({{"element", element_of(structure.numbers[i])}, {"frac", {f[0], f[1], f[2]}}});
  }
  j["atoms"] = atoms;
  j["nk"] = nk;
  j["nk_full_bz"] = nk_full_bz;
  j["mp_grid"] = mp_grid ? json(*mp_grid) : json(nullptr);
  j["mp_shift"] = mp_shift ? json(*mp_shift) : json(nullptr);
  j["nbands"] = nbands;
  j["nelec"] = nelec;
  j["gap_indirect_eV"] = gap_indirect_eV ? json(*gap_indirect_eV) : json(nullptr);
  j["gap_direct_eV"] = gap_direct_eV ? json(*gap_direct_eV) : json(nullptr);
  j["ecutwfc_Ry"] = ecutwfc_Ry ? json(*ecutwfc_Ry) : json(nullptr);
  j["ecutrho_Ry"] = ecutrho_Ry ? json(*ecutrho_Ry) : json(nullptr);
  j["nsym"] = nsym;
  j["time_reversal"] = time_reversal;
  j["spin_polarized"] = spin_polarized;
  j["noncollinear"] = noncollinear;
  j["functional"] = functional;
  json pps = json::array();
  for (const auto& p : pseudopotentials) pps.push_back({{"element", p.element}, {"file", p.file}, {"kind", p.kind}});
  j["pseudopotentials"] = pps;
  return j;
}

std::string SystemSummary::to_text() const {
  std::string t;
  auto line = [&](const std::string& key, const std::string& value) { t += fmt::format("{:<22}{}\n", key, value); };
  line("source", fmt::format("{} ({})", source == "qe" ? "Quantum ESPRESSO save" : source == "yambo" ? "YAMBO SAVE" : source, path));
  line("formula", formula);
  line("atoms", std::to_string(structure.size()));
  for (int i = 0; i < 3; ++i)
    line(i == 0 ? "lattice (bohr)" : "", fmt::format("a{} = {:12.6f} {:12.6f} {:12.6f}", i + 1, structure.lattice(i, 0),
                                                   structure.lattice(i, 1), structure.lattice(i, 2)));
  line("volume", fmt::format("{:.4f} bohr^3 ({:.4f} A^3)", structure.volume(),
                             structure.volume() * std::pow(units::bohr_angstrom, 3)));
  // shown wrapped into [0, 1) (QE writes what the input gave, e.g. -0.25); the JSON keeps the file's values
  const auto wrap = [](double x) {
    const double w = x - std::floor(x);
    return (w > 1 - 1e-9 || w < 1e-9) ? 0.0 : w;
  };
  for (std::size_t i = 0; i < structure.size(); ++i) {
    const auto& f = structure.frac[i];
    line(i == 0 ? "positions (crystal)" : "", fmt::format("{:<3}{:10.6f} {:10.6f} {:10.6f}", element_of(structure.numbers[i]),
                                                         wrap(f[0]), wrap(f[1]), wrap(f[2])));
  }
  std::string grid;
  if (mp_grid) {
    grid = fmt::format(", Monkhorst-Pack {}x{}x{}", (*mp_grid)[0], (*mp_grid)[1], (*mp_grid)[2]);
    if (mp_shift) grid += fmt::format(" shift {} {} {}", (*mp_shift)[0], (*mp_shift)[1], (*mp_shift)[2]);
  }
  line("k-points", nk == nk_full_bz ? fmt::format("{} (full zone){}", nk, grid)
                                    : fmt::format("{} irreducible, {} in the full zone{}", nk, nk_full_bz, grid));
  line("bands", std::to_string(nbands) + (spin_polarized ? " per spin" : ""));
  line("electrons", fmt::format("{:g}", nelec));
  line("spin", spin_polarized ? "collinear spin-polarised" : noncollinear ? "noncollinear" : "unpolarised");
  const char* no_gap = "n/a (metal or no empty band)";
  line("KS gap (indirect)", gap_indirect_eV ? fmt::format("{:.4f} eV", *gap_indirect_eV) : no_gap);
  line("KS gap (direct)", gap_direct_eV ? fmt::format("{:.4f} eV", *gap_direct_eV) : "n/a");
  line("cutoffs", !ecutwfc_Ry ? std::string("n/a")
                 : ecutrho_Ry ? fmt::format("ecutwfc {:g} Ry, ecutrho {:g} Ry", *ecutwfc_Ry, *ecutrho_Ry)
                              : fmt::format("ecutwfc {:g} Ry", *ecutwfc_Ry));
  if (!functional.empty()) line("functional", functional);
  line("symmetries", fmt::format("{}{}", nsym, time_reversal ? " (+ time reversal)" : ""));
  for (std::size_t i = 0; i < pseudopotentials.size(); ++i) {
    const auto& p = pseudopotentials[i];
    line(i == 0 ? "pseudopotentials" : "", fmt::format("{:<3}{} ({})", p.element, p.file, p.kind));
  }
  return t;
}

}  // namespace rung
