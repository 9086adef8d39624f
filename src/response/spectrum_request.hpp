#pragma once
// What a caller asks of the native solver, in one vocabulary: the same canonical keys for the C API's
// JSON options, the selection's launches, the data-set factory, the provenance and the help of
// `rung spectrum`'s flags. Each field is listed once in `visit` with its key, its `rung spectrum` flag
// and its help text; the JSON reader, the writer and the CLI binding all go through that list, so a key
// cannot exist in one front door and not in another. Defaults are the paper's conventions
// (core/paper.hpp: 2001 points on 0-20 eV, 0.3 eV) and YAMBO's (Lorentzian, time-ordered).
// doc/solver.md lists the keys.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/paper.hpp"

namespace rung {
class Comm;
struct SpectrumSet;
}  // namespace rung

namespace rung::response {

struct SpectrumOptions;  // the solver's own options (response/spectrum_driver.hpp)

struct SpectrumRequest {
  std::string theory = "ipa";
  std::string bands;                 // "a:b", 1-based inclusive; "" = all bands of the save
  std::string block;                 // RPA G block: a count ("59") or an energy ("4Ry"); "" = converge
  double emin_eV = paper::emin_eV, emax_eV = paper::emax_eV;
  std::size_t steps = paper::steps;
  double broadening_eV = paper::broadening_eV;
  std::string broadening = "lorentz";  // the shape: lorentz | gauss | oscillator
  std::vector<std::string> directions;  // x, y, z, trace or "a,b,c"; empty = trace
  std::string ordering;              // T | R; "" = T for insulators, R for metals
  std::string occupations = "fd";    // metals: fd | qe
  double temperature_K = 300;
  std::string drude;                 // metals: "WP:GAMMA" or "auto:GAMMA" (eV); "" = none
  double drude_temperature_K = 0;    // 0 = temperature_K
  bool include_vnl = true;
  std::string method = "fast";       // fast | direct
  double points_per_eta = 30;
  std::optional<double> solver_step_eV;  // unset or 0: the solver computes every output frequency
  // G-block convergence: unset = converge exactly when an RPA is asked without a block
  std::optional<bool> converge;
  double converge_sc = 0.99;
  std::string converge_start;        // "" = 4Ry
  std::string max_block;             // "" = 300 G (or the block when one is given)
  bool progress = false;             // progress with ETA on stderr (rank 0)

  // Calls f(key, flag, help, field) for every field, in a fixed order. `flag` is the `rung spectrum`
  // option that sets it ("" when the CLI has none).
  template <class Self, class F>
  static void visit(Self& r, F&& f);

  // fail_usage naming the key: an unknown key, a value of the wrong type, a value out of range.
  static SpectrumRequest from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
  // The solver's options for `input`; checks every value and names the key of a bad one.
  SpectrumOptions to_options(const std::filesystem::path& input) const;
  // The canonical keys, in order (for documentation and the C API's test).
  static std::vector<std::string> keys();
};

// Runs the solver on `input` (a QE save, ...) for `request`; the result's provenance carries the request.
// (SpectrumSet: io/spectra/file.hpp; Comm: core/parallel.hpp.)
SpectrumSet compute_spectrum(const SpectrumRequest& request, const std::filesystem::path& input, const Comm& comm,
                             const std::string& command_line);

template <class Self, class F>
void SpectrumRequest::visit(Self& r, F&& f) {
  f("theory", "--theory", "ipa (independent particles) or rpa (local fields)", r.theory);
  f("bands", "--bands", "Band window a:b, 1-based inclusive (YAMBO's BndsRnXd); default: all", r.bands);
  f("block", "--gblock", "RPA G block: a count (rounded up to a closed shell) or an energy (2Ry, 4000mRy, 1.5Ha, 20eV)",
    r.block);
  f("emin_eV", "--emin", "Lowest frequency (eV)", r.emin_eV);
  f("emax_eV", "--emax", "Highest frequency (eV)", r.emax_eV);
  f("steps", "--steps", "Number of frequencies", r.steps);
  f("broadening_eV", "--eta", "Broadening (eV): Lorentzian HWHM, Gaussian width, oscillator damping", r.broadening_eV);
  f("broadening", "--broadening", "Broadening shape: lorentz (YAMBO), gauss (exp(-x²/eta²)), oscillator (QE epsilon.x)",
    r.broadening);
  f("directions", "--direction", "x, y, z, trace or a,b,c (repeatable); default: trace", r.directions);
  f("ordering", "--ordering", "T (time-ordered) or R (retarded); default: T for insulators, R for metals", r.ordering);
  f("occupations", "--occupations",
    "Metals: fd (Fermi-Dirac at temperature_K with rung's own Fermi level, YAMBO's default) or qe (QE's smearing)",
    r.occupations);
  f("temperature_K", "--temperature", "Metals: electronic temperature (K) of the Fermi-Dirac occupations",
    r.temperature_K);
  f("drude", "--drude", "Metals: add a Drude term, WP:GAMMA in eV or auto:GAMMA; default: none (YAMBO's default)",
    r.drude);
  f("drude_temperature_K", "--drude-temperature", "drude auto: temperature (K) of -df/de; default: temperature_K",
    r.drude_temperature_K);
  f("include_vnl", "", "Include the [V_nl, r] term of the dipoles (the CLI's --no-vnl turns it off)", r.include_vnl);
  f("method", "--method", "fast (spectral function + FFT) or direct (frequency by frequency)", r.method);
  f("points_per_eta", "--points-per-eta", "Fast route: bins per broadening width (at least 4)", r.points_per_eta);
  f("solver_step_eV", "--solver-step",
    "Compute chi0 and the Dyson equation on every n-th output frequency (this step in eV, rounded down to a multiple "
    "of the output step, at most broadening/3) and interpolate to the output grid by local cubics; default: every "
    "frequency",
    r.solver_step_eV);
  f("converge", "", "Choose the G block: blocks E and 2E from converge_start until SC >= converge_sc on x, y, z "
                    "(default: when an RPA is asked without a block; the CLI's --converge)",
    r.converge);
  f("converge_sc", "--converge-sc", "SC threshold of the G-block convergence", r.converge_sc);
  f("converge_start", "--converge-start", "Convergence: smallest block E0 (count or energy; default 4Ry)",
    r.converge_start);
  f("max_block", "--converge-max", "Convergence: largest block (default 300 G, or the block given)", r.max_block);
  f("progress", "", "Progress with ETA on stderr (rank 0)", r.progress);
}

}  // namespace rung::response
