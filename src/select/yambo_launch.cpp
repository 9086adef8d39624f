#include "select/yambo_launch.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "io/qe_save.hpp"

#include <Eigen/Eigenvalues>

#include <cstdlib>
#include <fmt/format.h>
#include <sstream>

namespace rung::select {

std::vector<std::array<int, 3>> field_directions(const std::vector<Eigen::Matrix3d>& rotations) {
  if (rotations.empty()) return {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  // Symmetrise a generic diagonal tensor over the group: its diagonal tells which axes are equivalent.
  Eigen::Matrix3d generic = Eigen::Vector3d(1.0, 2.0 + M_SQRT2, 5.0 + M_PI).asDiagonal();
  Eigen::Matrix3d s = Eigen::Matrix3d::Zero();
  for (const auto& r : rotations) s += r * generic * r.transpose();
  s /= double(rotations.size());
  const double scale = s.diagonal().cwiseAbs().maxCoeff();
  const auto same = [&](int a, int b) { return std::abs(s(a, a) - s(b, b)) < 1e-8 * scale; };
  if (same(0, 1) && same(1, 2)) return {{1, 0, 0}};
  if (same(0, 1)) return {{1, 0, 0}, {0, 0, 1}};
  if (same(0, 2)) return {{1, 0, 0}, {0, 1, 0}};
  if (same(1, 2)) return {{1, 0, 0}, {0, 1, 0}};
  return {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
}

std::string yambo_rpa_input(const YamboOptions& o, int band_last, const std::array<int, 3>& d) {
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

static std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
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
  const auto save_dir = std::filesystem::absolute(save.dir);
  // `yambo` alone initialises SAVE (r_setup); then one run per field direction.
  // p2y writes ./SAVE from the prefix.save it runs in; it is moved beside the inputs.
  plan.commands.push_back(fmt::format("cd {0} && p2y && rm -rf {1}/SAVE && mv SAVE {1}/",
                                      shell_quote(save_dir.string()), shell_quote(plan.workdir.string())));
  plan.commands.push_back(fmt::format("cd {} && yambo", shell_quote(plan.workdir.string())));
  const char* axis = "xyz";
  for (const auto& d : field_directions(rot)) {
    YamboJob job;
    job.direction = d;
    std::string tag;
    for (int i = 0; i < 3; ++i)
      if (d[i]) tag += axis[i];
    job.name = "rung_rpa_" + tag;
    job.input = plan.workdir / (job.name + ".in");
    write_text_atomically(job.input, yambo_rpa_input(o, band_last, d));
    plan.commands.push_back(fmt::format("cd {} && yambo -F {} -J {}", shell_quote(plan.workdir.string()),
                                        shell_quote(job.input.filename().string()), job.name));
    plan.jobs.push_back(job);
  }
  std::string script = "#!/bin/sh\n# written by rung select --launch yambo\nset -e\n";
  for (const auto& c : plan.commands) script += c + "\n";
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

bool run_yambo_plan(const YamboPlan& plan, std::string& log_path) {
  if (find_on_path("p2y").empty() || find_on_path("yambo").empty()) return false;
  log_path = (plan.workdir / "rung_yambo.log").string();
  for (const auto& c : plan.commands) {
    const std::string cmd = "(" + c + ") >> " + shell_quote(log_path) + " 2>&1";
    if (std::system(cmd.c_str()) != 0)
      fail(fmt::format("'{}' failed; see {}", c, log_path));
  }
  return true;
}

}  // namespace rung::select
