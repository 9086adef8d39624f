// Structure readers: CIF (symmetry expansion), POSCAR, pw.x input (Bravais lattices), QE XML, JSON lines.
#include "core/error.hpp"
#include "core/units.hpp"
#include "ml/graph.hpp"
#include "io/structures/reader.hpp"
#include "support/paths.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>

using namespace rung;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "rung_test_structures";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

std::map<int, int> composition(const Structure& s) {
  std::map<int, int> c;
  for (int z : s.numbers) ++c[z];
  return c;
}

// The input error kind, with `needle` in the message.
void require_input_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL("no error raised (expected: " << needle << ")");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains(needle));
  }
}

}  // namespace

TEST_CASE("structures: CIF symmetry expansion gives pymatgen's 32-atom Ca4SbTe2Br cell",
          "[reference][structures][cif]") {
  const auto cif = test::shared_dir() / "structures" / "agm004850436_Ca4SbTe2Br.cif";
  RUNG_REQUIRE_SHARED(cif);
  const Structure s = read_structure(cif);
  // Fmm2 with 5 listed sites expands to Ca16 Sb4 Te8 Br4 (pymatgen gives the same cell).
  REQUIRE(s.size() == 32);
  CHECK(composition(s) == std::map<int, int>{{20, 16}, {35, 4}, {51, 4}, {52, 8}});
  CHECK(s.id == "Ca4SbTe2Br");
  CHECK(units::Bohr_to_Ang(std::cbrt(s.volume())) == Approx(std::cbrt(1031.55195561)).epsilon(1e-8));
  s.validate("cif");
}

TEST_CASE("structures: a P1 CIF and its JSON-lines record are the same crystal",
          "[reference][structures][cif][jsonl]") {
  const auto dir = test::shared_dir() / "structures";
  RUNG_REQUIRE_SHARED(dir / "alexandria_main_group.jsonl");
  const auto all = read_structures(dir / "alexandria_main_group.jsonl");
  REQUIRE(all.size() == 3538);
  for (std::size_t k : {0, 100, 1000, 2500, 3537}) {
    const Structure& j = all[k];
    const Structure c = read_structure(dir / "cif" / (j.id + ".cif"));
    INFO(j.id);
    REQUIRE(c.size() == j.size());
    CHECK(c.numbers == j.numbers);
    CHECK(c.volume() == Approx(j.volume()).epsilon(1e-7));
    // Same crystal, rotated frame: identical sorted neighbour distances.
    auto d = [](const Structure& s) {
      std::vector<double> v;
      for (const auto& n : graph::neighbor_list(s)) v.push_back(n.distance);
      std::sort(v.begin(), v.end());
      return v;
    };
    const auto dj = d(j), dc = d(c);
    REQUIRE(dj.size() == dc.size());
    for (std::size_t e = 0; e < dj.size(); ++e) REQUIRE(dj[e] == Approx(dc[e]).margin(1e-6));
  }
}

// Rock salt's asymmetric unit (Na at 0 0 0, Cl at 1/2 1/2 1/2) completed by the symmetry the CIF gives: by its
// Hall symbol (-F 4 2 3) the conventional cell's 4 + 4 atoms; by its number alone (225) no setting is fixed, and the
// file is refused rather than read as P1 with 2 atoms.
TEST_CASE("structures: a CIF's symmetry by Hall symbol, by number alone refused", "[unit][structures][cif]") {
  const std::string head =
      "data_NaCl\n_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n"
      "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n";
  const std::string atoms =
      "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
      "_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\nCl1 Cl 0.5 0.5 0.5\n";
  const auto hall = read_structure(temp_file("nacl_hall.cif", head + "_space_group_name_Hall '-F 4 2 3'\n" + atoms));
  CHECK(composition(hall) == std::map<int, int>{{11, 4}, {17, 4}});
  require_input_error(
      [&] { read_structure(temp_file("nacl_number.cif", head + "_space_group_IT_number 225\n" + atoms)); }, "225");
  const auto p1 = read_structure(temp_file("nacl_p1.cif", head + "_space_group_IT_number 1\n" + atoms));
  CHECK(p1.size() == 2);  // P1 by number: the listed atoms are the cell
}

