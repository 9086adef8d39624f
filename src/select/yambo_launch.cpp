#include "select/yambo_launch.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/subprocess.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "response/convergence.hpp"
#include "response/gblock.hpp"

#include <Eigen/Eigenvalues>

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace rung::select {

std::vector<std::pair<std::array<int, 3>, int>> field_directions_weighted(const std::vector<Eigen::Matrix3d>& rotations) {
  if (rotations.empty()) return {{{1, 0, 0}, 1}, {{0, 1, 0}, 1}, {{0, 0, 1}, 1}};
  // Symmetrise a generic diagonal tensor over the group: its diagonal tells which axes are equivalent.
  Eigen::Matrix3d generic = Eigen::Vector3d(1.0, 2.0 + M_SQRT2, 5.0 + M_PI).asDiagonal();
  Eigen::Matrix3d s = Eigen::Matrix3d::Zero();
  for (const auto& r : rotations) s += r * generic * r.transpose();
  s /= double(rotations.size());
  const double scale = s.diagonal().cwiseAbs().maxCoeff();
  const auto same = [&](int a, int b) { return std::abs(s(a, a) - s(b, b)) < 1e-8 * scale; };
  if (same(0, 1) && same(1, 2)) return {{{1, 0, 0}, 3}};
  if (same(0, 1)) return {{{1, 0, 0}, 2}, {{0, 0, 1}, 1}};
  if (same(0, 2)) return {{{1, 0, 0}, 2}, {{0, 1, 0}, 1}};
  if (same(1, 2)) return {{{1, 0, 0}, 1}, {{0, 1, 0}, 2}};
  return {{{1, 0, 0}, 1}, {{0, 1, 0}, 1}, {{0, 0, 1}, 1}};
}

std::vector<std::array<int, 3>> field_directions(const std::vector<Eigen::Matrix3d>& rotations) {
  std::vector<std::array<int, 3>> out;
  for (const auto& [d, m] : field_directions_weighted(rotations)) out.push_back(d);
  return out;
}

std::string yambo_rpa_input(const YamboOptions& o, int band_last, const std::array<int, 3>& d, std::size_t block_g) {
  std::ostringstream s;
  s << "# written by rung select --launch yambo (YAMBO 5.x, 'yambo -o c -k hartree' layout)\n"
       "optics                           # [R] Linear Response optical properties\n"
       "chi                              # [R][CHI] Dyson equation for Chi.\n"
       "dipoles                          # [R] Oscillator strenghts (or dipoles)\n"
       "kernel                           # [R] Kernel\n"
       "Chimod= \"HARTREE\"                # [X] IP/Hartree/ALDA/LRC/PF/BSfxc\n";
  s << fmt::format("% DipBands\n  {} | {} |                      # [DIP] Bands range for dipoles\n%\n",
                   o.band_first, band_last);
  s << "DipApproach= \"G-space v\"         # [DIP] [G-space v/R-space x/Covariant/Shifted grids]\n"
       "DipComputed= \"R P V\"             # [DIP] [default R P V; extra P2 Spin Orb]\n";
  if (block_g > 0)
    s << fmt::format("NGsBlkXd= {}                RL    # [Xd] Response block size\n", block_g);
  else
    s << fmt::format("NGsBlkXd= {:g}                Ry    # [Xd] Response block size\n", o.block_cutoff_Ry);
  s << "% QpntsRXd\n 1 | 1 |                         # [Xd] Transferred momenta\n%\n";
  s << fmt::format("% BndsRnXd\n  {} | {} |                      # [Xd] Polarization function bands\n%\n",
                   o.band_first, band_last);
  s << "GrFnTpXd= \"T\"                    # [Xd] Greens function (T)ordered\n";
  s << fmt::format("% EnRngeXd\n  {:.5f} | {:.5f} |    eV    # [Xd] Energy range\n%\n", o.emin_eV, o.emax_eV);
  s << fmt::format("% DmRngeXd\n {:.6f} | {:.6f} |    eV    # [Xd] Damping range\n%\n", o.broadening_eV,
                   o.broadening_eV);
  s << fmt::format("ETStpsXd= {}                   # [Xd] Total Energy steps\n", o.steps);
  s << fmt::format("% LongDrXd\n {} | {} | {} |        # [Xd] [cc] Electric Field\n%\n", d[0], d[1], d[2]);
  return s.str();
}

YamboPlan write_yambo_plan(const qe::Save& save, const std::filesystem::path& outdir, const YamboOptions& o) {
  if (o.steps < 2 || !(o.emax_eV > o.emin_eV) || !(o.broadening_eV > 0) || !(o.block_cutoff_Ry >= 0))
    fail_usage("YAMBO input: need steps >= 2, emax > emin, broadening > 0 and a block cut-off >= 0");
  const int band_last = o.band_last > 0 ? o.band_last : save.nbnd;
  if (band_last > save.nbnd)
    fail_usage(fmt::format("YAMBO input: band {} requested but {} has only {} bands", band_last,
                           save.dir.string(), save.nbnd));
  std::error_code ec;
  std::filesystem::create_directories(outdir, ec);
  if (ec) fail(fmt::format("cannot create {}: {}", outdir.string(), ec.message()));

  std::vector<Eigen::Matrix3d> rot;
  for (const auto& op : save.symmetries) rot.push_back(op.rotation_cart);
  YamboPlan plan;
  plan.workdir = std::filesystem::absolute(outdir);
  plan.block_file = plan.workdir / "rung_converged_block";
  plan.log = plan.workdir / "rung_yambo.log";
  plan.ladder = o.blocks_g;
  const auto save_dir = std::filesystem::absolute(save.dir);
  const std::string w = shell_quote(plan.workdir.string());
  // The setup as shell lines (`program`: run under the script's `step`), written once for the command record (one
  // line joined by &&) and the script (one per line).
  struct SetupLine {
    std::string text;
    bool program = false;
  };
  std::vector<SetupLine> setup{{fmt::format("rm -rf {0}/p2y {0}/SAVE", w)}};
  plan.runs_p2y = save.yambo_save.empty();
  if (plan.runs_p2y)
    // p2y writes ./SAVE (and its logs) where it runs: in a folder of links to the save's files, so that the user's
    // prefix.save stays untouched; SAVE is then moved beside the inputs. What YAMBO left in the save (a SAVE of an
    // earlier p2y, its logs and reports) is not linked: p2y's SAVE would be a link into the user's folder.
    setup.insert(setup.end(), {{fmt::format("mkdir -p {}/p2y", w)},
                               {fmt::format("for f in {1}/*; do case ${{f##*/}} in SAVE | l_* | r_* | LOG) ;; *) ln "
                                            "-s \"$f\" {0}/p2y/ ;; esac; done",
                                            w, shell_quote(save_dir.string()))},
                               {fmt::format("cd {}/p2y", w)},
                               {"p2y", true},
                               {fmt::format("mv SAVE {}/", w)}});
  else
    // A YAMBO SAVE given as the input needs no p2y: its ns.* databases, which YAMBO only reads, are linked into a
    // SAVE of the work folder (not its ndb.* ones, which the setup run writes again: through a link it would
    // overwrite the user's).
    setup.insert(setup.end(), {{fmt::format("mkdir -p {}/SAVE", w)},
                               {fmt::format("for f in {1}/ns.*; do ln -s \"$f\" {0}/SAVE/; done", w,
                                            shell_quote(std::filesystem::absolute(save.yambo_save).string()))}});
  std::string setup_command;
  for (const auto& l : setup) setup_command += (setup_command.empty() ? "" : " && ") + l.text;
  plan.commands.push_back(setup_command);
  // `yambo` alone initialises SAVE (r_setup); then one run per field direction (and block).
  plan.commands.push_back(fmt::format("cd {} && yambo", w));
  // "x", "z", "xy", ...: the axes a direction has a component along
  const auto tag_of = [](const std::array<int, 3>& d) {
    std::string tag;
    for (int i = 0; i < 3; ++i)
      if (d[i]) tag += "xyz"[i];
    return tag;
  };
  const auto directions = field_directions_weighted(rot);
  // A fixed block is written as the G count of rung's own block for the cut-off (closed shells up to the first at or
  // above it), not in Ry: YAMBO reads NGsBlkXd's value as an integer, so "4.5 Ry" would be its 4 Ry block (51 G on
  // Si, where rung's 4.5 Ry is 59), and the count is what the record states.
  const bool fixed = o.blocks_g.empty();
  if (fixed)  // (the cut-off as the native launch asks for it: "<E>Ry")
    plan.fixed_block_g =
        response::select_gblock(save.reciprocal, response::GBlockRequest::parse(fmt::format("{}Ry", o.block_cutoff_Ry)),
                                save.ecutwfc, save.xml)
            .size();
  const std::vector<std::size_t> blocks = fixed ? std::vector<std::size_t>{plan.fixed_block_g} : o.blocks_g;
  for (std::size_t b : blocks)
    for (const auto& [d, mult] : directions) {
      YamboJob job;
      job.direction = d;
      job.multiplicity = mult;
      job.block_g = b;
      job.name = "rung_rpa_" + tag_of(d) + (fixed ? "" : fmt::format("_{}G", b));
      job.input = plan.workdir / (job.name + ".in");
      job.output = plan.workdir / ("o-" + job.name + ".eps_q1_inv_rpa_dyson");
      write_text_atomically(job.input, yambo_rpa_input(o, band_last, d, b));
      plan.jobs.push_back(job);
    }
  // The script runs each step on its own line: under `set -e` a failure inside an && list (other than its last
  // command) would not stop it. `step` logs the exit status of a program that fails and stops there.
  std::string script =
      "#!/bin/sh\n# written by rung select --launch yambo\nset -e\n"
      "step() { \"$@\" || { rc=$?; echo \"# exit status $rc: $*\"; exit $rc; }; }\n";
  if (!fixed)
    // without rung every comparison would fail and the ladder would run to its last block as "not converged"; checked
    // before p2y and the set-up run, which would otherwise run for nothing
    script += fmt::format(
        "RUNG=${{RUNG:-{}}}\n"
        "command -v \"$RUNG\" > /dev/null || {{ echo \"$RUNG: not found: the block ladder compares "
        "blocks with rung; set RUNG to its path\" >&2; exit 2; }}\n",
        shell_quote(o.rung_executable));
  for (const auto& l : setup) script += (l.program ? "step " : "") + l.text + "\n";
  script += fmt::format("cd {}\nstep yambo\n", w);
  const auto run_line = [&](const YamboJob& j) {
    return fmt::format("yambo -F {} -J {}", shell_quote(j.input.filename().string()), j.name);
  };
  if (fixed) {
    for (const auto& j : plan.jobs) {
      plan.commands.push_back(fmt::format("cd {} && {}", w, run_line(j)));
      script += "step " + run_line(j) + "\n";
    }
    script += fmt::format("echo {} > rung_converged_block\n", plan.fixed_block_g);
  } else {
    // rung's --converge rule: blocks E, 2E, ... until SC(block, previous block) >= converge_sc on every
    // direction, and not a step that changed nothing on every direction (1 - SC below the native rule's
    // tolerance, response/convergence.hpp: such a step never ends the sweep); the larger block of the agreeing pair
    // is the result (the last block when none agrees).
    script += "prev=\nfor ng in";
    for (std::size_t b : o.blocks_g) script += fmt::format(" {}", b);
    script += "; do\n";
    for (const auto& [d, mult] : directions) {
      script += fmt::format("  step yambo -F rung_rpa_{0}_${{ng}}G.in -J rung_rpa_{0}_${{ng}}G\n", tag_of(d));
    }
    script += "  if [ -n \"$prev\" ]; then\n    ok=yes moved=no\n";
    for (const auto& [d, mult] : directions) {
      // `rung compare --min-sc` exits 4 when SC lies below the bound; any other failure (1-3: a missing or
      // unreadable o- file, a runtime error) stops the script instead of reading as "not converged"
      script += fmt::format(
          "    rc=0; \"$RUNG\" -q compare o-rung_rpa_{0}_${{ng}}G.eps_q1_inv_rpa_dyson o-rung_rpa_{0}_${{prev}}G.eps_q1_inv_rpa_dyson "
          "--min-sc {1} --unchanged-below {2} || rc=$?\n"
          "    case $rc in 0) moved=yes ;; 4) ok=no moved=yes ;; 5) ;; *) echo \"# exit status $rc: rung compare of the {0} spectra of $prev and $ng G\"; exit $rc ;; esac\n",
          tag_of(d), o.converge_sc, response::unchanged_tolerance);
    }
    script +=
        "    if [ $ok = yes ] && [ $moved = yes ]; then echo \"$ng converged\" > rung_converged_block; exit 0; fi\n  fi\n"
        "  prev=$ng\ndone\necho \"$prev\" > rung_converged_block\n";
    // the script does it all (its setup included): one command, so that a person following the record runs p2y
    // and the setup once
    plan.commands = {fmt::format("cd {} && sh run_yambo.sh  # {}the setup and the G-block ladder {}", w,
                                 plan.runs_p2y ? "p2y, " : "", fmt::join(o.blocks_g, ", "))};
  }
  plan.script = plan.workdir / "run_yambo.sh";
  write_text_atomically(plan.script, script);
  std::filesystem::permissions(plan.script, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                               std::filesystem::perm_options::add, ec);
  return plan;
}

std::filesystem::path find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const auto p = std::filesystem::path(dir) / program;
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec) &&
        (std::filesystem::status(p, ec).permissions() & std::filesystem::perms::owner_exec) != std::filesystem::perms::none)
      return p;
  }
  return {};
}

