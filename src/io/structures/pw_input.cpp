// pw.x input files: &SYSTEM (ibrav, celldm / A,B,C,cosAB,cosAC,cosBC, nat, ntyp), ATOMIC_SPECIES,
// CELL_PARAMETERS {alat|bohr|angstrom} and ATOMIC_POSITIONS {alat|bohr|angstrom|crystal}.
// Bravais lattices follow QE 6.7's latgen.f90 and abc2celldm.
#include "io/structures/reader.hpp"

#include "io/qe/pw_input.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace rung {
namespace {

// Fortran reals: 1.0d0, 1.D-3 (rung::parse_number: the whole token, finite).
std::optional<double> fortran_real(const std::string& s) {
  double v = 0;
  if (!parse_number(trim(s), v)) return std::nullopt;
  return v;
}

struct PwInput {
  std::map<std::string, std::string> system;  // lower-case key -> value without quotes (namelist &SYSTEM only)
  std::vector<std::string> cell_lines, position_lines, species_lines;
  std::string cell_unit, position_unit;
};

PwInput parse(const std::filesystem::path& path) {
  const qe::PwInput file = qe::read_pw_input(path);
  PwInput p;
  if (const auto* system = file.namelist("system"))
    for (const auto& [key, raw] : system->values) p.system[key] = *system->text(key);
  if (const auto* c = file.card("cell_parameters")) {
    p.cell_lines = c->lines;
    p.cell_unit = c->option;
  }
  if (const auto* c = file.card("atomic_positions")) {
    p.position_lines = c->lines;
    p.position_unit = c->option;
  }
  if (const auto* c = file.card("atomic_species")) p.species_lines = c->lines;
  return p;
}

double need_real(const PwInput& p, const std::string& key, const std::filesystem::path& path) {
  const auto it = p.system.find(key);
  if (it == p.system.end()) fail_input(path, fmt::format("&SYSTEM has no {}", key));
  const auto v = fortran_real(it->second);
  if (!v) fail_input(path, fmt::format("&SYSTEM {} = '{}' is not a number", key, it->second));
  return *v;
}

std::optional<double> get_real(const PwInput& p, const std::string& key, const std::filesystem::path& path) {
  if (!p.system.count(key)) return std::nullopt;
  return need_real(p, key, path);
}

Eigen::Vector3d three(const std::string& line, std::size_t skip, const std::filesystem::path& path) {
  std::istringstream in(line);
  std::string w;
  for (std::size_t i = 0; i < skip; ++i) in >> w;
  Eigen::Vector3d v;
  for (int k = 0; k < 3; ++k) {
    if (!(in >> w)) fail_input(path, fmt::format("line '{}': expected 3 numbers", line));
    const auto x = fortran_real(w);
    if (!x) fail_input(path, fmt::format("line '{}': '{}' is not a number", line, w));
    v[k] = *x;
  }
  return v;
}

}  // namespace

