#pragma once
// A synthetic "crystal" for the chi0/Dyson unit tests: random oscillators (fixed seed) with transition
// energies spread over 0.1..1.2 Ha and a Coulomb body like a small fcc block, so the tests exercise
// every code path without a QE run.
#include <random>

#include "response/oscillator_table.hpp"

namespace rung::test {

inline response::OscillatorTable synthetic_table(std::size_t nt, int n_body, unsigned seed = 7,
                                                 double emin = 0.1, double emax = 1.2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> g(0.0, 1.0);
  response::OscillatorTable t(n_body);
  Eigen::RowVectorXcd a(3 + n_body);
  for (std::size_t i = 0; i < nt; ++i) {
    const double e = emin + (emax - emin) * u(rng);
    for (int c = 0; c < a.size(); ++c) a[c] = {g(rng), g(rng)};
    a.head(3) *= 2.0 / e;             // dipole-like heads: |r| ~ |p|/ΔE
    a.tail(n_body) *= 0.3;            // weaker body oscillators, as in real crystals
    t.append(e, 2.0 / (nt * 270.0) * (0.5 + u(rng)), a);
  }
  return t;
}

inline std::vector<double> synthetic_coulomb(int n_body) {
  std::vector<double> v;
  for (int b = 0; b < n_body; ++b) v.push_back(4 * 3.14159265358979 / (0.375 * (3.0 + b / 4)));
  return v;
}

}  // namespace rung::test
