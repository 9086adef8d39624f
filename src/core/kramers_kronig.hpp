#pragma once
// Re eps from Im eps by the Kramers-Kronig relation, on rung's uniform grids (0, h, 2h, ..., W = (N-1) h;
// the paper's grid is 2001 points on 0-20 eV). Used for predicted spectra, where the network gives Im eps only
// (ml/spectrum_output.hpp); the solvers compute Re eps directly. Torch-free.
//
// The relation (eps2 = Im eps odd in omega, so the integral folds onto omega' >= 0):
//
//   Re eps(w) = 1 + (2/pi) P Int_0^W  w' eps2(w') / (w'^2 - w^2) dw'          (truncated at W)
//
// Discretisation. eps2 is taken as the piecewise-linear interpolant of the samples, eps2(x) = sum_j eps2_j phi_j(x)
// with phi_j the hat functions of the grid (half hats at x = 0 and x = W), and the principal value of each hat's
// integral is done exactly: no quadrature of a singular integrand, so the principal value needs no special grid
// trick, and the error is that of linear interpolation, O(h^2 eps2''), at every point including w = w_i. With
// w'/(w'^2 - w^2) = 1/2 [1/(w' - w) + 1/(w' + w)] and x = x_j + h u (h cancels):
//
//   Re eps(w_i) = 1 + (1/pi) sum_j eps2_j [ G_j(i - j) + G_j(-i - j) ],   G_j(t) = P Int phi(u) / (u - t) du
//
// whose arguments are integers on the grid. For an interior hat (phi = 1 - |u| on [-1, 1]):
//   g(t)  = (1 - t) ln|1 - t| - (1 + t) ln|1 + t| + 2 t ln|t|     (0 ln 0 = 0: g(0) = 0, g(+-1) = -+2 ln 2)
//         = -1/t - 1/(6 t^3) - 1/(15 t^5) - ... = -sum_m 2 / ((2m+1)(2m+2)) t^-(2m+1)   (used for |t| > 20)
// for the half hat at x = 0 (phi = 1 - u on [0, 1]) and the one at x = W (phi = 1 + u on [-1, 0]):
//   gR(t) = -1 + (1 - t) ln|(1 - t) / t|,    gL(t) = 1 + (1 + t) ln|t / (1 + t)|.
// Two entries are infinite and are treated explicitly:
//   - w = 0 with eps2(0) != 0 (gR(0)): the transform diverges logarithmically (eps2 must vanish at 0 for a finite
//     static eps; eps2(0) != 0 is a Drude-like tail or a smoothing artefact). rung takes eps2 as rising linearly
//     from 0 on the first interval for that one point (the odd extension made continuous), i.e. drops the term.
//   - w = W with eps2(W) != 0 (gL(0)): the truncated integral diverges there as (1/pi) eps2(W) ln|W - w|, an
//     artefact of the cut; the last point is extrapolated linearly from the two before it.
//
// What truncation at W means physically: the absorption above W is missing. Every term it would add,
// (2/pi) Int_W^inf w' eps2(w') / (w'^2 - w^2) dw', is positive for w < W (eps2 >= 0), so the truncated Re eps is
// too LOW at every w below W. Well below W the missing part is nearly a constant offset,
//   Delta(w) = (2/pi) Int_W^inf eps2(w') / w' dw' + O(w^2 / W^2),
// (for a tail eps2 ~ A / w'^3 above W: Delta = (2/pi) A / (3 W^3) (1 + O(w^2/W^2))); it grows towards W, where
// the cut adds the logarithmic dip above. Spectral shapes (peak positions, SC of Re eps) are barely affected; the
// static value Re eps(0) is underestimated by Delta(0). The caller states this wherever the result is written
// (re_eps_source).
//
// Time-ordered spectra. YAMBO's and rung's default for insulators (and so the OPTIMATE labels) is the time-ordered
// Lorentzian, Im eps_T(w) = S(w) + S(-w) with S(x) = sum_t A_t L(x - E_t), L(x) = (eta/pi) / (x^2 + eta^2), poles
// E_t > 0; the causal (retarded) function has Im eps_R(w) = S(w) - S(-w) and the SAME Re eps. Im eps_T is even in w,
// Im eps_T(0) = 2 S(0) > 0 (1.05 for Si at eta = 0.3 eV), and KK of it adds (2/pi) Im eps_T(0) ln(E/w) near w = 0:
// Re eps(0) 3.9 too high for Si (tests/response/kramers_kronig_reference.cpp). causal_im_eps removes the
// antiresonant part 2 S(-w) = Im eps_T(0) phi(w), with its value at 0 fixed exactly (Im eps_R(0) = 0) and its shape
//   phi(w) = Int_Ec^W P(E) L(w + E) dE / Int_Ec^W P(E) L(E) dE,   P(E) ~ Im eps_T(E) above the onset Ec
// (S ~ the pole density above the onset; the first grid point where Im eps reaches 10 % of its maximum; below it
// Im eps_T is the tails themselves). On the Si save: the antiresonant part within 0.007 of the exact one (1.05 at
// 0), and KK of the result within 0.023 of the computed Re eps below 15 eV (onsets at 5-30 % of the maximum: 0.032).
// Spectra with Im eps(0) = 0 (retarded, metals) are returned unchanged.
#include <vector>

namespace rung {

// Re eps on `energy_eV` (uniform, starting at 0, at least 3 points; fail_usage otherwise) from Im eps there.
// O(N^2): 2001 points take a few ms.
std::vector<double> kramers_kronig_re_eps(const std::vector<double>& energy_eV, const std::vector<double>& im_eps);

// Checks that `energy_eV` is what kramers_kronig_re_eps needs (fail_usage naming `what` otherwise).
void require_kramers_kronig_grid(const std::vector<double>& energy_eV, const char* what = "energy grid");

// Im eps with the time-ordered antiresonant part removed (above): what kramers_kronig_re_eps needs when
// `im_eps` is a time-ordered Lorentzian spectrum of HWHM eta_eV. Same grid requirements.
std::vector<double> causal_im_eps(const std::vector<double>& energy_eV, const std::vector<double>& im_eps,
                                  double eta_eV);

}  // namespace rung
