#pragma once
// `rung spectrum`: from a QE save to the IPA or RPA (local fields) macroscopic dielectric function,
// with YAMBO's conventions (doc/solver.md). Reads the save, picks the G block, collects the transitions of this
// rank's k-points (TransitionSource), builds chi0 (spectral or direct route), solves the Dyson equation per
// frequency and returns the spectra of the requested field directions with their provenance.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/energy_grid.hpp"
#include "core/parallel.hpp"
#include "io/spectra/file.hpp"
#include "response/broadening.hpp"
#include "response/chi0_spectral.hpp"
#include "response/convergence.hpp"
#include "response/field_direction.hpp"
#include "response/gblock.hpp"
#include "response/occupations.hpp"

namespace rung::response {

enum class Theory { ipa, rpa };
enum class Chi0Method { fast, direct };
Theory parse_theory(const std::string& s);
Chi0Method parse_method(const std::string& s);

struct SpectrumOptions {
  std::filesystem::path input;                 // prefix.save (or its XML, or a folder with one *.save)
  Theory theory = Theory::ipa;
  int band_first = -1, band_last = -1;         // 0-based inclusive; -1: all bands of the save
  std::optional<GBlockRequest> gblock;         // RPA: required unless converging; IPA: ignored (1 G)
  EnergyGrid grid = EnergyGrid::paper_default();
  double eta_eV = paper::broadening_eV;
  BroadeningShape broadening = BroadeningShape::lorentz;
  // Unset: time-ordered (YAMBO's default) for insulators, retarded for metals (YAMBO's finite-temperature rule).
  std::optional<Ordering> ordering;
  OccupationOptions occupations;               // metals: Fermi–Dirac at 300 K (YAMBO) or QE's occupations
  DrudeOptions drude;                          // metals: off by default (YAMBO's default)
  std::vector<FieldDirection> directions;      // default: trace
  bool include_vnl = true;
  Chi0Method method = Chi0Method::fast;
  SpectralOptions spectral;
  // chi0 and the Dyson equation on every n-th frequency of `grid` (grid.subgrid(n)), the response interpolated
  // back by local cubics (interpolate_subgrid): n = 1 computes every frequency
  std::size_t frequency_stride = 1;
  ConvergenceOptions converge;
  // RPA on a given block (no --converge): SC(IPA, RPA) of the trace on leading sub-blocks too, each the first
  // closed shell of at least this many G below the block. Block E's chi0 is a column prefix of the larger
  // block's, so each costs one small Dyson solve on the chi0 already built (the selection's probe uses 27).
  std::vector<std::size_t> sub_block_probes;
  bool show_progress = true;
  std::string command_line;                    // for the provenance
};

struct SpectrumRun {
  SpectrumSet set;                              // what the HDF5 file holds
  std::size_t n_g = 1;                          // the G block used
  std::vector<ConvergenceStep> convergence;     // --converge history, one entry per rung of the ladder
  std::vector<ProbePoint> probes;               // --converge or sub_block_probes: SC(IPA, RPA) of small blocks
  bool converged = false;
  nlohmann::json timings;                       // seconds per stage
  nlohmann::json timings_by_rank;               // with several ranks: every rank's `timings` (else null)
};

// Collective over `comm` (every rank returns the same result). Bad input → rung::Error of kind input.
SpectrumRun compute_spectrum(const SpectrumOptions& options, const Comm& comm);

}  // namespace rung::response