bool yambo_on_path(const YamboPlan& plan) {
  return (!plan.runs_p2y || !find_on_path("p2y").empty()) && !find_on_path("yambo").empty();
}

bool run_yambo_plan(const YamboPlan& plan) {
  if (!yambo_on_path(plan)) return false;
  const std::string log_path = plan.log.string();
  std::error_code ec;
  std::filesystem::remove(plan.block_file, ec);
  {
    std::ofstream log(log_path, std::ios::app);
    log << "# rung select --launch yambo: sh " << plan.script.string() << "\n";
  }
  // without the MPI launcher's variables: p2y and yambo (usually MPI builds) and the script's `rung compare` would
  // otherwise try to join the job of the rank that runs the launch (rung select --batch or the C API under mpirun)
  const std::string cmd = without_mpi_environment() + "sh -x " + shell_quote(plan.script.string()) + " >> " +
                          shell_quote(log_path) + " 2>&1";
  // posix_spawn, not std::system: a host process (the C API inside pw.x) keeps its own SIGINT and SIGCHLD handling
  const ShellStatus rc = run_shell(cmd);
  {
    std::ofstream log(log_path, std::ios::app);
    log << "# " << rc.why() << "\n";
  }
  if (rc.exit_code != 0) fail(fmt::format("{} failed ({}); see {}", plan.script.string(), rc.why(), log_path));
  return true;
}