TEST_CASE("structures: POSCAR direct, Cartesian, scale and errors", "[unit][structures][poscar]") {
  const auto direct = temp_file("POSCAR", "Si2\n1.0\n0 2.715 2.715\n2.715 0 2.715\n2.715 2.715 0\nSi\n2\nDirect\n"
                                          "0 0 0\n0.25 0.25 0.25\n");
  const Structure s = read_structure(direct);
  REQUIRE(s.size() == 2);
  CHECK(s.numbers == std::vector<int>{14, 14});
  CHECK(s.lattice(0, 1) == Approx(units::Ang_to_Bohr(2.715)));
  CHECK(s.frac[1].x() == Approx(0.25));
  // The same in Cartesian Angstrom with a scale factor of 2 on half-size numbers.
  const auto cart = temp_file("cart.vasp", "Si2\n2.0\n0 1.3575 1.3575\n1.3575 0 1.3575\n1.3575 1.3575 0\nSi\n2\n"
                                           "Selective dynamics\nCartesian\n0 0 0 T T T\n0.67875 0.67875 0.67875 T T T\n");
  const Structure c = read_structure(cart);
  CHECK((c.lattice - s.lattice).norm() < 1e-9);
  CHECK((c.frac[1] - s.frac[1]).norm() < 1e-12);
  // VASP 6's three scale factors, one per Cartesian axis: the cell stretched by 2 along z, positions in direct
  // coordinates unchanged, Cartesian ones scaled the same way
  const auto axes = temp_file("POSCAR_axes",
                              "Si2\n1.0 1.0 2.0\n0 2.715 2.715\n2.715 0 2.715\n2.715 2.715 0\nSi\n2\n"
                              "Cartesian\n0 0 0\n1.3575 1.3575 1.3575\n");
  const Structure a = read_structure(axes);
  CHECK(a.lattice(0, 2) == Approx(2 * s.lattice(0, 2)));
  CHECK(a.lattice(0, 1) == Approx(s.lattice(0, 1)));
  CHECK((a.frac[1] - s.frac[1]).norm() < 1e-12);
  require_input_error(
      [] { read_structure(temp_file("POSCAR_axes_bad", "x\n1 -1 1\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nDirect\n0 0 0\n")); },
      "three scale factors");
  require_input_error([] { read_structure(temp_file("POSCAR_v4", "x\n1\n1 0 0\n0 1 0\n0 0 1\n2\nDirect\n0 0 0\n.5 .5 .5\n")); },
                      "species line");
  require_input_error([] { read_structure(temp_file("POSCAR_short", "x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n2\nDirect\n0 0 0\n")); },
                      "truncated");
}

