// `rung spectrum PATH --theory ipa|rpa -o OUT.h5`: the native IPA / RPA (local fields) dielectric function
// of a QE run, with YAMBO's conventions (src/response/spectrum_driver.hpp, doc/solver.md).
#include "cli/commands.hpp"
#include "cli/request_flags.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/spectra/file.hpp"
#include "io/spectra/text.hpp"
#include "response/spectrum_driver.hpp"
#include "response/spectrum_request.hpp"

#include <cstdio>
#include <fmt/format.h>

namespace rung::cli {
namespace cmd_spectrum {  // this command's own names, distinct when the commands are compiled in one batch

struct SpectrumCli {
  std::string input, output, yambo_text;
  response::SpectrumRequest request;  // every solver option, bound to its flag by SpectrumRequest::visit
  bool no_vnl = false, converge = false;
  std::string command_line;
};

// The command line (commands.hpp's, for the provenance) as one string.
std::string own_command_line() {
  std::string out;
  for (const auto& a : command_line()) out += (out.empty() ? "" : " ") + a;
  return out.empty() ? "rung spectrum" : out;
}

int run_spectrum(const SpectrumCli& c) {
  using namespace response;
  SpectrumRequest req = c.request;
  req.include_vnl = !c.no_vnl;
  // the command line converges only when asked: an RPA without --gblock or --converge is refused (by
  // compute_spectrum, before any work), where a request that leaves `converge` unset converges
  req.converge = c.converge;
  req.progress = true;
  SpectrumOptions o = req.to_options(c.input);
  o.command_line = c.command_line;
  require_exists(o.input);
  // every output is checked before the computation: none is written unless all can be (by rank 0, which writes
  // them: another rank's node need not see their folder; its verdict is every rank's)
  const Comm comm;
  agreed_on_every_rank(comm, [&] {
    if (!comm.is_root()) return;
    check_output_path(c.output);
    if (!c.yambo_text.empty()) check_output_path(c.yambo_text);
  });

  SpectrumRun run = compute_spectrum(o, comm);
  run.set.provenance["request"] = req.to_json();
  if (comm.is_root()) {
    write_spectrum_file(c.output, run.set);
    if (!c.yambo_text.empty()) {
      // YAMBO's column layout for the first requested direction.
      const auto& [name, comp] = *run.set.components.find(o.directions.empty() ? "trace" : o.directions.front().name);
      TextSpectrumHeader h;
      h.title = fmt::format("rung {} {} ({})", run.set.theory == "rpa" ? "RPA (local fields)" : "IPA", name,
                            comp.description);
      h.q_direction = comp.q_direction;
      h.component = name;
      if (run.set.theory == "rpa") h.hartree_size = static_cast<int>(run.n_g);
      h.fields["Green`s Function"] = run.set.provenance["parameters"]["ordering"] == "T" ? "T-ordered" : "Retarded";
      h.fields["[r,Vnl] included"] = o.include_vnl ? "yes" : "no";
      h.fields["Broadening"] = fmt::format("{} {:g} eV", req.broadening, req.broadening_eV);
      h.provenance_json = run.set.provenance.dump();
      write_yambo_text(c.yambo_text, comp.spectrum, h);
    }
    if (o.converge.enabled) {
      std::printf("G-block convergence (SC of Im eps, block E against block 2E, smallest of x, y, z; threshold %.4g):\n",
                  req.converge_sc);
      for (const auto& s : run.convergence)
        std::printf("  %5zu G  %7.3f Ry  SC(IPA,RPA) = %.4f  %s%s\n", s.n_g, s.shell_energy_Ry, s.sc_ipa_rpa,
                    s.sc_vs_previous ? fmt::format("SC vs previous = {:.5f}", *s.sc_vs_previous).c_str() : "",
                    s.inert ? "  (no change at all)" : "");
      std::printf("%s: %zu G-vectors\n", run.converged ? "converged" : "NOT converged within the largest block",
                  run.n_g);
    }
    std::printf(
        "%s", fmt::format("wrote {} ({} G, {:.2f} s)\n", c.output, run.n_g, run.timings.value("total_s", 0.0)).c_str());
  }
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto c = std::make_shared<SpectrumCli>();
  auto* cmd = app.add_subcommand("spectrum", "Native IPA / RPA (local fields) dielectric function of a QE run");
  cmd->add_option("PATH", c->input, "QE prefix.save folder (or its data-file-schema.xml), or a YAMBO SAVE with its wavefunctions")->required();
  cmd->add_option("-o,--output", c->output, "Output rung spectrum file (.h5)")->required();
  // every solver option from the one list of SpectrumRequest (its canonical key in the help); the booleans are
  // the flags below, and a direction may itself be "a,b,c", so a list is not split at commas
  bind_request_flags(cmd, c->request,
                     Overloads{[](CLI::App*, const char*, const std::string&, bool&) {},
                               [](CLI::App*, const char*, const std::string&, std::optional<bool>&) {},
                               [](CLI::App* a, const char* flag, const std::string& text, std::vector<std::string>& f) {
                                 a->add_option(flag, f, text);
                               }});
  cmd->add_flag("--no-vnl", c->no_vnl, "Leave out the [V_nl, r] term of the dipoles, as QE epsilon.x does [key include_vnl]");
  cmd->add_option("--yambo-text", c->yambo_text, "Also write YAMBO's o-*.eps column layout to this file");
  cmd->add_flag("--converge", c->converge,
                "Choose the G block: compare blocks E and 2E (E = 4, 8, 16 Ry, ...) until they agree on x, y and z [key converge]");
  cmd->callback([c, &action] {
    c->command_line = own_command_line();
    action = [c] { return run_spectrum(*c); };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_spectrum
}  // namespace rung::cli
