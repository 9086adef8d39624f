#include "dataset/qe_runs.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "core/subprocess.hpp"
#include "io/qe/pw_input.hpp"
#include "io/qe/save.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <vector>
#include <unistd.h>

namespace rung::dataset {
using elements::atomic_number;
using elements::symbol;
using namespace units;

std::array<int, 3> automatic_density_grid(const Structure& s, double kppa) {
  if (!(kppa > 0)) fail_usage("k-point density must be positive");
  // pymatgen: if kppa is within 1 of a perfect cube, it is raised by 1 % (avoids ambiguous rounding)
  const double cube = std::round(std::cbrt(kppa));
  if (std::abs(std::pow(cube, 3) - kppa) < 1.0) kppa += kppa * 0.01;
  const double lengths[3] = {s.lattice.row(0).norm(), s.lattice.row(1).norm(), s.lattice.row(2).norm()};
  const double ngrid = kppa / double(s.size());
  const double mult = std::cbrt(ngrid * lengths[0] * lengths[1] * lengths[2]);
  std::array<int, 3> k{};
  for (int i = 0; i < 3; ++i) {
    int n = static_cast<int>(std::floor(std::max(mult / lengths[i], 1.0)));
    if (n % 2 == 1 && n > 1) ++n;  // the paper's workflow rounds odd divisions up to even
    k[i] = n;
  }
  return k;
}

std::array<int, 3> symmetric_grid(std::array<int, 3> n, const std::vector<Eigen::Matrix3i>& rotations) {
  // k in reciprocal crystal coordinates turns with (R^-1)^T, whose off-diagonal pattern is R's transposed: the
  // directions i and j are mixed when R(i, j) or R(j, i) is non-zero; raised until no pair of mixed directions
  // differs (at most two passes: three directions)
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& r : rotations)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          if (i != j && (r(i, j) != 0 || r(j, i) != 0) && n[std::size_t(i)] != n[std::size_t(j)]) {
            n[std::size_t(i)] = n[std::size_t(j)] = std::max(n[std::size_t(i)], n[std::size_t(j)]);
            changed = true;
          }
  }
  return n;
}

double valence_electrons(const Structure& s, const PseudoTable& table) {
  double n = 0;
  for (int z : s.numbers) {
    const auto* p = table.find(symbol(z));
    if (!p) fail(fmt::format("no pseudopotential for {}", symbol(z)));
    n += p->z_valence;
  }
  return n;
}

std::string pw_input(const Structure& s, const PseudoTable& table, const PwRun& run) {
  std::set<std::string> species;
  for (int z : s.numbers) species.insert(symbol(z));
  qe::PwInput in;
  auto& control = in.add_namelist("control");
  control.set("calculation", qe::pw_quoted(run.calculation));
  control.set("prefix", qe::pw_quoted("rung"));
  control.set("outdir", qe::pw_quoted("./out"));
  control.set("pseudo_dir", qe::pw_quoted(table.dir().string()));
  control.set("verbosity", qe::pw_quoted("high"));
  control.set("disk_io", qe::pw_quoted("low"));
  auto& system = in.add_namelist("system");
  system.set("ibrav", "0");
  system.set("nat", std::to_string(s.size()));
  system.set("ntyp", std::to_string(species.size()));
  system.set("ecutwfc", fmt::format("{:.6g}", run.ecutwfc_Ry));
  system.set("occupations", qe::pw_quoted("fixed"));
  if (run.nbnd > 0) system.set("nbnd", std::to_string(run.nbnd));
  auto& electrons = in.add_namelist("electrons");
  electrons.set("conv_thr", fmt::format("{:.3g}", run.conv_thr));
  electrons.set("mixing_beta", "0.5");
  electrons.set("electron_maxstep", "80");
  if (run.calculation == "nscf") electrons.set("diago_full_acc", ".true.");
  if (run.david_ndim > 0) electrons.set("diago_david_ndim", std::to_string(run.david_ndim));
  auto& species_card = in.add_card("atomic_species");
  for (const auto& el : species) {
    const auto* p = table.find(el);
    if (!p) fail(fmt::format("no pseudopotential for {}", el));
    species_card.lines.push_back(fmt::format("{} 1.0 {}", el, p->file.filename().string()));
  }
  auto& cell = in.add_card("cell_parameters", "bohr");
  for (int i = 0; i < 3; ++i)
    cell.lines.push_back(fmt::format("{:.12f} {:.12f} {:.12f}", s.lattice(i, 0), s.lattice(i, 1), s.lattice(i, 2)));
  auto& positions = in.add_card("atomic_positions", "crystal");
  for (std::size_t a = 0; a < s.size(); ++a)
    positions.lines.push_back(
        fmt::format("{} {:.12f} {:.12f} {:.12f}", symbol(s.numbers[a]), s.frac[a][0], s.frac[a][1], s.frac[a][2]));
  in.add_card("k_points", "automatic").lines.push_back(fmt::format("{} {} {} 0 0 0", run.k[0], run.k[1], run.k[2]));
  return qe::write_pw_input(in);
}

