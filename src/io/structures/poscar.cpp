// VASP POSCAR / CONTCAR (VASP 5 layout with a species line; VASP 4 files without one are rejected
// because the elements would have to come from a POTCAR).
#include "io/structures/reader.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace rung {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) {
    if (s[0] == '#' || s[0] == '!') break;
    w.push_back(s);
  }
  return w;
}

bool is_number(const std::string& s) {
  double v = 0;
  return parse_number(s, v);
}

double number(const std::string& s, const std::filesystem::path& path, int line_no) {
  double v = 0;
  if (!parse_number(s, v)) fail_input(path, fmt::format("line {}: '{}' is not a finite number", line_no, s));
  return v;
}

}  // namespace

Structure read_poscar_structure(const std::filesystem::path& path) {
  require_exists(path);
  std::ifstream in(path);
  if (!in) fail_input(path, "cannot open");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  int ln = 0;
  auto next = [&](const char* what) -> std::vector<std::string> {
    while (ln < int(lines.size())) {
      auto w = words(lines[ln++]);
      if (!w.empty()) return w;
    }
    fail_input(path, fmt::format("truncated POSCAR: missing {}", what));
  };
  if (lines.empty()) fail_input(path, "empty file");
  const std::string comment = lines[ln++];
  const auto scale_w = next("scale factor");
  // one universal factor (negative: the target volume), or VASP 6's three, one per Cartesian axis
  const bool per_axis = scale_w.size() >= 3 && is_number(scale_w[1]) && is_number(scale_w[2]);
  Eigen::Vector3d scale = Eigen::Vector3d::Constant(number(scale_w[0], path, ln));
  if (per_axis) {
    scale[1] = number(scale_w[1], path, ln);
    scale[2] = number(scale_w[2], path, ln);
    if ((scale.array() <= 0).any())
      fail_input(path, fmt::format("line {}: three scale factors must all be positive", ln));
  }
  Eigen::Matrix3d lat;
  for (int r = 0; r < 3; ++r) {
    const auto w = next("lattice vector");
    if (w.size() < 3) fail_input(path, fmt::format("line {}: lattice vector needs 3 numbers", ln));
    for (int c = 0; c < 3; ++c) lat(r, c) = number(w[c], path, ln);
  }
  if (!per_axis && scale[0] < 0)
    scale.setConstant(std::cbrt(-scale[0] / std::abs(lat.determinant())));  // negative = target volume
  if (scale[0] == 0) fail_input(path, "scale factor is zero");
  for (int c = 0; c < 3; ++c) lat.col(c) *= scale[c];  // rows are the vectors: column c is Cartesian axis c

  auto species_w = next("species or counts line");
  std::vector<std::string> species;
  if (!is_number(species_w[0])) {
    species = species_w;
    species_w = next("counts line");
  } else {
    fail_input(path, "VASP 4 POSCAR without a species line: add the element symbols above the counts");
  }
  std::vector<int> counts;
  for (const auto& w : species_w) {
    const double v = number(w, path, ln);
    if (v < 0 || v != std::floor(v)) fail_input(path, fmt::format("line {}: bad atom count '{}'", ln, w));
    counts.push_back(int(v));
  }
  if (counts.size() != species.size())
    fail_input(path, fmt::format("{} species names but {} counts", species.size(), counts.size()));
  auto mode_w = next("coordinate mode");
  char mode = char(std::tolower(static_cast<unsigned char>(mode_w[0][0])));
  if (mode == 's') {  // Selective dynamics
    mode_w = next("coordinate mode");
    mode = char(std::tolower(static_cast<unsigned char>(mode_w[0][0])));
  }
  const bool cartesian = mode == 'c' || mode == 'k';
  if (!cartesian && mode != 'd') fail_input(path, fmt::format("line {}: expected Direct or Cartesian", ln));

  Structure s;
  s.id = path.filename().string();
  s.lattice = units::Ang_to_Bohr(1.0) * lat;
  const Eigen::Matrix3d to_frac = lat.transpose().inverse();
  for (std::size_t k = 0; k < species.size(); ++k) {
    const int z = elements::atomic_number(species[k]);
    if (z == 0) fail_input(path, fmt::format("unknown element '{}'", species[k]));
    for (int i = 0; i < counts[k]; ++i) {
      const auto w = next("atomic position");
      if (w.size() < 3) fail_input(path, fmt::format("line {}: position needs 3 numbers", ln));
      Eigen::Vector3d p(number(w[0], path, ln), number(w[1], path, ln), number(w[2], path, ln));
      if (cartesian) p = to_frac * scale.cwiseProduct(p).eval();
      s.frac.push_back(p);
      s.numbers.push_back(z);
    }
  }
  if (s.numbers.empty()) fail_input(path, "POSCAR has no atoms");
  (void)comment;
  return s;
}

}  // namespace rung