Eigen::Matrix3d qe_bravais_lattice(int ibrav, const double celldm[6], const std::string& origin) {
  const double a = celldm[0];
  if (!(a > 0)) fail_input(origin, fmt::format("ibrav = {} needs celldm(1) (or A) > 0", ibrav));
  const double b_a = celldm[1], c_a = celldm[2];
  auto need = [&](bool ok, const char* what) {
    if (!ok) fail_input(origin, fmt::format("ibrav = {} needs {}", ibrav, what));
  };
  Eigen::Matrix3d m = Eigen::Matrix3d::Zero();
  switch (ibrav) {
    case 1: m << 1, 0, 0, 0, 1, 0, 0, 0, 1; m *= a; break;
    case 2: m << -1, 0, 1, 0, 1, 1, -1, 1, 0; m *= a / 2; break;
    case 3: m << 1, 1, 1, -1, 1, 1, -1, -1, 1; m *= a / 2; break;
    case -3: m << -1, 1, 1, 1, -1, 1, 1, 1, -1; m *= a / 2; break;
    case 4:
      need(c_a > 0, "celldm(3) = c/a > 0");
      m << 1, 0, 0, -0.5, std::sqrt(3.0) / 2, 0, 0, 0, c_a;
      m *= a;
      break;
    case 5:
    case -5: {
      const double c = celldm[3];
      need(c > -0.5 && c < 1.0, "-1/2 < celldm(4) = cos(gamma) < 1");
      const double tx = std::sqrt((1 - c) / 2), ty = std::sqrt((1 - c) / 6), tz = std::sqrt((1 + 2 * c) / 3);
      if (ibrav == 5) {
        m << tx, -ty, tz, 0, 2 * ty, tz, -tx, -ty, tz;
        m *= a;
      } else {
        const double u = tz - 2 * std::sqrt(2.0) * ty, v = tz + std::sqrt(2.0) * ty;
        m << u, v, v, v, u, v, v, v, u;
        m *= a / std::sqrt(3.0);
      }
      break;
    }
    case 6: need(c_a > 0, "celldm(3) = c/a > 0"); m << 1, 0, 0, 0, 1, 0, 0, 0, c_a; m *= a; break;
    case 7:
      need(c_a > 0, "celldm(3) = c/a > 0");
      m << 1, -1, c_a, 1, 1, c_a, -1, -1, c_a;
      m *= a / 2;
      break;
    case 8: need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0"); m << 1, 0, 0, 0, b_a, 0, 0, 0, c_a; m *= a; break;
    case 9:
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      m << 0.5, b_a / 2, 0, -0.5, b_a / 2, 0, 0, 0, c_a;
      m *= a;
      break;
    case -9:
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      m << 0.5, -b_a / 2, 0, 0.5, b_a / 2, 0, 0, 0, c_a;
      m *= a;
      break;
    case 91:
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      m << 1, 0, 0, 0, b_a / 2, -c_a / 2, 0, b_a / 2, c_a / 2;
      m *= a;
      break;
    case 10:
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      m << 0.5, 0, c_a / 2, 0.5, b_a / 2, 0, 0, b_a / 2, c_a / 2;
      m *= a;
      break;
    case 11:
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      m << 0.5, b_a / 2, c_a / 2, -0.5, b_a / 2, c_a / 2, -0.5, -b_a / 2, c_a / 2;
      m *= a;
      break;
    case 12: {
      need(b_a > 0 && c_a > 0 && std::abs(celldm[3]) < 1, "celldm(2), celldm(3) > 0 and |celldm(4)| < 1");
      const double g = celldm[3], sg = std::sqrt(1 - g * g);
      m << 1, 0, 0, b_a * g, b_a * sg, 0, 0, 0, c_a;
      m *= a;
      break;
    }
    case -12: {
      need(b_a > 0 && c_a > 0 && std::abs(celldm[4]) < 1, "celldm(2), celldm(3) > 0 and |celldm(5)| < 1");
      const double be = celldm[4], sb = std::sqrt(1 - be * be);
      m << 1, 0, 0, 0, b_a, 0, c_a * be, 0, c_a * sb;
      m *= a;
      break;
    }
    case 13: {
      need(b_a > 0 && c_a > 0 && std::abs(celldm[3]) < 1, "celldm(2), celldm(3) > 0 and |celldm(4)| < 1");
      const double g = celldm[3], sg = std::sqrt(1 - g * g);
      m << 0.5, 0, -c_a / 2, b_a * g, b_a * sg, 0, 0.5, 0, c_a / 2;
      m *= a;
      break;
    }
    case -13: {
      need(b_a > 0 && c_a > 0 && std::abs(celldm[4]) < 1, "celldm(2), celldm(3) > 0 and |celldm(5)| < 1");
      const double be = celldm[4], sb = std::sqrt(1 - be * be);
      m << 0.5, b_a / 2, 0, -0.5, b_a / 2, 0, c_a * be, 0, c_a * sb;
      m *= a;
      break;
    }
    case 14: {
      need(b_a > 0 && c_a > 0, "celldm(2), celldm(3) > 0");
      const double ca = celldm[3], cb = celldm[4], cg = celldm[5];
      need(std::abs(ca) < 1 && std::abs(cb) < 1 && std::abs(cg) < 1, "|celldm(4..6)| < 1");
      const double sg = std::sqrt(1 - cg * cg);
      const double t = 1 + 2 * ca * cb * cg - ca * ca - cb * cb - cg * cg;
      need(t > 0, "angles that form a cell");
      m << 1, 0, 0, b_a * cg, b_a * sg, 0, c_a * cb, c_a * (ca - cb * cg) / sg, c_a * std::sqrt(t) / sg;
      m *= a;
      break;
    }
    default: fail_input(origin, fmt::format("ibrav = {} is not supported (0-14 and QE's negative variants are)", ibrav));
  }
  return m;
}

