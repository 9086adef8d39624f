#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/structure.hpp"
#include "core/units.hpp"

#include <catch2/catch.hpp>

using namespace rung;

namespace {
Structure silicon() {
  Structure s;
  const double a = 10.26;  // bohr
  s.lattice << -a / 2, 0, a / 2, 0, a / 2, a / 2, -a / 2, a / 2, 0;
  s.frac = {{0, 0, 0}, {0.25, 0.25, 0.25}};
  s.numbers = {14, 14};
  return s;
}
}  // namespace

TEST_CASE("elements: symbols, groups and periods", "[unit][elements]") {
  CHECK(elements::atomic_number("Si") == 14);
  CHECK(elements::atomic_number("SI") == 14);
  CHECK(elements::atomic_number("O2-") == 8);
  CHECK(elements::atomic_number("Oa") == 0);  // strict: a label reader asks atomic_number_of_label
  CHECK(elements::atomic_number_of_label("Oa") == 8);
  CHECK(elements::atomic_number_of_label("Sn2") == 50);
  CHECK(elements::atomic_number_of_label("Cab") == 20);  // leading letters "Cab": no symbol, "Ca" is
  CHECK(elements::atomic_number_of_label("Jx") == 0);
  CHECK(elements::atomic_number("Xx") == 0);
  CHECK(elements::symbol(54) == "Xe");
  CHECK(elements::group(1) == 1);
  CHECK(elements::group(2) == 18);
  CHECK(elements::group(31) == 13);  // Ga
  CHECK(elements::group(52) == 16);  // Te
  CHECK(elements::group(26) == 8);   // Fe
  CHECK(elements::group(57) == 3);   // La
  CHECK(elements::group(60) == 0);   // Nd (f block)
  CHECK(elements::group(82) == 14);  // Pb
  CHECK(elements::period(54) == 5);
  CHECK(elements::period(55) == 6);
  CHECK(elements::is_main_group(56));
  CHECK_FALSE(elements::is_main_group(26));
}

TEST_CASE("structure: volume, reciprocal lattice, formula", "[unit][structure]") {
  auto s = silicon();
  CHECK(s.volume() == Approx(10.26 * 10.26 * 10.26 / 4));
  const Eigen::Matrix3d prod = s.lattice * s.reciprocal().transpose();
  CHECK((prod - units::two_pi * Eigen::Matrix3d::Identity()).norm() < 1e-12);
  CHECK(s.formula() == "Si");
  s.numbers = {31, 33};
  CHECK(s.formula() == "GaAs");
  CHECK_NOTHROW(s.validate("si"));
}

TEST_CASE("structure: overlapping atoms, empty and flat cells are input errors", "[unit][structure]") {
  auto s = silicon();
  s.frac[1] = {0.001, 0, 0};
  CHECK_THROWS_AS(s.validate("x.cif"), Error);
  try {
    s.validate("x.cif");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()).find("x.cif") == 0);
    CHECK(std::string(e.what()).find("overlap") != std::string::npos);
  }
  auto flat = silicon();
  flat.lattice.row(2) = flat.lattice.row(0) + flat.lattice.row(1);
  CHECK_THROWS_AS(flat.validate("flat"), Error);
  Structure empty;
  CHECK_THROWS_AS(empty.validate("empty"), Error);
}