TEST_CASE("structures: pw.x inputs with celldm, A/B/C and CELL_PARAMETERS", "[unit][structures][pw]") {
  // Si, ibrav 2 (QE's fcc: a1 = a/2 (-1,0,1)), positions in alat.
  const auto si = temp_file("si.in",
                            "&CONTROL\n calculation='scf'\n/\n&SYSTEM\n ibrav = 2, celldm(1) = 10.26d0, nat=2, ntyp=1\n"
                            " ecutwfc = 12\n/\n&ELECTRONS\n/\nATOMIC_SPECIES\nSi 28.086 Si.pz-vbc.UPF\n"
                            "ATOMIC_POSITIONS alat\nSi 0.00 0.00 0.00\nSi 0.25 0.25 0.25 ! comment\nK_POINTS automatic\n4 4 4 1 1 1\n");
  const Structure s = read_structure(si);
  REQUIRE(s.size() == 2);
  CHECK(s.lattice(0, 0) == Approx(-5.13));
  CHECK(s.lattice(0, 2) == Approx(5.13));
  CHECK(s.volume() == Approx(10.26 * 10.26 * 10.26 / 4));
  // (1/4,1/4,1/4) alat = -a1/4 + 3a2/4 - a3/4 in QE's fcc basis (worked by hand).
  CHECK((s.frac[1] - Eigen::Vector3d(-0.25, 0.75, -0.25)).norm() < 1e-12);

  // Hexagonal with A and C in Angstrom, crystal positions.
  const auto hex = temp_file("gan.in", "&system\n ibrav=4, A=3.19, C=5.19, nat=2, ntyp=2 /\nATOMIC_SPECIES\n"
                                       "Ga 69.7 Ga.upf\nN 14 N.upf\nATOMIC_POSITIONS {crystal}\nGa 0.3333333 0.6666667 0\n"
                                       "N 0.3333333 0.6666667 0.377\n");
  const Structure h = read_structure(hex, StructureFormat::pw_input);
  CHECK(units::Bohr_to_Ang(h.lattice.row(1).norm()) == Approx(3.19));
  CHECK(units::Bohr_to_Ang(h.lattice(2, 2)) == Approx(5.19));
  CHECK(h.volume() == Approx(std::pow(units::Ang_to_Bohr(1), 3) * 3.19 * 3.19 * 5.19 * std::sqrt(3.0) / 2));

  // ibrav 0, CELL_PARAMETERS angstrom, positions in angstrom; labels with suffixes.
  const auto ib0 = temp_file("ib0.pwi", "&SYSTEM\n ibrav=0, nat=2, ntyp=2\n/\nCELL_PARAMETERS angstrom\n4 0 0\n0 4 0\n0 0 4\n"
                                        "ATOMIC_SPECIES\nNa1 23 Na.upf\nCl_x 35.4 Cl.upf\nATOMIC_POSITIONS angstrom\n"
                                        "Na1 0 0 0\nCl_x 2 2 2\n");
  const Structure b = read_structure(ib0);
  CHECK(b.numbers == std::vector<int>{11, 17});
  CHECK((b.frac[1] - Eigen::Vector3d(0.5, 0.5, 0.5)).norm() < 1e-12);

  require_input_error([] { read_structure(temp_file("bad.in", "&SYSTEM\n ibrav=2, nat=1, ntyp=1\n/\nATOMIC_SPECIES\nSi 1 x\n"
                                                                "ATOMIC_POSITIONS crystal\nSi 0 0 0\n")); },
                      "celldm(1)");
  require_input_error([] { read_structure(temp_file("bad2.in", "&SYSTEM\n ibrav=2, celldm(1)=10, nat=2, ntyp=1\n/\n"
                                                                 "ATOMIC_SPECIES\nSi 1 x\nATOMIC_POSITIONS crystal\nSi 0 0 0\n")); },
                      "nat = 2");
  // pw.x defaults B and C to 0: hexagonal with A alone has no c/a (not c = a).
  const std::string cards = "ATOMIC_SPECIES\nGa 1 x\nATOMIC_POSITIONS crystal\nGa 0 0 0\n";
  const std::string hex_a = "&SYSTEM\n ibrav=4, A=3.19, nat=1, ntyp=1\n/\n" + cards;
  require_input_error([&] { read_structure(temp_file("hex_a_only.in", hex_a)); }, "celldm(3)");
  const std::string ortho_ab = "&SYSTEM\n ibrav=8, A=3, B=4, nat=1, ntyp=1\n/\n" + cards;
  require_input_error([&] { read_structure(temp_file("ortho_ab.in", ortho_ab)); }, "celldm(3)");
}

TEST_CASE("structures: QE Bravais lattices have the textbook volumes", "[unit][structures][pw]") {
  const double a = 7.0, ba = 1.3, ca = 1.7, cg = 0.2, cb = -0.3, cal = 0.1;
  struct Case {
    int ibrav;
    double celldm[6];
    double volume;
  };
  const double a3 = a * a * a;
  const std::vector<Case> cases = {
      {1, {a, 0, 0, 0, 0, 0}, a3},
      {2, {a, 0, 0, 0, 0, 0}, a3 / 4},
      {3, {a, 0, 0, 0, 0, 0}, a3 / 2},
      {-3, {a, 0, 0, 0, 0, 0}, a3 / 2},
      {4, {a, 0, ca, 0, 0, 0}, a3 * ca * std::sqrt(3.0) / 2},
      {5, {a, 0, 0, cal, 0, 0}, a3 * std::sqrt(1 - 3 * cal * cal + 2 * cal * cal * cal)},
      {-5, {a, 0, 0, cal, 0, 0}, a3 * std::sqrt(1 - 3 * cal * cal + 2 * cal * cal * cal)},
      {6, {a, 0, ca, 0, 0, 0}, a3 * ca},
      {7, {a, 0, ca, 0, 0, 0}, a3 * ca / 2},
      {8, {a, ba, ca, 0, 0, 0}, a3 * ba * ca},
      {9, {a, ba, ca, 0, 0, 0}, a3 * ba * ca / 2},
      {-9, {a, ba, ca, 0, 0, 0}, a3 * ba * ca / 2},
      {91, {a, ba, ca, 0, 0, 0}, a3 * ba * ca / 2},
      {10, {a, ba, ca, 0, 0, 0}, a3 * ba * ca / 4},
      {11, {a, ba, ca, 0, 0, 0}, a3 * ba * ca / 2},
      {12, {a, ba, ca, cg, 0, 0}, a3 * ba * ca * std::sqrt(1 - cg * cg)},
      {-12, {a, ba, ca, 0, cb, 0}, a3 * ba * ca * std::sqrt(1 - cb * cb)},
      {13, {a, ba, ca, cg, 0, 0}, a3 * ba * ca * std::sqrt(1 - cg * cg) / 2},
      {14, {a, ba, ca, cal, cb, cg}, a3 * ba * ca * std::sqrt(1 + 2 * cal * cb * cg - cal * cal - cb * cb - cg * cg)},
  };
  for (const auto& c : cases) {
    INFO("ibrav " << c.ibrav);
    const Eigen::Matrix3d m = qe_bravais_lattice(c.ibrav, c.celldm, "test");
    CHECK(std::abs(m.determinant()) == Approx(c.volume).epsilon(1e-12));
  }
  // Lattice-vector lengths where QE fixes them: ibrav 14 |a2| = b, |a3| = c, angles as given.
  const Eigen::Matrix3d t = qe_bravais_lattice(14, cases.back().celldm, "test");
  CHECK(t.row(1).norm() == Approx(a * ba));
  CHECK(t.row(2).norm() == Approx(a * ca));
  CHECK(t.row(1).dot(t.row(2)) / (t.row(1).norm() * t.row(2).norm()) == Approx(cal));
  CHECK(t.row(0).dot(t.row(2)) / (t.row(0).norm() * t.row(2).norm()) == Approx(cb));
  CHECK(t.row(0).dot(t.row(1)) / (t.row(0).norm() * t.row(1).norm()) == Approx(cg));
  require_input_error([&] { qe_bravais_lattice(15, cases[0].celldm, "x"); }, "not supported");
}

