#include "response/gblock.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <fmt/format.h>

namespace rung::response {

namespace {
constexpr double shell_tolerance = 1e-5;  // YAMBO's Gthresh (Bohr⁻¹)
constexpr double max_count = 1e9;         // the largest G-vector count --gblock accepts
}

GBlockRequest GBlockRequest::of_count(std::size_t n) {
  GBlockRequest r;
  r.count = n;
  r.text = std::to_string(n);
  return r;
}

GBlockRequest GBlockRequest::parse(const std::string& text) {
  GBlockRequest r;
  r.text = text;
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  // std::from_chars, not stod: the host's LC_NUMERIC (a decimal comma) must not change what "1.5Ry" means
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  const std::size_t pos = std::size_t(end - s.data());
  if (ec != std::errc() || pos == 0) {
    fail_usage("--gblock must be a number of G-vectors or an energy such as 2Ry, 4000mRy, 1.5Ha, 20eV; got '" + text +
               "'");
  }
  const std::string unit = lower(s.substr(pos));
  if (!std::isfinite(value) || value <= 0) fail_usage("--gblock must be positive, got '" + text + "'");
  if (unit.empty() || unit == "rl") {
    if (value != std::floor(value)) fail_usage("--gblock count must be an integer, got '" + text + "'");
    // (no wavefunction sphere holds a billion G-vectors, and a count beyond size_t would overflow the cast below)
    if (value > max_count)
      fail_usage(fmt::format("--gblock count '{}' is too large (at most {:.0f})", text, max_count));
    r.count = static_cast<std::size_t>(value);
    return r;
  }
  r.by_energy = true;
  if (unit == "ry") r.energy_Ha = units::Ry_to_Ha(value);
  else if (unit == "mry") r.energy_Ha = units::Ry_to_Ha(value / 1000.0);
  else if (unit == "ha") r.energy_Ha = value;
  else if (unit == "mha") r.energy_Ha = value / 1000.0;
  else if (unit == "ev") r.energy_Ha = value / units::yambo_hartree_eV;  // YAMBO converts its inputs this way
  else fail_usage("--gblock: unknown unit '" + unit + "' (use RL, Ry, mRy, Ha, mHa or eV)");
  return r;
}

std::vector<double> GBlock::coulomb_body() const {
  std::vector<double> v;
  for (std::size_t i = 1; i < norm.size(); ++i) v.push_back(units::four_pi / (norm[i] * norm[i]));
  return v;
}

GBlock GBlock::leading(std::size_t n) const {
  if (std::find(shell_end.begin(), shell_end.end(), n) == shell_end.end())
    fail(fmt::format("GBlock::leading: {} does not end a shell", n));
  GBlock b;
  b.miller.assign(miller.begin(), miller.begin() + static_cast<long>(n));
  b.norm.assign(norm.begin(), norm.begin() + static_cast<long>(n));
  for (std::size_t e : shell_end)
    if (e <= n) b.shell_end.push_back(e);
  return b;
}

GBlock closed_shells(const Eigen::Matrix3d& reciprocal, double max_energy) {
  const double gmax = std::sqrt(2.0 * std::max(max_energy, 0.0));
  // |m_i| = |G·a_i|/2π ≤ gmax |a_i|/2π with a = 2π B^{-T}.
  const Eigen::Matrix3d a = units::two_pi * reciprocal.inverse().transpose();
  int nmax[3];
  for (int i = 0; i < 3; ++i) nmax[i] = static_cast<int>(std::floor(gmax * a.row(i).norm() / units::two_pi)) + 1;
  struct Entry {
    Eigen::Vector3i m;
    double g;
  };
  std::vector<Entry> all;
  for (int i = -nmax[0]; i <= nmax[0]; ++i)
    for (int j = -nmax[1]; j <= nmax[1]; ++j)
      for (int k = -nmax[2]; k <= nmax[2]; ++k) {
        const Eigen::Vector3d g = double(i) * reciprocal.row(0) + double(j) * reciprocal.row(1) + double(k) * reciprocal.row(2);
        const double n = g.norm();
        if (0.5 * n * n <= max_energy * (1 + 1e-12) + 1e-14) all.push_back({Eigen::Vector3i(i, j, k), n});
      }
  // By |G| exactly (a comparator "equal within a tolerance" is not transitive, which std::sort may not be given),
  // then shells: the vectors within shell_tolerance of the shell's first one, in Miller order inside the shell.
  // (ties of |G| need no order here: each shell is put in Miller order below, and Miller indices are unique)
  std::sort(all.begin(), all.end(), [](const Entry& x, const Entry& y) { return x.g < y.g; });
  const auto miller_less = [](const Entry& x, const Entry& y) {
    return std::lexicographical_compare(x.m.data(), x.m.data() + 3, y.m.data(), y.m.data() + 3);
  };
  GBlock b;
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = start + 1;
    while (end < all.size() && all[end].g - all[start].g <= shell_tolerance) ++end;
    std::sort(all.begin() + std::ptrdiff_t(start), all.begin() + std::ptrdiff_t(end), miller_less);
    if (start > 0) b.shell_end.push_back(start);
    for (std::size_t i = start; i < end; ++i) {
      b.miller.push_back(all[i].m);
      b.norm.push_back(all[i].g);
    }
    start = end;
  }
  if (!all.empty()) {
    // The outermost shell may be cut by the sphere only if it straddles the tolerance; drop nothing.
    b.shell_end.push_back(all.size());
  }
  return b;
}

GBlock select_gblock(const Eigen::Matrix3d& reciprocal, const GBlockRequest& request, double max_energy,
                     const std::filesystem::path& source) {
  const GBlock sphere = closed_shells(reciprocal, max_energy);
  const auto too_big = [&](const std::string& what) {
    fail_input(source, fmt::format("the G block {} lies beyond the wavefunction sphere (ecutwfc = {:.4g} Ry holds {} "
                                   "G-vectors in {} shells)",
                                   what, units::Ha_to_Ry(max_energy), sphere.size(), sphere.shell_end.size()));
  };
  std::size_t n = 0;
  if (request.by_energy) {
    for (std::size_t s = 0; s < sphere.shell_end.size(); ++s) {
      const double e = 0.5 * sphere.norm[sphere.shell_end[s] - 1] * sphere.norm[sphere.shell_end[s] - 1];
      if (e >= request.energy_Ha * (1 - 1e-12)) {
        n = sphere.shell_end[s];
        break;
      }
    }
    if (n == 0) too_big(fmt::format("'{}' ({:.4g} Ry)", request.text, units::Ha_to_Ry(request.energy_Ha)));
  } else {
    if (request.count == 0) fail_usage("--gblock must be at least 1");
    for (std::size_t e : sphere.shell_end)
      if (e >= request.count) {
        n = e;
        break;
      }
    if (n == 0) too_big(fmt::format("of {} G-vectors", request.count));
  }
  return sphere.leading(n);
}

}  // namespace rung::response
