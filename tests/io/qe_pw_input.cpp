// The one pw.x namelist reader/writer (io/qe/pw_input.hpp): what the structure reader, `rung hook` and
// the data-set factory share.
#include "core/error.hpp"
#include "io/qe/pw_input.hpp"

#include <catch2/catch.hpp>

using namespace rung;

TEST_CASE("pw.x input: namelists on one or many lines, comments, quotes, arrays and cards",
          "[unit][pw_input][readers]") {
  const std::string text =
      " &CONTROL calculation = 'nscf', Prefix=\"si\" , OUTDIR = './tmp/'  ! scratch, not 'this'\n"
      "    pseudo_dir = '/pseudo/a,b'\n /\n"
      "&system\n ibrav=2 celldm(1) = 10.26d0, nat=2, ntyp=1\n starting_magnetization(1) = 0.5, 0.25\n"
      " ecutwfc = 20 /\n"
      "&electrons\n/\n"
      "ATOMIC_SPECIES\n Si 28.086 Si.pz-vbc.UPF # comment\n"
      "ATOMIC_POSITIONS {crystal}\n Si 0.00 0.00 0.00\n Si 0.25 0.25 0.25\n"
      "K_POINTS automatic\n 4 4 4 1 1 1\n";
  const auto in = qe::parse_pw_input(text, "x.in");
  REQUIRE(in.namelists.size() == 3);
  const auto* control = in.namelist("control");
  REQUIRE(control);
  CHECK(control->text("calculation") == "nscf");
  CHECK(control->text("prefix") == "si");
  CHECK(control->raw("prefix") == "\"si\"");
  CHECK(control->text("outdir") == "./tmp/");
  CHECK(control->text("pseudo_dir") == "/pseudo/a,b");  // commas and slashes inside quotes are text
  const auto* system = in.namelist("system");
  REQUIRE(system);
  CHECK(system->raw("ibrav") == "2");
  CHECK(system->raw("celldm(1)") == "10.26d0");
  CHECK(system->raw("starting_magnetization(1)") == "0.5, 0.25");
  CHECK(system->raw("ecutwfc") == "20");  // the '/' on the same line closes the namelist
  CHECK(!system->raw("occupations"));
  CHECK(in.namelist("electrons")->values.empty());
  REQUIRE(in.cards.size() == 3);
  CHECK(in.card("atomic_species")->lines == std::vector<std::string>{"Si 28.086 Si.pz-vbc.UPF"});
  CHECK(in.card("atomic_positions")->option == "crystal");
  CHECK(in.card("atomic_positions")->lines.size() == 2);
  CHECK(in.card("k_points")->option == "automatic");
  CHECK(!in.card("cell_parameters"));
}

TEST_CASE("pw.x input: what write_pw_input writes reads back the same", "[unit][pw_input][readers]") {
  qe::PwInput in;
  auto& c = in.add_namelist("control");
  c.set("calculation", qe::pw_quoted("scf"));
  c.set("pseudo_dir", qe::pw_quoted("/a/b"));
  auto& s = in.add_namelist("system");
  s.set("ibrav", "0");
  s.set("ecutwfc", "30");
  in.add_card("cell_parameters", "bohr").lines = {"1 0 0", "0 1 0", "0 0 1"};
  in.add_card("k_points", "automatic").lines = {"2 2 2 0 0 0"};
  const std::string text = qe::write_pw_input(in);
  CHECK(text ==
        "&control\n  calculation = 'scf'\n  pseudo_dir = '/a/b'\n/\n&system\n  ibrav = 0\n  ecutwfc = 30\n/\n"
        "CELL_PARAMETERS bohr\n  1 0 0\n  0 1 0\n  0 0 1\nK_POINTS automatic\n  2 2 2 0 0 0\n");
  const auto back = qe::parse_pw_input(text, "round-trip");
  CHECK(qe::write_pw_input(back) == text);
  CHECK(back.namelist("control")->text("pseudo_dir") == "/a/b");
}

TEST_CASE("pw.x input: a value without a key and an open quote are errors naming the file",
          "[unit][pw_input][readers]") {
  CHECK_THROWS_WITH(qe::parse_pw_input("&system\n 2, ibrav = 2\n/\n", "bad.in"),
                    Catch::Contains("bad.in") && Catch::Contains("&system"));
  CHECK_THROWS_WITH(qe::parse_pw_input("&control\n prefix = 'si\n/\n", "open.in"),
                    Catch::Contains("open.in") && Catch::Contains("unterminated quote"));
  CHECK_THROWS_AS(qe::parse_pw_input("&control\n prefix = 'si\n/\n", "open.in"), rung::Error);
}

TEST_CASE("pw.x input: a namelist never closed with '/' is an error naming the file and the namelist",
          "[unit][pw_input][readers]") {
  // The text ends inside it.
  CHECK_THROWS_WITH(qe::parse_pw_input("&control\n calculation = 'scf'\n/\n&system\n ibrav = 2, nat = 2\n", "eof.in"),
                    Catch::Contains("eof.in") && Catch::Contains("&system is never closed with '/'"));
  // The next namelist, or a card, starts inside it.
  CHECK_THROWS_WITH(qe::parse_pw_input("&control\n calculation = 'scf'\n&system\n ibrav = 2\n/\n", "nl.in"),
                    Catch::Contains("nl.in") && Catch::Contains("&control is never closed with '/'"));
  CHECK_THROWS_WITH(qe::parse_pw_input("&system\n ibrav = 2\nATOMIC_SPECIES\n Si 28.086 Si.UPF\n", "card.in"),
                    Catch::Contains("card.in") && Catch::Contains("&system is never closed with '/'"));
  CHECK_THROWS_WITH(qe::parse_pw_input("&system\n ibrav = 2\nK_POINTS {automatic}\n 4 4 4 0 0 0\n", "k.in"),
                    Catch::Contains("&system is never closed with '/'"));
  CHECK_THROWS_AS(qe::parse_pw_input("&electrons\n", "e.in"), rung::Error);
  // "occupations" is a &SYSTEM key as well as a card name: not taken for a card inside the namelist.
  const auto in = qe::parse_pw_input("&system\n occupations = 'smearing'\n/\nOCCUPATIONS\n 1 1\n", "occ.in");
  CHECK(in.namelist("system")->text("occupations") == "smearing");
  CHECK(in.card("occupations") != nullptr);
  // The legacy "&end" closes a namelist as '/' does.
  const auto legacy = qe::parse_pw_input("&control\n calculation = 'scf'\n&END\n&system\n ibrav = 2\n&end\n", "end.in");
  CHECK(legacy.namelist("control")->text("calculation") == "scf");
  CHECK(legacy.namelist("system") != nullptr);
}