TEST_CASE("structures: QE data-file-schema.xml cell and atoms", "[reference][structures][qe]") {
  const auto xml = temp_file("data-file-schema.xml", R"(<?xml version="1.0"?>
<qes:espresso xmlns:qes="http://www.quantum-espresso.org/ns/qes/qes-1.0">
 <output>
  <atomic_structure nat="2" alat="10.26">
   <atomic_positions>
    <atom name="Si" index="1">0 0 0</atom>
    <atom name="Si" index="2">2.565 2.565 2.565</atom>
   </atomic_positions>
   <cell><a1>-5.13 0 5.13</a1><a2>0 5.13 5.13</a2><a3>-5.13 5.13 0</a3></cell>
  </atomic_structure>
 </output>
</qes:espresso>)");
  const Structure s = read_structure(xml);
  REQUIRE(s.size() == 2);
  CHECK(s.volume() == Approx(10.26 * 10.26 * 10.26 / 4));
  CHECK((s.frac[1] - Eigen::Vector3d(-0.25, 0.75, -0.25)).norm() < 1e-12);  // as in the pw.x case above
  // The real pw.x run of the test fixture (the same Si, alat 10.26 Bohr): the same cell and atoms.
  RUNG_REQUIRE_FIXTURE("si_tiny");
  const Structure q = read_structure(test::qe_save("si_tiny", "si"));
  REQUIRE(q.size() == 2);
  CHECK(q.numbers == std::vector<int>{14, 14});
  CHECK(q.volume() == Approx(s.volume()).epsilon(1e-10));
  CHECK((q.frac[1] - q.frac[0] - (s.frac[1] - s.frac[0])).norm() < 1e-6);
}

TEST_CASE("structures: QE XML id of a save named with a trailing slash, vectors of exactly three numbers",
          "[unit][structures][qe]") {
  const std::string xml = R"(<?xml version="1.0"?>
<qes:espresso xmlns:qes="http://www.quantum-espresso.org/ns/qes/qes-1.0">
 <output>
  <atomic_structure nat="1" alat="10">
   <atomic_positions><atom name="Si" index="1">0 0 0</atom></atomic_positions>
   <cell><a1>10 0 0</a1><a2>0 10 0</a2><a3>0 0 10</a3></cell>
  </atomic_structure>
 </output>
</qes:espresso>)";
  const fs::path dir = fs::temp_directory_path() / "rung_test_structures" / "slash.save";
  fs::create_directories(dir);
  std::ofstream(dir / "data-file-schema.xml") << xml;
  CHECK(read_qe_save_structure(dir.string() + "/").id == "slash.save");
  CHECK(read_qe_save_structure(dir).id == "slash.save");
  std::string four = xml;
  four.replace(four.find("<a2>0 10 0</a2>"), 15, "<a2>0 10 0 7</a2>");
  std::ofstream(dir / "data-file-schema.xml") << four;
  require_input_error([&] { read_qe_save_structure(dir); }, "malformed a2");
}

