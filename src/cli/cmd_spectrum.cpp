// `rung spectrum PATH --theory ipa|rpa -o OUT.h5`: the native IPA / RPA (local fields) dielectric function
// of a QE run, with YAMBO's conventions (src/response/spectrum_driver.hpp, doc/solver.md).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/spectrum_file.hpp"
#include "io/spectrum_text.hpp"
#include "response/spectrum_driver.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <fmt/format.h>

namespace rung::cli {
namespace {

struct SpectrumCli {
  std::string input, output, theory = "ipa", bands, gblock, broadening = "lorentz", ordering,
                             occupations = "fd", drude,
                             method = "fast", yambo_text, converge_start, converge_max;
  std::vector<std::string> directions;
  double emin = 0, emax = 20, eta = 0.3, converge_sc = 0.99, points_per_eta = 30, temperature = 300,
         drude_temperature = 0;
  std::size_t steps = 2001;
  bool no_vnl = false, converge = false;
  std::string command_line;
};

// The command line as the process received it (for the provenance).
std::string own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), out;
  for (char ch : all) out += ch == '\0' ? ' ' : ch;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "rung spectrum" : out;
}

std::pair<int, int> parse_bands(const std::string& s) {
  const auto colon = s.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t p1 = 0, p2 = 0;
    const int a = std::stoi(s.substr(0, colon), &p1), b = std::stoi(s.substr(colon + 1), &p2);
    if (p1 != colon || p2 != s.size() - colon - 1 || a < 1 || b < a) throw std::invalid_argument("range");
    return {a - 1, b - 1};
  } catch (const std::exception&) {
    fail_usage("--bands must be a:b (1-based, inclusive, a <= b), e.g. 1:16; got '" + s + "'");
  }
}