Structure read_pw_input_structure(const std::filesystem::path& path) {
  require_exists(path);
  const PwInput p = parse(path);
  if (p.system.empty()) fail_input(path, "no &SYSTEM namelist: not a pw.x input");
  const auto ibrav_v = get_real(p, "ibrav", path);
  if (!ibrav_v) fail_input(path, "&SYSTEM has no ibrav");
  const int ibrav = int(std::lround(*ibrav_v));
  const int nat = int(std::lround(need_real(p, "nat", path)));
  if (nat <= 0) fail_input(path, "nat must be positive");

  // celldm or A, B, C (Angstrom) + cosines: never both (QE refuses that too).
  double celldm[6] = {0, 0, 0, 0, 0, 0};
  bool have_celldm = false;
  for (int k = 0; k < 6; ++k)
    if (auto v = get_real(p, fmt::format("celldm({})", k + 1), path)) {
      celldm[k] = *v;
      have_celldm = true;
    }
  if (auto A = get_real(p, "a", path)) {
    if (have_celldm) fail_input(path, "both celldm and A given in &SYSTEM");
    // pw.x defaults B and C to 0 (and stops where the lattice needs them): an absent one leaves its celldm at 0,
    // for qe_bravais_lattice to report.
    const auto B = get_real(p, "b", path), C = get_real(p, "c", path);
    const double cosab = get_real(p, "cosab", path).value_or(0), cosac = get_real(p, "cosac", path).value_or(0),
                 cosbc = get_real(p, "cosbc", path).value_or(0);
    celldm[0] = units::Ang_to_Bohr(*A);
    if (B) celldm[1] = *B / *A;
    if (C) celldm[2] = *C / *A;
    if (ibrav == 14 || ibrav == 0) {
      celldm[3] = cosbc;
      celldm[4] = cosac;
      celldm[5] = cosab;
    } else if (ibrav == -12 || ibrav == -13) {
      celldm[4] = cosac;
    } else if (ibrav == 5 || ibrav == -5 || ibrav == 12 || ibrav == 13) {
      celldm[3] = cosab;
    }
  }
  const double alat_guess = celldm[0];

  Structure s;
  s.id = path.filename().string();
  double alat = alat_guess;
  if (ibrav == 0) {
    if (p.cell_lines.size() < 3) fail_input(path, "ibrav = 0 needs CELL_PARAMETERS with 3 vectors");
    Eigen::Matrix3d m;
    for (int r = 0; r < 3; ++r) m.row(r) = three(p.cell_lines[r], 0, path).transpose();
    std::string unit = p.cell_unit;
    if (unit.empty()) unit = alat_guess > 0 ? "alat" : "bohr";  // QE's legacy default
    if (unit == "bohr") s.lattice = m;
    else if (unit == "angstrom") s.lattice = units::Ang_to_Bohr(1.0) * m;
    else if (unit == "alat") {
      if (!(alat_guess > 0)) fail_input(path, "CELL_PARAMETERS alat needs celldm(1) or A");
      s.lattice = alat_guess * m;
    } else fail_input(path, fmt::format("CELL_PARAMETERS unit '{}' is not supported", unit));
    if (!(alat > 0)) alat = s.lattice.row(0).norm();  // QE: alat = |a1| when not given
  } else {
    s.lattice = qe_bravais_lattice(ibrav, celldm, path.string());
  }

  // Species labels -> elements.
  std::map<std::string, int> species_z;
  for (const auto& l : p.species_lines) {
    std::istringstream in(l);
    std::string label;
    in >> label;
    const int z = elements::atomic_number_of_label(label);
    if (z == 0) fail_input(path, fmt::format("ATOMIC_SPECIES label '{}' does not start with an element symbol", label));
    species_z[label] = z;
  }

  if (int(p.position_lines.size()) < nat)
    fail_input(path, fmt::format("ATOMIC_POSITIONS lists {} atoms but nat = {}", p.position_lines.size(), nat));
  std::string unit = p.position_unit.empty() ? "alat" : p.position_unit;
  if (unit == "crystal_sg") fail_input(path, "ATOMIC_POSITIONS crystal_sg is not supported");
  const Eigen::Matrix3d to_frac = s.lattice.transpose().inverse();
  for (int i = 0; i < nat; ++i) {
    const std::string& l = p.position_lines[i];
    std::istringstream in(l);
    std::string label;
    in >> label;
    int z = 0;
    if (auto it = species_z.find(label); it != species_z.end()) z = it->second;
    else if (species_z.empty()) z = elements::atomic_number_of_label(label);
    if (z == 0) fail_input(path, fmt::format("atom {}: species '{}' not in ATOMIC_SPECIES", i + 1, label));
    const Eigen::Vector3d v = three(l, 1, path);
    Eigen::Vector3d f;
    if (unit == "crystal") f = v;
    else if (unit == "bohr") f = to_frac * v;
    else if (unit == "angstrom") f = to_frac * (units::Ang_to_Bohr(1.0) * v);
    else if (unit == "alat") {
      if (!(alat > 0)) fail_input(path, "ATOMIC_POSITIONS alat needs celldm(1) or A");
      f = to_frac * (alat * v);
    } else fail_input(path, fmt::format("ATOMIC_POSITIONS unit '{}' is not supported", unit));
    s.frac.push_back(f);
    s.numbers.push_back(z);
  }
  return s;
}

}  // namespace rung
