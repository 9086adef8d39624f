#include "response/convergence.hpp"

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <cmath>

namespace rung::response {

namespace {

std::vector<double> imag(const std::vector<Complex>& e) {
  std::vector<double> im(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) im[i] = e[i].imag();
  return im;
}

double shell_energy_Ha(const GBlock& b, std::size_t n) { return 0.5 * b.norm[n - 1] * b.norm[n - 1]; }

// The closed-shell block of `cap` for a shell energy: every shell up to the first one at or above it.
std::size_t block_for_energy(const GBlock& cap, double energy_Ha) {
  for (std::size_t e : cap.shell_end)
    if (shell_energy_Ha(cap, e) >= energy_Ha * (1 - 1e-12)) return e;
  return cap.size();
}

// Probe blocks: these counts rounded up to a shell (small blocks a cheap RPA would use).
constexpr std::size_t probe_counts[] = {9, 15, 27, 59};

// A rung builds the next rung's block instead of its own when that costs at most this factor more (chi0 ∝ N_G²).
constexpr double merge_cost_ratio = 1.5;

}  // namespace

std::vector<std::size_t> convergence_ladder(const GBlock& cap, const ConvergenceOptions& options) {
  if (cap.size() == 0) fail("convergence_ladder: empty G block");
  std::size_t n0 = cap.size();
  if (options.start.by_energy) {
    n0 = block_for_energy(cap, options.start.energy_Ha);
  } else {
    for (std::size_t e : cap.shell_end)
      if (e >= options.start.count) {
        n0 = e;
        break;
      }
  }
  std::vector<std::size_t> ladder{n0};
  while (ladder.back() < cap.size()) {
    const double e = shell_energy_Ha(cap, ladder.back());
    // G = 0 alone (shell energy 0) doubles nothing: its successor is the first real shell
    const double target = e > 0 ? 2 * e : shell_energy_Ha(cap, cap.shell_end[1]);
    ladder.push_back(block_for_energy(cap, target));
  }
  return ladder;
}

ConvergenceResult converge_gblock(const GBlock& cap, const Chi0Builder& build, const std::vector<double>& omega_eV,
                                  const ConvergenceOptions& options, const Comm& comm) {
  const auto ladder = convergence_ladder(cap, options);
  const auto v = cap.coulomb_body();
  const Eigen::Vector3d axes[3] = {Eigen::Vector3d::UnitX(), Eigen::Vector3d::UnitY(), Eigen::Vector3d::UnitZ()};
  ConvergenceResult result;
  std::vector<double> ipa;  // Im eps of the IPA trace: the same for every block
  std::array<std::vector<double>, 3> previous;

  const auto evaluate = [&](const Chi0& chi, std::size_t n_g) {
    MacroscopicResponse r = solve_dyson(chi, v, static_cast<int>(n_g) - 1, comm);
    if (ipa.empty()) ipa = imag(r.eps_trace(false));
    ConvergenceStep step;
    step.n_g = n_g;
    step.shell_energy_Ry = units::Ha_to_Ry(shell_energy_Ha(cap, n_g));
    step.sc_ipa_rpa = similarity_coefficient(omega_eV, imag(r.eps_trace(true)), ipa);
    std::array<std::vector<double>, 3> now;
    std::array<double, 3> sc{};
    for (int d = 0; d < 3; ++d) {
      now[d] = imag(r.eps(axes[d], true));
      if (!previous[0].empty()) sc[d] = similarity_coefficient(omega_eV, now[d], previous[d]);
    }
    if (!previous[0].empty()) {
      step.sc_xyz = sc;
      step.sc_vs_previous = *std::min_element(sc.begin(), sc.end());
      step.inert = *step.sc_vs_previous > 1.0 - unchanged_tolerance;
    }
    previous = std::move(now);
    result.history.push_back(step);
    result.n_g = n_g;
    result.response = std::move(r);
    return step;
  };

  if (ladder.size() == 1) {  // nothing to compare within the cap
    const Chi0 chi = build(cap.leading(ladder[0]));
    ++result.chi0_builds;
    evaluate(chi, ladder[0]);
    return result;
  }
  Chi0 chi;
  std::size_t built = 0;  // chi holds the leading `built` G-vectors
  for (std::size_t i = 1; i < ladder.size(); ++i) {
    if (ladder[i] > built) {
      // When the next rung's block costs little more than this one's (chi0 ∝ N_G²), build that one now: its
      // leading sub-blocks serve both rungs, and a sweep that goes on saves a whole chi0 (e.g. 283 then 307 G).
      built = i + 1 < ladder.size() && double(ladder[i + 1]) * double(ladder[i + 1]) <=
                                           merge_cost_ratio * double(ladder[i]) * double(ladder[i])
                  ? ladder[i + 1]
                  : ladder[i];
      chi = build(cap.leading(built));
      ++result.chi0_builds;
    }
    if (i == 1) {
      for (std::size_t count : probe_counts) {
        const auto it = std::lower_bound(cap.shell_end.begin(), cap.shell_end.end(), count);
        // (sub-blocks of the chi0 just built: every probe below it costs one small Dyson solve)
        if (it == cap.shell_end.end() || *it >= ladder[1]) break;  // (probes below the first rung's block only)
        if (!result.probes.empty() && result.probes.back().n_g == *it) continue;
        const MacroscopicResponse r = solve_dyson(chi, v, static_cast<int>(*it) - 1, comm);
        const auto ipa_trace = imag(r.eps_trace(false));
        result.probes.push_back({*it, units::Ha_to_Ry(shell_energy_Ha(cap, *it)),
                                 similarity_coefficient(omega_eV, imag(r.eps_trace(true)), ipa_trace)});
      }
      evaluate(chi, ladder[0]);
    }
    const ConvergenceStep step = evaluate(chi, ladder[i]);
    result.converged = *step.sc_vs_previous >= options.sc_threshold && !step.inert;
    if (result.converged) break;
  }
  return result;
}

}  // namespace rung::response
