// Quantum ESPRESSO prefix.save reader: data-file-schema.xml (pugixml) and wfcN.dat (Fortran records).
// See doc/qe-reader.md for units, index order and which file each quantity comes from.
#include "io/qe/save.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "io/qe/detail.hpp"
#include "io/qe/upf.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace rung::qe {

std::string to_string(PseudoKind k) {
  switch (k) {
    case PseudoKind::norm_conserving: return "NC";
    case PseudoKind::ultrasoft: return "US";
    case PseudoKind::paw: return "PAW";
    case PseudoKind::unknown: break;
  }
  return "unknown";
}

namespace {

constexpr int kMaxBands = 1'000'000;
constexpr int kMaxKpoints = 10'000'000;
constexpr int kMaxAtoms = 1'000'000;

// ---- small XML helpers: every failure names the file and the element -------------------------------

struct Xml {
  const fs::path& origin;

  [[noreturn]] void bad(const std::string& what) const { fail_input(origin, what); }

  pugi::xml_node req(pugi::xml_node parent, const char* name, const std::string& where) const {
    pugi::xml_node n = parent.child(name);
    if (!n) bad(fmt::format("missing <{}> in <{}>", name, where));
    return n;
  }

  // All whitespace-separated numbers of a text.
  std::vector<double> doubles(std::string_view text, const std::string& what) const {
    std::vector<double> v;
    const char* p = text.data();
    const char* end = p + text.size();
    while (true) {
      while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
      if (p >= end) break;
      double x = 0;
      auto [q, ec] = std::from_chars(p, end, x);
      if (ec != std::errc() || (q < end && !(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')))
        bad(fmt::format("<{}>: '{}' is not a number", what, std::string(p, std::min<std::size_t>(20, end - p))));
      if (!std::isfinite(x)) bad(fmt::format("<{}>: non-finite value", what));
      v.push_back(x);
      p = q;
    }
    return v;
  }
  std::vector<double> doubles(pugi::xml_node n, const std::string& what) const {
    return doubles(n.child_value(), what);
  }
  std::vector<double> doubles_n(pugi::xml_node n, std::size_t count, const std::string& what) const {
    auto v = doubles(n, what);
    if (v.size() != count) bad(fmt::format("<{}> has {} values, expected {}", what, v.size(), count));
    return v;
  }
  double number(pugi::xml_node n, const std::string& what) const { return doubles_n(n, 1, what)[0]; }
  double req_number(pugi::xml_node parent, const char* name, const std::string& where) const {
    return number(req(parent, name, where), name);
  }
  Eigen::Vector3d vec3(pugi::xml_node n, const std::string& what) const {
    auto v = doubles_n(n, 3, what);
    return {v[0], v[1], v[2]};
  }
  long long integer(std::string_view text, const std::string& what) const {
    text = trim_view(text);
    long long x = 0;
    auto [q, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
    if (text.empty() || ec != std::errc() || q != text.data() + text.size())
      bad(fmt::format("<{}>: '{}' is not an integer", what, std::string(text.substr(0, 20))));
    return x;
  }
  long long integer(pugi::xml_node n, const std::string& what) const { return integer(n.child_value(), what); }
  long long int_attr(pugi::xml_node n, const char* attr, const std::string& what) const {
    pugi::xml_attribute a = n.attribute(attr);
    if (!a) bad(fmt::format("<{}> lacks the attribute {}", what, attr));
    return integer(a.value(), std::string(what) + "@" + attr);
  }
  double double_attr(pugi::xml_node n, const char* attr, const std::string& what) const {
    pugi::xml_attribute a = n.attribute(attr);
    if (!a) bad(fmt::format("<{}> lacks the attribute {}", what, attr));
    auto v = doubles(a.value(), std::string(what) + "@" + attr);
    if (v.size() != 1) bad(fmt::format("<{}>@{}: expected one number", what, attr));
    return v[0];
  }
  bool boolean(pugi::xml_node n, const std::string& what) const {
    std::string_view t = trim_view(n.child_value());
    if (t == "true" || t == "1" || t == ".true." || t == "T") return true;
    if (t == "false" || t == "0" || t == ".false." || t == "F") return false;
    bad(fmt::format("<{}>: '{}' is not a boolean", what, std::string(t.substr(0, 20))));
  }
  bool opt_bool(pugi::xml_node parent, const char* name, bool dflt) const {
    pugi::xml_node n = parent.child(name);
    return n ? boolean(n, name) : dflt;
  }
  std::optional<double> opt_number(pugi::xml_node parent, const char* name) const {
    pugi::xml_node n = parent.child(name);
    if (!n) return std::nullopt;
    return number(n, name);
  }
};

std::string read_whole_file(const fs::path& file, const char* what) {
  std::error_code ec;
  if (!fs::exists(file, ec)) fail_missing(file, std::string(what) + " does not exist");
  if (fs::is_directory(file, ec)) fail_input(file, std::string("is a directory, expected ") + what);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input(file, std::string("cannot open ") + what);
  const auto size = fs::file_size(file, ec);
  if (ec) fail_input(file, std::string("cannot read ") + what);
  std::string text(size, '\0');
  if (size > 0 && !in.read(text.data(), std::streamsize(size)))
    fail_input(file, std::string("cannot read ") + what);
  return text;
}

std::size_t line_of(std::string_view text, std::ptrdiff_t offset) {
  offset = std::clamp<std::ptrdiff_t>(offset, 0, std::ptrdiff_t(text.size()));
  return 1 + std::size_t(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

// ======================================================================================================
// data-file-schema.xml

Save detail::parse_schema(std::string_view text, const fs::path& origin) {
  const Xml x{origin};
  if (text.empty()) x.bad("empty file (expected QE's data-file-schema.xml)");
  pugi::xml_document doc;
  const pugi::xml_parse_result res =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!res)
    x.bad(fmt::format("malformed XML at line {}: {} (truncated or corrupted?)", line_of(text, res.offset),
                      res.description()));
  pugi::xml_node root = doc.document_element();
  const std::string root_name = root.name();
  if (root_name != "qes:espresso" && root_name != "espresso" &&
      !(root_name.size() > 9 && root_name.substr(root_name.size() - 9) == ":espresso"))
    x.bad(fmt::format("root element is <{}>, not <qes:espresso> (not a QE data-file-schema.xml)", root_name));

  Save s;
  if (auto creator = root.child("general_info").child("creator")) s.qe_version = creator.attribute("VERSION").value();
  if (auto prefix = root.child("input").child("control_variables").child("prefix"))
    s.prefix = trim(prefix.child_value());

  pugi::xml_node out = x.req(root, "output", "qes:espresso");

  // ---- structure ----
  pugi::xml_node as = x.req(out, "atomic_structure", "output");
  const long long nat = x.int_attr(as, "nat", "atomic_structure");
  if (nat < 1 || nat > kMaxAtoms) x.bad(fmt::format("<atomic_structure> nat={} is out of range", nat));
  s.alat = x.double_attr(as, "alat", "atomic_structure");
  if (!(s.alat > 0)) x.bad("<atomic_structure> alat must be positive");
  pugi::xml_node cell = x.req(as, "cell", "atomic_structure");
  s.structure.lattice.row(0) = x.vec3(x.req(cell, "a1", "cell"), "a1").transpose();
  s.structure.lattice.row(1) = x.vec3(x.req(cell, "a2", "cell"), "a2").transpose();
  s.structure.lattice.row(2) = x.vec3(x.req(cell, "a3", "cell"), "a3").transpose();
  const double vol = s.structure.lattice.determinant();
  if (!(std::abs(vol) > 1e-6)) x.bad(fmt::format("<cell> is degenerate (volume {:.3g} bohr^3)", vol));
  const Eigen::Matrix3d lat_t_inv = s.structure.lattice.transpose().inverse();

  // ---- species ----
  pugi::xml_node species = x.req(out, "atomic_species", "output");
  const std::string pseudo_dir = species.attribute("pseudo_dir").value();
  for (pugi::xml_node sp : species.children("species")) {
    Species spec;
    spec.label = sp.attribute("name").value();
    if (spec.label.empty()) x.bad("<species> without a name");
    if (auto m = sp.child("mass")) spec.mass = x.number(m, "mass");
    spec.pseudo_file = trim(x.req(sp, "pseudo_file", "species").child_value());
    if (spec.pseudo_file.empty()) x.bad(fmt::format("species {}: empty <pseudo_file>", spec.label));
    spec.z = elements::atomic_number_of_label(spec.label);
    if (!pseudo_dir.empty()) spec.pseudo_path = fs::path(pseudo_dir) / spec.pseudo_file;  // provisional
    s.species.push_back(std::move(spec));
  }
  if (s.species.empty()) x.bad("<atomic_species> lists no species");
  if (species.attribute("ntyp") && x.int_attr(species, "ntyp", "atomic_species") != (long long)s.species.size())
    x.bad("<atomic_species> ntyp disagrees with the number of <species>");

  pugi::xml_node positions = x.req(as, "atomic_positions", "atomic_structure");
  for (pugi::xml_node atom : positions.children("atom")) {
    const std::string name = atom.attribute("name").value();
    auto it = std::find_if(s.species.begin(), s.species.end(), [&](const Species& sp) { return sp.label == name; });
    if (it == s.species.end()) x.bad(fmt::format("atom of unknown species '{}'", name));
    const Eigen::Vector3d r = x.vec3(atom, "atom");
    s.structure.frac.push_back(lat_t_inv * r);
    s.atom_species.push_back(int(it - s.species.begin()));
    s.structure.numbers.push_back(it->z);
  }
  if ((long long)s.atom_species.size() != nat)
    x.bad(fmt::format("<atomic_structure> nat={} but {} <atom> elements", nat, s.atom_species.size()));

  // ---- basis ----
  pugi::xml_node basis = x.req(out, "basis_set", "output");
  s.ecutwfc = x.req_number(basis, "ecutwfc", "basis_set");
  s.ecutrho = x.req_number(basis, "ecutrho", "basis_set");
  if (!(s.ecutwfc > 0) || !(s.ecutrho > 0)) x.bad("<basis_set> cutoffs must be positive");
  if (auto fft = basis.child("fft_grid")) {
    for (int i = 0; i < 3; ++i) {
      const char* a = i == 0 ? "nr1" : i == 1 ? "nr2" : "nr3";
      const long long n = x.int_attr(fft, a, "fft_grid");
      if (n < 1 || n > 100000) x.bad(fmt::format("<fft_grid> {}={} is out of range", a, n));
      s.fft_grid[i] = int(n);
    }
  }
  s.gamma_only = x.opt_bool(basis, "gamma_only", false);
  s.reciprocal = s.structure.reciprocal();
  if (auto rl = basis.child("reciprocal_lattice")) {
    // Cross-check QE's b_i (2π/alat units) against the cell.
    const double tpiba = units::two_pi / s.alat;
    for (int i = 0; i < 3; ++i) {
      const char* b = i == 0 ? "b1" : i == 1 ? "b2" : "b3";
      const Eigen::Vector3d bi = x.vec3(x.req(rl, b, "reciprocal_lattice"), b) * tpiba;
      if ((bi - s.reciprocal.row(i).transpose()).norm() > 1e-6 * std::max(1.0, bi.norm()))
        x.bad(fmt::format("<reciprocal_lattice> {} disagrees with the cell", b));
    }
  }

  if (auto dft = out.child("dft")) s.functional = trim(dft.child("functional").child_value());

  // ---- symmetries ----
  const pugi::xml_node input = root.child("input");
  const pugi::xml_node flags = input.child("symmetry_flags");
  s.no_symmetry = x.opt_bool(flags, "nosym", false);
  s.no_inversion = x.opt_bool(flags, "noinv", false);
  if (pugi::xml_node sy = out.child("symmetries")) {
    const long long nsym = x.integer(x.req(sy, "nsym", "symmetries"), "nsym");
    s.nrot = sy.child("nrot") ? int(x.integer(sy.child("nrot"), "nrot")) : int(nsym);
    if (nsym < 1 || nsym > 48) x.bad(fmt::format("<symmetries> nsym={} is out of range 1..48", nsym));
    const Eigen::Matrix3d at = s.structure.lattice.transpose();  // columns a_i
    const Eigen::Matrix3d at_inv = at.inverse();
    int count = 0;
    for (pugi::xml_node op : sy.children("symmetry")) {
      if (count == nsym) break;
      const std::string kind = trim(op.child("info").child_value());
      if (kind == "lattice_symmetry") continue;  // Bravais-lattice-only operations (after the nsym)
      // Noncollinear magnetic runs mark an operation that is combined with time reversal (it flips the
      // magnetisation back) <info time_reversal="true">: read as a plain rotation it would map the states wrongly.
      if (const auto tr = op.child("info").attribute("time_reversal")) {
        const std::string v = lower(trim(tr.value()));
        if (v == "true" || v == "1")
          x.bad(
              fmt::format("symmetry operation {} is combined with time reversal (a noncollinear magnetic run): "
                          "not supported",
                          count + 1));
      }
      SymmetryOp sop;
      sop.name = op.child("info").attribute("name").value();
      // The 9 numbers, read line by line, are the rows of the matrix acting on fractional coordinate
      // columns, x' = M x (QE writes s(:,:,isym) in Fortran order; see doc/qe-reader.md).
      const auto v = x.doubles_n(x.req(op, "rotation", "symmetry"), 9, "rotation");
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          const double m = v[3 * i + j];
          if (std::abs(m - std::round(m)) > 1e-6 || std::abs(m) > 8) x.bad("<rotation> is not an integer matrix");
          sop.rotation(i, j) = int(std::lround(m));
        }
      const int det = int(std::lround(sop.rotation.cast<double>().determinant()));
      if (det != 1 && det != -1) x.bad(fmt::format("<rotation> of symmetry {} has determinant {}", count + 1, det));
      if (auto ft = op.child("fractional_translation")) sop.fractional_translation = x.vec3(ft, "fractional_translation");
      sop.rotation_cart = at * sop.rotation.cast<double>() * at_inv;
      if ((sop.rotation_cart.transpose() * sop.rotation_cart - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff() > 1e-5)
        x.bad(fmt::format("<rotation> of symmetry {} is not a rotation of this lattice", count + 1));
      s.symmetries.push_back(std::move(sop));
      ++count;
    }
    if (count != nsym)
      x.bad(fmt::format("<symmetries> nsym={} but {} crystal <symmetry> elements", nsym, count));
  } else {
    SymmetryOp id;
    id.rotation.setIdentity();
    id.rotation_cart.setIdentity();
    id.name = "identity";
    s.symmetries.push_back(id);
    s.nrot = 1;
  }

  // ---- band structure ----
  pugi::xml_node bs = out.child("band_structure");
  if (!bs) x.bad("no <band_structure> in <output> (not a completed pw.x run?)");
  s.lsda = x.opt_bool(bs, "lsda", false);
  s.noncolin = x.opt_bool(bs, "noncolin", false);
  s.spinorbit = x.opt_bool(bs, "spinorbit", false);
  bool magnetic = false;
  if (pugi::xml_node mag = out.child("magnetization")) {
    if (mag.child("do_magnetization")) magnetic = x.boolean(mag.child("do_magnetization"), "do_magnetization");
    else if (auto absm = x.opt_number(mag, "absolute")) magnetic = std::abs(*absm) > 1e-6;
  }
  s.time_reversal = !s.no_inversion && !(s.noncolin && magnetic);

  int nbnd_total = 0;
  if (s.lsda) {
    if (bs.child("nbnd_up")) {
      const long long up = x.integer(bs.child("nbnd_up"), "nbnd_up");
      const long long dw = x.integer(x.req(bs, "nbnd_dw", "band_structure"), "nbnd_dw");
      if (up != dw) x.bad("lsda with nbnd_up != nbnd_dw is not supported");
      s.nbnd = int(std::clamp<long long>(up, -1, kMaxBands + 1));
    } else {
      s.nbnd = int(std::clamp<long long>(x.integer(x.req(bs, "nbnd", "band_structure"), "nbnd"), -1, kMaxBands + 1));
    }
    nbnd_total = 2 * s.nbnd;
  } else {
    s.nbnd = int(std::clamp<long long>(x.integer(x.req(bs, "nbnd", "band_structure"), "nbnd"), -1, kMaxBands + 1));
    nbnd_total = s.nbnd;
  }
  if (s.nbnd < 1 || s.nbnd > kMaxBands) x.bad(fmt::format("<band_structure> nbnd={} is out of range", s.nbnd));
  s.nelec = x.req_number(bs, "nelec", "band_structure");
  if (!(s.nelec >= 0)) x.bad("<nelec> is negative");
  // the bands hold at most 2 electrons each (1 with spinors; lsda's nbnd is per spin channel): more is a corrupt
  // file, and would index past the bands wherever occupations are filled from nelec
  if (const int capacity = s.noncolin ? s.nbnd : 2 * s.nbnd; s.nelec > capacity + 1e-6)
    x.bad(fmt::format("<nelec>={:g} exceeds what its {} bands hold ({})", s.nelec, s.nbnd, capacity));
  s.fermi_energy = x.opt_number(bs, "fermi_energy");
  s.homo = x.opt_number(bs, "highestOccupiedLevel");
  s.lumo = x.opt_number(bs, "lowestUnoccupiedLevel");
  if (!s.fermi_energy)
    if (auto two = bs.child("two_fermi_energies")) {
      auto v = x.doubles_n(two, 2, "two_fermi_energies");
      s.two_fermi_energies = std::array<double, 2>{v[0], v[1]};
      s.fermi_energy = std::max(v[0], v[1]);
    }
  if (auto occ = bs.child("occupations_kind")) s.occupations = trim(occ.child_value());
  else if (auto occ2 = input.child("bands").child("occupations")) s.occupations = trim(occ2.child_value());
  if (auto mp = bs.child("starting_k_points").child("monkhorst_pack")) {
    MonkhorstPack g;
    const char* n[3] = {"nk1", "nk2", "nk3"};
    const char* k[3] = {"k1", "k2", "k3"};
    for (int i = 0; i < 3; ++i) {
      const long long ni = x.int_attr(mp, n[i], "monkhorst_pack");
      const long long ki = x.int_attr(mp, k[i], "monkhorst_pack");
      if (ni < 1 || ni > 100000 || ki < 0 || ki > 1) x.bad("<monkhorst_pack> has out-of-range attributes");
      g.n[i] = int(ni);
      g.shift[i] = int(ki);
    }
    s.mp_grid = g;
  }

  long long nks = -1;
  if (auto n = bs.child("nks")) nks = x.integer(n, "nks");
  const double tpiba = units::two_pi / s.alat;
  std::vector<std::vector<double>> eig, occ;
  for (pugi::xml_node ks : bs.children("ks_energies")) {
    if ((long long)s.k_cart.size() >= kMaxKpoints) x.bad("too many <ks_energies>");
    const std::string where = fmt::format("ks_energies #{}", s.k_cart.size() + 1);
    pugi::xml_node kp = x.req(ks, "k_point", where);
    s.k_cart.push_back(x.vec3(kp, "k_point") * tpiba);
    if (!kp.attribute("weight")) x.bad(fmt::format("<{}>: <k_point> has no weight", where));  // pw.x writes one
    s.k_weights.push_back(x.double_attr(kp, "weight", "k_point"));
    if (pugi::xml_node n = ks.child("npw")) {
      const long long npw = x.integer(n, "npw");
      if (npw < 1) x.bad(fmt::format("<{}>: npw must be positive", where));
      if (npw > std::numeric_limits<int>::max())
        x.bad(fmt::format("<{}>: npw = {} is larger than this reader can hold ({})", where, npw,
                          std::numeric_limits<int>::max()));
      s.npw.push_back(int(npw));
    } else {
      s.npw.push_back(-1);
    }
    auto e = x.doubles(x.req(ks, "eigenvalues", where), "eigenvalues");
    if ((int)e.size() != nbnd_total)
      x.bad(fmt::format("<{}>: {} eigenvalues, expected {}", where, e.size(), nbnd_total));
    // (pw.x writes the occupations of every k-point, fixed or smeared: a file without them is not its output)
    std::vector<double> o = x.doubles(x.req(ks, "occupations", where), "occupations");
    if ((int)o.size() != nbnd_total)
      x.bad(fmt::format("<{}>: {} occupations, expected {}", where, o.size(), nbnd_total));
    eig.push_back(std::move(e));
    occ.push_back(std::move(o));
  }
  if (s.k_cart.empty()) x.bad("<band_structure> has no <ks_energies> (no k-points)");
  if (nks >= 0 && nks != (long long)s.k_cart.size())
    x.bad(fmt::format("<nks>={} but {} <ks_energies>", nks, s.k_cart.size()));
  s.eigenvalues.resize(Eigen::Index(s.k_cart.size()), nbnd_total);
  s.occupations_kb.resize(Eigen::Index(s.k_cart.size()), nbnd_total);
  for (std::size_t ik = 0; ik < eig.size(); ++ik)
    for (int b = 0; b < nbnd_total; ++b) {
      s.eigenvalues(Eigen::Index(ik), b) = eig[ik][b];
      s.occupations_kb(Eigen::Index(ik), b) = occ[ik][b];
    }
  return s;
}

// ======================================================================================================
// Locating the folder

namespace {

bool has_schema(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "data-file-schema.xml", ec);
}

}  // namespace

Save Save::read(const fs::path& path_in) {
  std::error_code ec;
  const fs::path path = path_in;
  if (!fs::exists(path, ec)) fail_missing(path);
  fs::path dir, xml;
  if (fs::is_regular_file(path, ec)) {
    xml = path;
    dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  } else if (has_schema(path)) {
    dir = path;
    xml = path / "data-file-schema.xml";
  } else {
    std::vector<fs::path> saves;
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_directory(ec) && e.path().extension() == ".save" && has_schema(e.path())) saves.push_back(e.path());
    if (saves.empty())
      fail_input(path, "not a QE prefix.save folder: no data-file-schema.xml in it nor in a *.save folder inside");
    if (saves.size() > 1) {
      std::sort(saves.begin(), saves.end());
      std::string names;
      for (const auto& p : saves) names += (names.empty() ? "" : ", ") + p.filename().string();
      fail_input(path, fmt::format("holds {} QE save folders ({}); give one of them", saves.size(), names));
    }
    dir = saves.front();
    xml = dir / "data-file-schema.xml";
  }

  const std::string text = read_whole_file(xml, "QE data-file-schema.xml");
  Save s = detail::parse_schema(text, xml);
  s.dir = dir;
  s.xml = xml;
  if (s.prefix.empty()) {
    const std::string name = fs::absolute(dir, ec).filename().string();
    s.prefix = name.size() > 5 && name.ends_with(".save") ? name.substr(0, name.size() - 5) : name;
  }
  s.structure.id = dir.string();

  // Pseudopotentials: pw.x copies them into the save folder; else the XML's pseudo_dir.
  for (auto& sp : s.species) {
    const fs::path local = dir / sp.pseudo_file;
    if (fs::is_regular_file(local, ec)) {
      sp.pseudo_path = local;
    } else if (sp.pseudo_path.empty() || !fs::is_regular_file(sp.pseudo_path, ec)) {
      fail_input(local, fmt::format("pseudopotential of species {} not found (neither in the save folder nor in "
                                    "the pseudo_dir{})",
                                    sp.label, sp.pseudo_path.empty() ? "" : " " + sp.pseudo_path.parent_path().string()));
    }
    // The whole file (a few ms): a truncated or corrupted pseudopotential is reported here.
    const upf::Pseudopotential hdr = upf::Pseudopotential::read(sp.pseudo_path);
    sp.kind = hdr.kind;
    if (const int z = elements::atomic_number(hdr.element); z > 0) sp.z = z;
  }
  for (std::size_t i = 0; i < s.atom_species.size(); ++i) s.structure.numbers[i] = s.species[s.atom_species[i]].z;
  for (const auto& sp : s.species)
    if (sp.z < 1) fail_input(xml, fmt::format("cannot tell the element of species '{}'", sp.label));
  s.structure.validate(xml.string());
  return s;
}

int Save::occupied_bands() const {
  const double n = noncolin ? nelec : nelec / 2.0;
  return int(std::floor(n + 1e-6));
}

std::optional<int> Save::filled_bands(int spin) const {
  const int nb = nbnd;
  int nocc = -1;
  for (Eigen::Index ik = 0; ik < eigenvalues.rows(); ++ik) {
    int n = 0;
    for (int b = 0; b < nb; ++b) {
      const double f = occupations_kb(ik, spin * nb + b);
      if (std::abs(f - 1) < 1e-4) ++n;
      else if (std::abs(f) > 1e-4) return std::nullopt;
    }
    if (nocc < 0) nocc = n;
    if (n != nocc) return std::nullopt;
  }
  return nocc < 0 ? std::nullopt : std::optional<int>(nocc);
}

std::optional<std::array<int, 2>> Save::common_gap_filling() const {
  const long n = std::lround(nelec);
  if (!lsda || std::abs(nelec - double(n)) > 1e-6 || n <= 0 || eigenvalues.rows() == 0) return std::nullopt;
  const auto lowest = [&](int s, int b) {
    return eigenvalues.col(s * nbnd + b).minCoeff();
  };
  const auto highest = [&](int s, int b) {
    return eigenvalues.col(s * nbnd + b).maxCoeff();
  };
  for (int up = 0; up < nbnd; ++up) {
    const long down = n - up;
    if (down < 0 || down >= nbnd) continue;
    const int fill[2] = {up, int(down)};
    double vbm = -std::numeric_limits<double>::infinity(), cbm = std::numeric_limits<double>::infinity();
    for (int s = 0; s < 2; ++s) {
      if (fill[s] > 0) vbm = std::max(vbm, highest(s, fill[s] - 1));
      cbm = std::min(cbm, lowest(s, fill[s]));
    }
    if (cbm > vbm) return std::array<int, 2>{fill[0], fill[1]};
  }
  return std::nullopt;
}

bool Save::is_insulator() const {
  if (occupations == "fixed") return true;
  // Integer fillings, the same number of filled bands at every k, and a gap between them in each spin channel. An
  // empty channel of a spin-polarised run (a half-metal's insulating partner, or a fully polarised insulator) has
  // no partly occupied band: it is gapped whatever its energies.
  bool filled = false;
  for (int sp = 0; sp < (lsda ? 2 : 1); ++sp) {
    const auto nocc = filled_bands(sp);
    if (!nocc || *nocc >= nbnd) return false;
    if (*nocc == 0) {
      if (lsda) continue;
      return false;
    }
    if (const auto e = band_edges(sp, *nocc); !(e.cbm > e.vbm)) return false;
    filled = true;
  }
  return filled;
}

Save::BandEdges Save::band_edges(int spin, int nocc) const {
  if (nocc <= 0 || nocc >= nbnd || spin < 0 || spin > (lsda ? 1 : 0))
    fail(fmt::format("band edges of spin {} with {} filled bands: out of range ({} bands)", spin, nocc, nbnd));
  BandEdges e{-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
              std::numeric_limits<double>::infinity()};
  for (Eigen::Index ik = 0; ik < eigenvalues.rows(); ++ik) {
    const double v = eigenvalues(ik, spin * nbnd + nocc - 1), c = eigenvalues(ik, spin * nbnd + nocc);
    e.vbm = std::max(e.vbm, v);
    e.cbm = std::min(e.cbm, c);
    e.direct = std::min(e.direct, c - v);
  }
  return e;
}

fs::path Save::wavefunction_file(int ik, int spin) const {
  if (ik < 0 || std::size_t(ik) >= nk()) fail(fmt::format("k-point index {} out of range 0..{}", ik, nk() - 1));
  if (!yambo_save.empty()) return yambo_save / fmt::format("ns.wf_fragments_{}_1", ik + 1 + spin * int(nk()));
  if (lsda) {
    if (spin != 0 && spin != 1) fail(fmt::format("spin index {} out of range 0..1", spin));
    return dir / fmt::format("{}{}.dat", spin == 0 ? "wfcup" : "wfcdw", ik + 1);
  }
  if (spin != 0) fail(fmt::format("spin index {} but the run is not spin-polarised", spin));
  return dir / fmt::format("wfc{}.dat", ik + 1);
}

Wavefunction Save::read_wavefunction(int ik, int spin) const {
  if (wavefunction_reader) return wavefunction_reader(ik, spin);
  const fs::path file = wavefunction_file(ik, spin);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    fs::path h5 = file;
    h5.replace_extension(".hdf5");
    if (fs::is_regular_file(h5, ec))
      fail_input(file, "does not exist, but " + h5.filename().string() +
                           " does: HDF5 wavefunctions (QE built with HDF5) are not supported yet");
    fail_input(file, "wavefunction file does not exist (pw.x run with wf_collect=.false. or files removed?)");
  }
  const auto size = fs::file_size(file, ec);
  if (ec) fail_input(file, "cannot read wavefunction file");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input(file, "cannot open wavefunction file");
  detail::WfcExpect ex;
  ex.ik = lsda ? -1 : ik;  // lsda files number k globally (spin down after spin up): checked by xk
  ex.k_cart = k_cart[std::size_t(ik)];
  ex.nbnd = nbnd;
  if (ik < (int)npw.size()) ex.npw = npw[std::size_t(ik)];
  ex.fft_grid = fft_grid;
  ex.ispin = lsda ? spin + 1 : 0;
  ex.gamma_only = gamma_only ? 1 : 0;
  ex.npol = noncolin ? 2 : 1;
  Wavefunction w = detail::parse_wfc(in, size, file, ex);
  w.ik = ik;
  return w;
}

// ======================================================================================================
// wfcN.dat

namespace {

class RecordReader {
public:
  RecordReader(std::istream& in, std::uint64_t size, const fs::path& origin) : in_(in), size_(size), origin_(origin) {}

  // Opens the next record; returns its payload length in bytes.
  std::uint64_t open(const char* what) {
    what_ = what;
    std::int32_t n = 0;
    if (pos_ + 4 > size_) bad(fmt::format("truncated before the {} record", what));
    raw(&n, 4);
    // A big-endian file (written on a big-endian machine, or with -fconvert=big-endian) shows as a marker that is
    // too large or negative, and a plausible length once its bytes are swapped (44 reads 738197504)
    const std::uint32_t u = std::uint32_t(n);
    const std::uint32_t swapped = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
    if ((n < 0 || pos_ + std::uint64_t(n) + 4 > size_) && pos_ + std::uint64_t(swapped) + 4 <= size_)
      bad(
          fmt::format("{} record's length marker reads {}, {} with its bytes swapped: a big-endian file? rung reads "
                      "little-endian ones only",
                      what, n, swapped));
    if (n < 0) bad(fmt::format("{} record has a negative length marker {} (not a Fortran unformatted file?)", what, n));
    len_ = std::uint64_t(n);
    if (pos_ + len_ + 4 > size_)
      bad(fmt::format("{} record of {} bytes runs past the end of the file (truncated?)", what, len_));
    return len_;
  }
  void expect_length(std::uint64_t want) {
    if (len_ != want)
      bad(fmt::format("{} record is {} bytes, its header implies {}", what_, len_, want));
  }
  void payload(void* dst, std::uint64_t n) { raw(dst, n); }
  void close() {
    std::int32_t n = 0;
    raw(&n, 4);
    if (n >= 0 && std::uint64_t(n) == len_) return;
    // 8-byte record markers (gfortran before 4.2, or -frecord-marker=8) read as 4-byte ones: the leading marker's
    // high half (0) began the payload, and the trailing marker (the length, then 0) starts 4 bytes further on
    std::int32_t next[2] = {-1, -1};
    if (remaining() >= 8) raw(next, 8);
    if (std::uint64_t(next[0]) == len_ && next[1] == 0)
      bad(
          fmt::format("{} record has 8-byte length markers: rung reads Fortran files with 4-byte ones (gfortran's "
                      "default) only",
                      what_));
    bad(fmt::format("{} record's trailing length marker {} differs from its leading one {}", what_, n, len_));
  }
  std::uint64_t remaining() const { return size_ - pos_; }
  [[noreturn]] void bad(const std::string& what) const { fail_input(origin_, what); }

private:
  void raw(void* dst, std::uint64_t n) {
    if (n == 0) return;
    if (pos_ + n > size_ || !in_.read(static_cast<char*>(dst), std::streamsize(n)))
      bad(fmt::format("unexpected end of file in the {} record", what_));
    pos_ += n;
  }
  std::istream& in_;
  std::uint64_t size_, pos_ = 0, len_ = 0;
  const fs::path& origin_;
  const char* what_ = "";
};

template <class T>
T take(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

Wavefunction detail::parse_wfc(std::istream& in, std::uint64_t size, const fs::path& origin, const WfcExpect& ex) {
  static_assert(sizeof(std::complex<double>) == 16);
  RecordReader r(in, size, origin);
  if (size == 0) r.bad("empty wavefunction file");
  Wavefunction w;

  // 1: ik, xk(3), ispin, gamma_only, scalef
  unsigned char h1[44];
  r.open("first header (ik, xk, ispin, gamma_only, scalef)");
  r.expect_length(44);
  r.payload(h1, 44);
  r.close();
  const int ik_file = take<std::int32_t>(h1);
  for (int i = 0; i < 3; ++i) w.k_cart[i] = take<double>(h1 + 4 + 8 * i);
  const int ispin = take<std::int32_t>(h1 + 28);
  const std::int32_t gamma = take<std::int32_t>(h1 + 32);
  const double scalef = take<double>(h1 + 36);
  if (ik_file < 1) r.bad(fmt::format("header k index {} is not positive", ik_file));
  if (!w.k_cart.allFinite()) r.bad("header k-point is not finite");
  if (ispin < 1 || ispin > 2) r.bad(fmt::format("header spin index {} is not 1 or 2", ispin));
  if (gamma != 0 && gamma != 1 && gamma != -1) r.bad(fmt::format("header gamma_only flag {} is not a logical", gamma));
  w.gamma_only = gamma != 0;
  if (!(std::isfinite(scalef) && scalef > 0)) r.bad("header scale factor is not positive");
  if (ex.ispin > 0 && ispin != ex.ispin)
    r.bad(fmt::format("header spin index {}, expected {} (a wfcup/wfcdw file in the other's place?)", ispin, ex.ispin));
  if (ex.gamma_only >= 0 && w.gamma_only != (ex.gamma_only == 1))
    r.bad(fmt::format("header gamma_only is {} but data-file-schema.xml says {}", w.gamma_only ? "true" : "false",
                      ex.gamma_only == 1 ? "true" : "false"));
  if (ex.ik >= 0 && ik_file != ex.ik + 1)
    r.bad(fmt::format("header says k-point {}, expected {}", ik_file, ex.ik + 1));
  if (ex.k_cart && (w.k_cart - *ex.k_cart).norm() > 1e-6 * std::max(1.0, ex.k_cart->norm()))
    r.bad(fmt::format("header k-point ({:.6f}, {:.6f}, {:.6f}) differs from data-file-schema.xml's", w.k_cart[0],
                      w.k_cart[1], w.k_cart[2]));

  // 2: ngw, igwx, npol, nbnd
  std::int32_t h2[4];
  r.open("second header (ngw, igwx, npol, nbnd)");
  r.expect_length(16);
  r.payload(h2, 16);
  r.close();
  const std::int64_t igwx = h2[1], npol = h2[2], nbnd = h2[3];
  if (igwx < 1) r.bad(fmt::format("header number of plane waves igwx={} is not positive", igwx));
  if (npol != 1 && npol != 2) r.bad(fmt::format("header npol={} is not 1 or 2", npol));
  if (nbnd < 1) r.bad(fmt::format("header nbnd={} is not positive", nbnd));
  if (ex.npol > 0 && npol != ex.npol)
    r.bad(fmt::format("header npol={} but data-file-schema.xml's run has {}", npol, ex.npol));
  if (ex.nbnd >= 0 && nbnd != ex.nbnd) r.bad(fmt::format("header nbnd={} but data-file-schema.xml has {}", nbnd, ex.nbnd));
  if (ex.npw >= 0 && igwx != ex.npw) r.bad(fmt::format("header igwx={} but data-file-schema.xml has npw={}", igwx, ex.npw));
  // Everything the header promises must fit in the file before anything is allocated.
  // (igwx, nbnd < 2^31: no overflow below; the division avoids the product nbnd * band_bytes.)
  const std::uint64_t band_bytes = std::uint64_t(16) * std::uint64_t(npol) * std::uint64_t(igwx);
  const std::uint64_t fixed = 80 + (12 * std::uint64_t(igwx) + 8);
  if (fixed > r.remaining() || std::uint64_t(nbnd) > (r.remaining() - fixed) / (band_bytes + 8))
    r.bad(fmt::format("file is {} bytes, too short for what its header promises (igwx={}, npol={}, nbnd={}): "
                      "truncated, or a record length disagrees with the header",
                      size, igwx, npol, nbnd));
  w.npol = int(npol);
  w.ngw = int(igwx);

  // 3: b1, b2, b3 (Bohr^-1)
  double b[9];
  r.open("reciprocal-vectors (b1, b2, b3)");
  r.expect_length(72);
  r.payload(b, 72);
  r.close();
  for (double v : b)
    if (!std::isfinite(v)) r.bad("reciprocal vectors are not finite");

  // 4: Miller indices, 3 x igwx int32 (column-major in Fortran = row-major ngw x 3 here)
  r.open("Miller-indices");
  r.expect_length(12 * std::uint64_t(igwx));
  w.miller.resize(Eigen::Index(igwx), 3);
  static_assert(sizeof(int) == 4);
  r.payload(w.miller.data(), 12 * std::uint64_t(igwx));
  r.close();
  for (int d = 0; d < 3; ++d) {
    const int lim = ex.fft_grid[d] > 0 ? ex.fft_grid[d] / 2 : 1 << 20;
    // signed bounds: |INT_MIN| is not representable, and a corrupted record can hold it
    for (Eigen::Index g = 0; g < w.miller.rows(); ++g)
      if (const int m = w.miller(g, d); m < -lim || m > lim)
        r.bad(fmt::format("Miller index {} outside the FFT grid (|m| <= {})", m, lim));
  }

  // 5..: one record per band, npol*igwx complex128
  w.coefficients.resize(Eigen::Index(npol * igwx), Eigen::Index(nbnd));
  for (std::int64_t j = 0; j < nbnd; ++j) {
    r.open("band coefficients");
    r.expect_length(band_bytes);
    r.payload(w.coefficients.col(Eigen::Index(j)).data(), band_bytes);
    r.close();
  }
  if (r.remaining() != 0) r.bad(fmt::format("{} unexpected bytes after the last band record", r.remaining()));
  if (!w.coefficients.allFinite()) r.bad("coefficients contain NaN or Inf");
  return w;
}

}  // namespace rung::qe