YamboResult read_yambo_result(const YamboPlan& plan) {
  YamboResult r;
  std::ifstream in(plan.block_file);
  std::string word;
  if (!(in >> r.block_g)) fail_input(plan.block_file.string(), "is missing or empty: the YAMBO script did not finish");
  r.converged = !plan.ladder.empty() && (in >> word) && word == "converged";
  std::vector<double> ipa, rpa, energy;
  int weight = 0;
  for (const auto& job : plan.jobs) {
    if (job.block_g != r.block_g) continue;
    const Spectrum s = read_any_spectrum(job.output);
    if (!s.eps_nolf) fail_input(job.output.string(), "has no column without local fields (eps_o)");
    if (energy.empty()) energy = s.energy_eV, ipa.assign(energy.size(), 0.0), rpa.assign(energy.size(), 0.0);
    if (s.energy_eV.size() != energy.size()) fail_input(job.output.string(), "has another energy grid than its partners");
    for (std::size_t i = 0; i < energy.size(); ++i) {
      ipa[i] += job.multiplicity * (*s.eps_nolf)[i].imag();
      rpa[i] += job.multiplicity * s.eps[i].imag();
    }
    weight += job.multiplicity;
    r.outputs.push_back(job.output);
  }
  if (weight != 3) fail_input(plan.block_file.string(), fmt::format("names block {}, for which the plan has no full set of directions", r.block_g));
  r.sc_ipa_rpa = similarity_coefficient(energy, rpa, ipa);
  return r;
}

}  // namespace rung::select