namespace {
double children_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

std::string child_glibc_tunables() {
  const char* set = std::getenv("GLIBC_TUNABLES");
  return set ? std::string(set) : std::string(child_malloc_tunables);
}

CommandResult run_in(const std::filesystem::path& dir, const std::string& command, const std::filesystem::path& log) {
  const std::string line = fmt::format(
      "cd {} && {}OMP_NUM_THREADS=${{OMP_NUM_THREADS:-1}} GLIBC_TUNABLES={} {} > {} 2>&1", shell_quote(dir.string()),
      without_mpi_environment(), shell_quote(child_glibc_tunables()), command, shell_quote(log.string()));
  const double cpu0 = children_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r{run_shell(line)};
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_s = children_cpu_seconds() - cpu0;
  return r;
}

BandFacts band_facts(const qe::Save& save, double window_eV) {
  if (save.lsda || save.noncolin) fail(fmt::format("{}: spin-polarised runs are not supported by the factory", save.dir.string()));
  const int nocc = save.occupied_bands();
  const auto& e = save.eigenvalues;  // nk x nbnd, Ha
  if (nocc < 1 || e.cols() <= nocc)
    fail(fmt::format("{}: {} bands computed, {} occupied: no empty band to see the gap", save.dir.string(), e.cols(), nocc));
  BandFacts f;
  f.occupied = nocc;
  const auto edges = save.band_edges(0, nocc);
  f.vbm_eV = Ha_to_eV(edges.vbm);
  f.cbm_eV = Ha_to_eV(edges.cbm);
  f.gap_eV = f.cbm_eV - f.vbm_eV;
  f.direct_gap_eV = Ha_to_eV(edges.direct);
  const double top = edges.vbm + eV_to_Ha(window_eV);
  f.window_covered = true;
  for (Eigen::Index k = 0; k < e.rows(); ++k) {
    int n = 0;
    for (Eigen::Index b = 0; b < e.cols(); ++b) n += e(k, b) <= top ? 1 : 0;
    f.bands_in_window = std::max(f.bands_in_window, n);
    if (e(k, e.cols() - 1) <= top) f.window_covered = false;
  }
  return f;
}

int estimate_bands(const qe::Save& scf, double window_eV, double headroom) {
  const int nocc = scf.occupied_bands();
  const auto& e = scf.eigenvalues;
  double vbm = -1e300;
  for (Eigen::Index k = 0; k < e.rows(); ++k) vbm = std::max(vbm, e(k, nocc - 1));
  double bottom = vbm;  // bottom of the valence band, ignoring semicore levels deeper than 20 eV
  for (Eigen::Index k = 0; k < e.rows(); ++k)
    for (int b = 0; b < nocc; ++b)
      if (e(k, b) > vbm - eV_to_Ha(20.0)) bottom = std::min(bottom, e(k, b));
  const double w0 = vbm - bottom, w1 = w0 + eV_to_Ha(window_eV);
  const double volume = scf.structure.volume();
  // free electrons: states per spin below kinetic energy W are V (2W)^{3/2} / (6 π²)
  const double extra = volume * (std::pow(2 * w1, 1.5) - std::pow(2 * w0, 1.5)) / (6 * pi * pi);
  return nocc + static_cast<int>(std::ceil(headroom * extra)) + 4;
}

std::string pw_failure_reason(const std::filesystem::path& log, std::size_t lines) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) {
    l.erase(0, l.find_first_not_of(" \t"));
    if (!l.empty()) all.push_back(l);
  }
  auto join = [&](std::size_t b, std::size_t e) {
    std::string out;
    for (std::size_t i = b; i < e; ++i) out += (out.empty() ? "" : " | ") + all[i];
    return out;
  };
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].rfind("Error in routine", 0) == 0) {
      std::size_t e = i + 1;
      while (e < all.size() && all[e].rfind("%%%%", 0) != 0) ++e;
      return join(i, e);
    }
  // a crash: gfortran's "Program received signal ..." line (a backtrace of frames follows it) and the last line
  for (std::size_t i = 0; i < all.size(); ++i)
    if (all[i].rfind("Program received signal", 0) == 0)
      return i + 1 < all.size() ? all[i] + " | " + all.back() : all[i];
  return join(all.size() > lines ? all.size() - lines : 0, all.size());
}

}  // namespace rung::dataset
