#include "response/convergence.hpp"

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <cmath>

namespace rung::response {

namespace {
std::vector<double> imag_of(const MacroscopicResponse& r, const FieldDirection& d) {
  const auto e = d.trace ? r.eps_trace(true) : r.eps(d.q, true);
  std::vector<double> im;
  for (auto z : e) im.push_back(z.imag());
  return im;
}
}  // namespace

std::vector<std::size_t> convergence_candidates(const GBlock& block, const std::optional<GBlockRequest>& step) {
  std::vector<std::size_t> out;
  if (!step) return block.shell_end;
  if (!step->by_energy) {
    // A count step: the first shell end at or beyond each multiple of the count.
    std::size_t next = 1;
    for (std::size_t e : block.shell_end)
      if (e >= next) {
        out.push_back(e);
        next = e + std::max<std::size_t>(step->count, 1);
      }
  } else {
    double next = 0;
    for (std::size_t e : block.shell_end) {
      const double en = 0.5 * block.norm[e - 1] * block.norm[e - 1];
      if (en >= next - 1e-12) {
        out.push_back(e);
        next = (std::floor(en / step->energy_Ha + 1e-9) + 1) * step->energy_Ha;
      }
    }
  }
  if (out.empty() || out.back() != block.size()) out.push_back(block.size());
  return out;
}

ConvergenceResult converge_gblock(const Chi0& chi, const GBlock& block, const FieldDirection& direction,
                                  const std::vector<double>& omega_eV, const ConvergenceOptions& options,
                                  const Comm& comm) {
  const auto candidates = convergence_candidates(block, options.step);
  const auto v = block.coulomb_body();
  ConvergenceResult result;
  std::vector<double> previous;
  for (std::size_t n_g : candidates) {
    MacroscopicResponse r = solve_dyson(chi, v, static_cast<int>(n_g) - 1, comm);
    auto im = imag_of(r, direction);
    ConvergenceStep step;
    step.n_g = n_g;
    step.shell_energy_Ry = units::Ha_to_Ry(0.5 * block.norm[n_g - 1] * block.norm[n_g - 1]);
    if (!previous.empty()) step.sc_vs_previous = similarity_coefficient(omega_eV, im, previous);
    step.inert = step.sc_vs_previous && *step.sc_vs_previous > 1.0 - 1e-9;
    result.history.push_back(step);
    result.n_g = n_g;
    result.response = std::move(r);
    result.converged = step.sc_vs_previous && *step.sc_vs_previous >= options.sc_threshold;
    if (result.converged && !step.inert) break;
    previous = std::move(im);
  }
  return result;
}

}  // namespace rung::response