int run_spectrum(const SpectrumCli& c) {
  using namespace response;
  SpectrumOptions o;
  o.input = c.input;
  o.theory = parse_theory(c.theory);
  if (!c.bands.empty()) std::tie(o.band_first, o.band_last) = parse_bands(c.bands);
  if (!c.gblock.empty()) o.gblock = GBlockRequest::parse(c.gblock);
  o.grid = EnergyGrid{c.emin, c.emax, c.steps};
  o.eta_eV = c.eta;
  o.broadening = parse_broadening(c.broadening);
  if (!c.ordering.empty()) o.ordering = parse_ordering(c.ordering);
  o.occupations.source = parse_occupation_source(c.occupations);
  o.occupations.temperature_K = c.temperature;
  if (!c.drude.empty()) o.drude = parse_drude(c.drude);
  o.drude.temperature_K = c.drude_temperature;
  for (const auto& d : c.directions) o.directions.push_back(parse_field_direction(d));
  o.include_vnl = !c.no_vnl;
  o.method = parse_method(c.method);
  if (!(c.points_per_eta >= 4)) fail_usage("--points-per-eta must be at least 4");
  o.spectral.points_per_eta = c.points_per_eta;
  o.converge.enabled = c.converge;
  o.converge.sc_threshold = c.converge_sc;
  if (c.converge && !(c.converge_sc > 0 && c.converge_sc < 1)) fail_usage("--converge-sc must lie in (0, 1)");
  if (!c.converge_start.empty()) o.converge.start = GBlockRequest::parse(c.converge_start);
  if (!c.converge_max.empty()) o.converge.max_block = GBlockRequest::parse(c.converge_max);
  o.command_line = c.command_line;
  require_exists(o.input);

  const Comm comm;
  const SpectrumRun run = compute_spectrum(o, comm);
  if (comm.is_root()) {
    write_spectrum_file(c.output, run.set);
    if (!c.yambo_text.empty()) {
      // YAMBO's column layout for the first requested direction.
      const auto& [name, comp] = *run.set.components.find(o.directions.empty() ? "trace" : o.directions.front().name);
      TextSpectrumHeader h;
      h.title = fmt::format("rung {} {} ({})", run.set.theory == "rpa" ? "RPA (local fields)" : "IPA", name,
                            comp.description);
      h.q_direction = comp.q_direction;
      if (run.set.theory == "rpa") h.hartree_size = static_cast<int>(run.n_g);
      h.fields["Green`s Function"] = run.set.provenance["parameters"]["ordering"] == "T" ? "T-ordered" : "Retarded";
      h.fields["[r,Vnl] included"] = o.include_vnl ? "yes" : "no";
      h.fields["Broadening"] = fmt::format("{} {:g} eV", c.broadening, c.eta);
      h.provenance_json = run.set.provenance.dump();
      write_yambo_text(c.yambo_text, comp.spectrum, h);
    }
    if (c.converge) {
      std::printf("G-block convergence (SC of Im eps, block E against block 2E, smallest of x, y, z; threshold %.4g):\n",
                  c.converge_sc);
      for (const auto& s : run.convergence)
        std::printf("  %5zu G  %7.3f Ry  SC(IPA,RPA) = %.4f  %s%s\n", s.n_g, s.shell_energy_Ry, s.sc_ipa_rpa,
                    s.sc_vs_previous ? fmt::format("SC vs previous = {:.5f}", *s.sc_vs_previous).c_str() : "",
                    s.inert ? "  (no change at all)" : "");
      std::printf("%s: %zu G-vectors\n", run.converged ? "converged" : "NOT converged within the largest block",
                  run.n_g);
    }
    std::fprintf(stderr, "%s", fmt::format("rung spectrum: wrote {} ({} G, {:.2f} s)\n", c.output, run.n_g,
                                           run.timings.value("total_s", 0.0)).c_str());
  }
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto c = std::make_shared<SpectrumCli>();
  auto* cmd = app.add_subcommand("spectrum", "Native IPA / RPA (local fields) dielectric function of a QE run");
  cmd->add_option("PATH", c->input, "QE prefix.save folder (or its data-file-schema.xml), or a YAMBO SAVE with its wavefunctions")->required();
  cmd->add_option("-o,--output", c->output, "Output rung spectrum file (.h5)")->required();
  cmd->add_option("--theory", c->theory, "ipa (independent particles) or rpa (local fields)")->capture_default_str();
  cmd->add_option("--bands", c->bands, "Band window a:b, 1-based inclusive (YAMBO's BndsRnXd); default: all");
  cmd->add_option("--gblock", c->gblock,
                  "RPA G block: a count (rounded up to a closed shell) or an energy (2Ry, 4000mRy, 1.5Ha, 20eV)");
  cmd->add_option("--emin", c->emin, "Lowest frequency (eV)")->capture_default_str();
  cmd->add_option("--emax", c->emax, "Highest frequency (eV)")->capture_default_str();
  cmd->add_option("--steps", c->steps, "Number of frequencies")->capture_default_str();
  cmd->add_option("--eta", c->eta, "Broadening (eV): Lorentzian HWHM, Gaussian width, oscillator damping")
      ->capture_default_str();
  cmd->add_option("--broadening", c->broadening,
                  "lorentz (YAMBO), gauss (exp(-x²/eta²)), oscillator (QE epsilon.x's eps formula)")
      ->capture_default_str();
  cmd->add_option("--direction", c->directions, "x, y, z, trace or a,b,c (repeatable); default: trace");
  cmd->add_option("--ordering", c->ordering,
                  "T (time-ordered) or R (retarded); default: T for insulators, R for metals (YAMBO's defaults)");
  cmd->add_option("--occupations", c->occupations,
                  "Metals: fd (Fermi-Dirac at --temperature with rung's own Fermi level, YAMBO's default) or qe "
                  "(the occupations of QE's smearing)")
      ->capture_default_str();
  cmd->add_option("--temperature", c->temperature, "Metals: electronic temperature (K) of the Fermi-Dirac occupations")
      ->capture_default_str();
  cmd->add_option("--drude", c->drude,
                  "Metals: add a Drude term -wp²/(w(w+i·gamma)), WP:GAMMA in eV, or auto:GAMMA (wp from the "
                  "intraband velocities); default: none (YAMBO's default)");
  cmd->add_option("--drude-temperature", c->drude_temperature,
                  "--drude auto: temperature (K) of -df/de; default: --temperature");
  cmd->add_flag("--no-vnl", c->no_vnl, "Leave out the [V_nl, r] term of the dipoles (as QE epsilon.x does)");
  cmd->add_option("--method", c->method, "fast (spectral function + FFT) or direct (frequency by frequency)")
      ->capture_default_str();
  cmd->add_option("--points-per-eta", c->points_per_eta, "Fast route: bins per broadening width")->capture_default_str();
  cmd->add_option("--yambo-text", c->yambo_text, "Also write YAMBO's o-*.eps column layout to this file");
  cmd->add_flag("--converge", c->converge,
                "Choose the G block: compare blocks E and 2E (E = 2, 4, 8 Ry, ...) until they agree on x, y and z");
  cmd->add_option("--converge-sc", c->converge_sc, "SC threshold of --converge")->capture_default_str();
  cmd->add_option("--converge-start", c->converge_start, "--converge: smallest block E0 (count or energy; default 2Ry)");
  cmd->add_option("--converge-max", c->converge_max, "--converge: largest block (default 300 G, or --gblock)");
  cmd->callback([c, &action] {
    c->command_line = own_command_line();
    action = [c] { return run_spectrum(*c); };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace
}  // namespace rung::cli