TEST_CASE("structures: bad input is a clear input error", "[unit][structures][errors]") {
  require_input_error([] { read_structures("/nonexistent/file.cif"); }, "does not exist");
  require_input_error([] { read_structure(temp_file("nocell.cif", "data_x\n_atom_site_label Si1\n_atom_site_fract_x 0\n"
                                                                    "_atom_site_fract_y 0\n_atom_site_fract_z 0\n")); },
                      "unit cell");
  require_input_error([] { read_structure(temp_file("dis.cif", "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
                                                                 "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
                                                                 "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
                                                                 "_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n"
                                                                 "Si1 Si 0 0 0 0.5\n")); },
                      "occupancy");
  // Unsupported element, overlapping atoms, empty and degenerate cells: the model's validation.
  const auto fe = temp_file("fe.jsonl", R"({"id":"fe","lattice":[[2.8,0,0],[0,2.8,0],[0,0,2.8]],"species":["Fe"],"frac_coords":[[0,0,0]]})"
                                        "\n");
  const Structure f = read_structure(fe);
  require_input_error([&] { graph::validate_for_model(f, "fe"); }, "Fe: the OPTIMATE model encodes only");
  const auto ov = temp_file("ov.jsonl", R"({"id":"ov","lattice":[[4,0,0],[0,4,0],[0,0,4]],"species":["Na","Cl"],"frac_coords":[[0,0,0],[0.01,0,0]]})"
                                        "\n");
  require_input_error([&] { graph::validate_for_model(read_structure(ov), "ov"); }, "overlap");
  const auto flat = temp_file("flat.jsonl", R"({"id":"flat","lattice":[[4,0,0],[0,4,0],[0,0,0]],"species":["Na"],"frac_coords":[[0,0,0]]})"
                                            "\n");
  require_input_error([&] { graph::validate_for_model(read_structure(flat), "flat"); }, "non-periodic");
  require_input_error([] { read_structures(temp_file("empty.jsonl", "\n")); }, "empty");
  require_input_error([] { read_structures(temp_file("broken.jsonl", "{\"id\": \n")); }, "invalid JSON");
  // a pymatgen Structure dict with a site's "abc" missing, and one with a species without "element"
  require_input_error(
      [] {
        read_structures(temp_file("pmg.json", R"({"lattice":{"matrix":[[3,0,0],[0,3,0],[0,0,3]]},)"
                                              R"("sites":[{"species":[{"element":"Si"}],"xyz":[0,0,0]}]})"));
      },
      "abc");
  require_input_error(
      [] {
        read_structures(temp_file("pmg2.json", R"({"lattice":{"matrix":[[3,0,0],[0,3,0],[0,0,3]]},)"
                                               R"("sites":[{"species":[{"occu":1}],"abc":[0,0,0]}]})"));
      },
      "element");
}

TEST_CASE("structures: a folder lists its structure files and QE saves, sorted, and nothing else",
          "[unit][structures][folder]") {
  const fs::path dir = fs::temp_directory_path() / "rung_test_structure_folder";
  fs::remove_all(dir);
  fs::create_directories(dir / "si.save");
  fs::create_directories(dir / "plain_subfolder");
  for (const char* name :
       {"b.cif", "a.CIF", "POSCAR_x", "si.in", "notes.txt", "si.save/data-file-schema.xml", "plain_subfolder/c.cif"})
    std::ofstream(dir / name) << "x\n";
  CHECK(is_structure_folder(dir));
  CHECK_FALSE(is_structure_folder(dir / "si.save"));  // a QE save is one structure, not a folder of them
  CHECK_FALSE(is_structure_folder(dir / "b.cif"));
  const auto files = structure_files_in(dir);
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.filename().string());
  // Byte order (upper case first); not recursive: plain_subfolder/c.cif is not listed; notes.txt says no format.
  CHECK(names == std::vector<std::string>{"POSCAR_x", "a.CIF", "b.cif", "si.in", "si.save"});
  fs::remove_all(dir / "plain_subfolder");
  fs::create_directories(dir / "empty");
  require_input_error([&] { structure_files_in(dir / "empty"); }, "holds no structure files");
  fs::remove_all(dir);
}
