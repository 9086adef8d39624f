// Bad input for the QE readers: every failure is a rung::Error of kind input (exit code 2) whose message
// names the offending file.
#include "core/error.hpp"
#include "io/qe/detail.hpp"
#include "io/qe/save.hpp"
#include "io/qe_test_util.hpp"
#include "io/qe/upf.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

using namespace rung;
namespace fs = std::filesystem;
using rung::test::qe::copy_save;
using rung::test::qe::slurp;
using rung::test::qe::spit;
using rung::test::qe::TempDir;

namespace {

// Runs f, requires an input error whose message contains `file` and (if given) `what`.
void require_input_error(const std::function<void()>& f, const fs::path& file, const std::string& what = "") {
  try {
    f();
    FAIL("no error for " << file);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
    if (!what.empty()) CHECK(std::string(e.what()).find(what) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);  // one line
  }
}

fs::path tiny_save() { return rung::test::qe_save("si_tiny", "si"); }

#define REQUIRE_TINY() RUNG_REQUIRE_FIXTURE("si_tiny")

}  // namespace

TEST_CASE("QE bad input: missing path, empty folder, folder with two saves", "[reference][qe][readers][bad-input]") {
  TempDir t;
  require_input_error([&] { qe::Save::read(t.path / "nope"); }, t.path / "nope", "does not exist");
  require_input_error([&] { qe::Save::read(t.path); }, t.path, "not a QE prefix.save folder");
  REQUIRE_TINY();
  copy_save(tiny_save(), t.path / "a");
  copy_save(tiny_save(), t.path / "b");
  fs::rename(t.path / "b" / "si.save", t.path / "a" / "other.save");
  require_input_error([&] { qe::Save::read(t.path / "a"); }, t.path / "a", "2 QE save folders");
}

TEST_CASE("QE bad input: truncated, corrupted, empty XML and XML without band structure",
          "[reference][qe][readers][bad-input]") {
  REQUIRE_TINY();
  TempDir t;
  const fs::path save = copy_save(tiny_save(), t.path);
  const fs::path xml = save / "data-file-schema.xml";
  const std::string good = slurp(xml);
  REQUIRE_NOTHROW(qe::Save::read(save));

  for (double frac : {0.0, 0.1, 0.5, 0.9, 0.999}) {
    INFO("truncated at " << frac);
    spit(xml, good.substr(0, std::size_t(frac * double(good.size()))));
    require_input_error([&] { qe::Save::read(save); }, xml);
  }
  auto replace = [&](const std::string& from, const std::string& to) {  // last occurrence: the <output> one
    std::string s = good;
    const auto p = s.rfind(from);
    REQUIRE(p != std::string::npos);
    s.replace(p, from.size(), to);
    spit(xml, s);
  };
  replace("<nbnd>8</nbnd>", "<nbnd>eight</nbnd>");
  require_input_error([&] { qe::Save::read(save); }, xml, "nbnd");
  replace("<nbnd>8</nbnd>", "<nbnd>9</nbnd>");
  require_input_error([&] { qe::Save::read(save); }, xml, "eigenvalues");
  replace("<nks>8</nks>", "<nks>7</nks>");
  require_input_error([&] { qe::Save::read(save); }, xml, "nks");
  replace("<a1>", "<a0>");
  require_input_error([&] { qe::Save::read(save); }, xml);
  // more electrons than 8 bands hold (16): a corrupt file, refused before anything fills occupations from it
  replace("<nelec>8.000000000000000e0</nelec>", "<nelec>40</nelec>");
  require_input_error([&] { qe::Save::read(save); }, xml, "exceeds what its 8 bands hold");
  // a k-point without its weight, a k-point without its occupations: refused, not read as zeros
  replace("<k_point weight=\"1.875000000000e-1\">", "<k_point>");
  require_input_error([&] { qe::Save::read(save); }, xml, "no weight");
  // the XML without an element, from `open` to its `close` tag (the last one, or the first)
  auto without = [&](const std::string& open, const std::string& close, bool last) {
    std::string s = good;
    const auto b = last ? s.rfind(open) : s.find(open), e = last ? s.rfind(close) : s.find(close);
    REQUIRE(b != std::string::npos);
    REQUIRE(e != std::string::npos);
    s.erase(b, e + close.size() - b);
    spit(xml, s);
  };
  without("<occupations size=\"8\">", "</occupations>", true);
  require_input_error([&] { qe::Save::read(save); }, xml, "occupations");
  without("<band_structure>", "</band_structure>", false);
  require_input_error([&] { qe::Save::read(save); }, xml, "band_structure");
  {  // an <npw> beyond int: refused with its value, not clamped
    std::string s = good;
    const auto b = s.rfind("<npw>");
    REQUIRE(b != std::string::npos);
    const auto e = s.find("</npw>", b);
    REQUIRE(e != std::string::npos);
    s.replace(b + 5, e - b - 5, "3000000000");
    spit(xml, s);
    require_input_error([&] { qe::Save::read(save); }, xml, "npw = 3000000000");
  }
  spit(xml, "<?xml version=\"1.0\"?><html></html>");
  require_input_error([&] { qe::Save::read(save); }, xml, "not a QE");
  fs::remove(xml);
  require_input_error([&] { qe::Save::read(save); }, save, "not a QE prefix.save");
}

TEST_CASE("QE bad input: a symmetry operation combined with time reversal is refused",
          "[reference][qe][readers][bad-input]") {
  REQUIRE_TINY();
  TempDir t;
  const fs::path save = copy_save(tiny_save(), t.path);
  const fs::path xml = save / "data-file-schema.xml";
  const std::string good = slurp(xml);
  // Noncollinear runs write <info name=".." time_reversal="false|true">crystal_symmetry</info>; the
  // true_at-th crystal symmetry is marked "true" (none for 0), every other one "false".
  const std::string tag = ">crystal_symmetry</info>";
  const auto marked = [&](int true_at) {
    std::string s;
    std::size_t from = 0;
    int n = 0;
    while (true) {
      const auto p = good.find(tag, from);
      if (p == std::string::npos) break;
      s += good.substr(from, p - from);
      s += ++n == true_at ? " time_reversal=\"true\"" : " time_reversal=\"false\"";
      s += tag;
      from = p + tag.size();
    }
    REQUIRE(n >= 2);
    return s + good.substr(from);
  };
  spit(xml, marked(0));
  REQUIRE_NOTHROW(qe::Save::read(save));
  spit(xml, marked(2));
  require_input_error([&] { qe::Save::read(save); }, xml,
                      "symmetry operation 2 is combined with time reversal (a noncollinear magnetic run)");
}

TEST_CASE("QE bad input: wavefunction files", "[reference][qe][readers][bad-input]") {
  REQUIRE_TINY();
  TempDir t;
  const fs::path save = copy_save(tiny_save(), t.path);
  const auto s = qe::Save::read(save);
  const fs::path wfc = save / "wfc2.dat";
  const std::string good = slurp(wfc);
  REQUIRE_NOTHROW(s.read_wavefunction(1));

  fs::remove(wfc);
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "does not exist");

  for (std::size_t cut : {std::size_t(0), std::size_t(3), std::size_t(30), std::size_t(60), std::size_t(100),
                          good.size() / 2, good.size() - 1}) {
    INFO("truncated to " << cut);
    spit(wfc, good.substr(0, cut));
    require_input_error([&] { s.read_wavefunction(1); }, wfc);
  }
  auto patch_int = [&](std::size_t offset, std::int32_t v) {
    std::string b = good;
    std::memcpy(b.data() + offset, &v, 4);
    spit(wfc, b);
  };
  // Record 2 payload starts at 52 + 4: ngw, igwx, npol, nbnd.
  std::int32_t igwx = 0;
  std::memcpy(&igwx, good.data() + 60, 4);
  patch_int(60, igwx + 1);  // header igwx disagrees with the Miller/coefficient record lengths
  require_input_error([&] { s.read_wavefunction(1); }, wfc);
  patch_int(60, igwx - 1);
  require_input_error([&] { s.read_wavefunction(1); }, wfc);
  patch_int(64, 3);  // npol
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "npol");
  patch_int(64, 2);  // npol 2 (spinors) in a run that data-file-schema.xml says is not noncollinear
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "npol=2 but");
  patch_int(36, 1);  // gamma_only true (half-sphere coefficients) where the XML says false
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "gamma_only");
  patch_int(68, 1 << 30);  // nbnd: must not try to allocate
  require_input_error([&] { s.read_wavefunction(1); }, wfc);
  patch_int(0, 40);  // first record marker
  require_input_error([&] { s.read_wavefunction(1); }, wfc);
  patch_int(48, 45);  // trailing marker of the first record
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "marker");
  patch_int(4, 3);  // ik: the header says k-point 3 in wfc2.dat
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "k-point");
  spit(wfc, good + "junk");
  require_input_error([&] { s.read_wavefunction(1); }, wfc, "unexpected bytes");
  // A wfc file of another k-point under this name.
  spit(wfc, slurp(save / "wfc3.dat"));
  require_input_error([&] { s.read_wavefunction(1); }, wfc);
  spit(wfc, good);
  CHECK_NOTHROW(s.read_wavefunction(1));

  // lsda: wfcup1.dat copied over wfcdw1.dat has the same k-point (lsda files number k globally, so only the header's
  // spin index tells them apart)
  const auto fe = rung::test::qe_save("fe_bcc_888", "fe");
  RUNG_REQUIRE_FIXTURE("fe_bcc_888");
  TempDir tf;
  const fs::path fe_copy = copy_save(fe, tf.path);
  const auto sf = qe::Save::read(fe_copy);
  REQUIRE_NOTHROW(sf.read_wavefunction(0, 1));
  fs::copy_file(fe_copy / "wfcup1.dat", fe_copy / "wfcdw1.dat", fs::copy_options::overwrite_existing);
  require_input_error([&] { sf.read_wavefunction(0, 1); }, fe_copy / "wfcdw1.dat", "spin index 1, expected 2");
}

TEST_CASE("QE bad input: pseudopotentials", "[reference][qe][readers][bad-input][upf]") {
  REQUIRE_TINY();
  TempDir t;
  const fs::path save = copy_save(tiny_save(), t.path);
  const fs::path upf = save / "Si.pz-vbc.UPF";
  const std::string good = slurp(upf);
  spit(upf, good.substr(0, 200));
  require_input_error([&] { qe::Save::read(save); }, upf);
  spit(upf, "");
  require_input_error([&] { qe::Save::read(save); }, upf, "empty");
  spit(upf, "this is not a pseudopotential\n");
  require_input_error([&] { qe::Save::read(save); }, upf, "not a UPF");
  // Missing from the save folder and from pseudo_dir.
  fs::remove(upf);
  std::string xml = slurp(save / "data-file-schema.xml");
  for (std::size_t p = 0; (p = xml.find("pseudo_dir", p)) != std::string::npos; p += 10) xml.replace(p, 10, "pseudo_dXr");
  spit(save / "data-file-schema.xml", xml);
  require_input_error([&] { qe::Save::read(save); }, upf, "not found");
}

TEST_CASE("UPF: truncated and corrupted files", "[reference][qe][readers][bad-input][upf]") {
  const fs::path v2 = "/usr/share/espresso/pseudo/Si.pz-vbc.UPF";
  RUNG_SKIP_UNLESS(rung::test::have(v2), "needs Debian's quantum-espresso pseudopotentials");
  TempDir t;
  const std::string good = slurp(v2);
  const fs::path f = t.path / "x.UPF";
  for (double frac : {0.01, 0.2, 0.5, 0.7, 0.95}) {
    INFO("truncated at " << frac);
    spit(f, good.substr(0, std::size_t(frac * double(good.size()))));
    require_input_error([&] { upf::Pseudopotential::read(f); }, f);
  }
  std::string bad = good;
  bad.replace(bad.find("<PP_DIJ>") + 9, 3, "x.x");
  spit(f, bad);
  require_input_error([&] { upf::Pseudopotential::read(f); }, f, "PP_DIJ");
  bad = good;
  bad.replace(bad.find("number_of_proj=\"2\""), 18, "number_of_proj=\"3\"");
  spit(f, bad);
  require_input_error([&] { upf::Pseudopotential::read(f); }, f, "PP_BETA.3");
  require_input_error([&] { upf::Pseudopotential::read(t.path / "none.UPF"); }, t.path / "none.UPF", "does not exist");
}

TEST_CASE("QE wfc parser: random garbage never crashes and always names the file", "[unit][qe][readers][bad-input]") {
  std::mt19937 rng(7);
  int threw = 0, headed = 0, headed_threw = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string buf(std::size_t(rng() % 400), '\0');
    for (auto& ch : buf) ch = char(rng());
    const bool header = buf.size() >= 4 && trial % 2 == 0;
    if (header) {
      const std::int32_t n = 44;
      std::memcpy(buf.data(), &n, 4);
    }
    headed += header ? 1 : 0;
    std::istringstream in(buf);
    try {
      qe::detail::parse_wfc(in, buf.size(), "garbage.dat", {});
    } catch (const Error& e) {
      ++threw;
      headed_threw += header ? 1 : 0;
      CHECK(e.kind() == ErrorKind::input);
      CHECK(std::string(e.what()).rfind("garbage.dat: ", 0) == 0);
    }
  }
  // none of them is a wfc file, so every one is refused, those that start with a valid record marker (149 of
  // this seed's) too: a parse that returned would have accepted garbage
  CHECK(headed == 149);
  CHECK(headed_threw == headed);
  CHECK(threw == 300);
}

TEST_CASE("QE save pointing to ultrasoft / PAW pseudopotentials: the kind is detected",
          "[reference][qe][readers][upf]") {
  REQUIRE_TINY();
  const fs::path dir = "/usr/share/espresso/pseudo";
  RUNG_SKIP_UNLESS(rung::test::have(dir / "Si.pbe-nl-rrkjus_psl.1.0.0.UPF"), "needs Debian's quantum-espresso pseudopotentials");
  TempDir t;
  const fs::path save = copy_save(tiny_save(), t.path);
  const std::string xml = slurp(save / "data-file-schema.xml");
  struct K {
    const char* file;
    qe::PseudoKind kind;
  };
  for (const K& k : {K{"Si.pbe-nl-rrkjus_psl.1.0.0.UPF", qe::PseudoKind::ultrasoft}, K{"Si.pbe-rrkj.UPF", qe::PseudoKind::norm_conserving},
                     K{"Ge.pbe-kjpaw.UPF", qe::PseudoKind::paw}}) {
    INFO(k.file);
    std::string x = xml;
    for (std::size_t p = 0; (p = x.find("Si.pz-vbc.UPF", p)) != std::string::npos;) x.replace(p, 13, k.file);
    // pseudo_dir of the fixture is Debian's folder already; make sure of it.
    REQUIRE(x.find("pseudo_dir=\"/usr/share/espresso/pseudo") != std::string::npos);
    spit(save / "data-file-schema.xml", x);
    const auto s = qe::Save::read(save);
    CHECK(s.species.at(0).kind == k.kind);
    CHECK(s.species.at(0).pseudo_path == dir / k.file);
  }
}

namespace {
// A synthetic wfc file: Fortran records with 4-byte markers.
struct WfcWriter {
  std::string buf;
  template <class T>
  void put(const T& v) { buf.append(reinterpret_cast<const char*>(&v), sizeof(T)); }
  void record(const std::string& payload) {
    const std::int32_t n = std::int32_t(payload.size());
    put(n);
    buf += payload;
    put(n);
  }
};
template <class... T>
std::string pack(const T&... v) {
  std::string s;
  (s.append(reinterpret_cast<const char*>(&v), sizeof(T)), ...);
  return s;
}
}  // namespace

TEST_CASE("QE wfc parser: noncollinear spinors and Gamma-only files", "[reference][qe][readers]") {
  const int igwx = 3, nbnd = 2;
  for (int npol : {1, 2}) {
    INFO("npol " << npol);
    WfcWriter w;
    w.record(pack(std::int32_t(5), 0.1, 0.2, 0.3, std::int32_t(1), std::int32_t(npol == 1 ? 1 : 0), 1.0));
    w.record(pack(std::int32_t(igwx), std::int32_t(igwx), std::int32_t(npol), std::int32_t(nbnd)));
    std::string b;
    for (int i = 0; i < 9; ++i) b += pack(double(i == 0 || i == 4 || i == 8));
    w.record(b);
    w.record(pack(0, 0, 0, 1, 0, 0, -1, 0, 0));
    for (int j = 0; j < nbnd; ++j) {
      std::string c;
      for (int i = 0; i < npol * igwx; ++i) c += pack(std::complex<double>(i == j ? 1.0 : 0.0, 0.5 * j));
      w.record(c);
    }
    std::istringstream in(w.buf);
    qe::detail::WfcExpect ex;
    ex.ik = 4;
    ex.nbnd = nbnd;
    ex.npw = igwx;
    ex.k_cart = Eigen::Vector3d(0.1, 0.2, 0.3);
    ex.fft_grid = {4, 4, 4};
    const auto wf = qe::detail::parse_wfc(in, w.buf.size(), "synthetic.dat", ex);
    CHECK(wf.npol == npol);
    CHECK(wf.gamma_only == (npol == 1));
    CHECK(wf.ngw == igwx);
    CHECK(wf.coefficients.rows() == npol * igwx);
    CHECK(wf.coefficients.cols() == nbnd);
    CHECK(wf.coefficients(1, 1) == std::complex<double>(1.0, 0.5));
    CHECK(wf.coefficients(npol * igwx - 1, 1) == std::complex<double>(0.0, 0.5));
    CHECK(wf.miller(2, 0) == -1);
    CHECK(wf.miller(1, 0) == 1);
    // The same file against a smaller FFT grid: the Miller index check fires.
    std::istringstream in2(w.buf);
    ex.fft_grid = {1, 1, 1};
    require_input_error([&] { qe::detail::parse_wfc(in2, w.buf.size(), "synthetic.dat", ex); }, "synthetic.dat", "FFT grid");
    // A corrupted Miller index of INT_MIN (whose absolute value does not exist in int) is caught too
    std::string bad = w.buf;
    const std::string miller = pack(0, 0, 0, 1, 0, 0, -1, 0, 0);
    const auto at = bad.find(miller);
    REQUIRE(at != std::string::npos);
    bad.replace(at, miller.size(), pack(0, 0, 0, 1, 0, 0, std::numeric_limits<int>::min(), 0, 0));
    std::istringstream in3(bad);
    ex.fft_grid = {4, 4, 4};
    require_input_error([&] { qe::detail::parse_wfc(in3, bad.size(), "synthetic.dat", ex); }, "synthetic.dat",
                        "Miller index -2147483648");
  }
}

TEST_CASE("QE wfc parser: a big-endian file and one with 8-byte record markers are told apart from a damaged one",
          "[unit][qe][readers][bad-input]") {
  const std::string header = pack(std::int32_t(1), 0.0, 0.0, 0.0, std::int32_t(1), std::int32_t(0), 1.0);
  const std::string rest = pack(std::int32_t(3), std::int32_t(3), std::int32_t(1), std::int32_t(2));
  REQUIRE(header.size() == 44);
  auto swapped = [](std::int32_t v) {
    std::string s = pack(v);
    std::reverse(s.begin(), s.end());
    return s;
  };
  // Big-endian (only the markers are swapped here: the payload is never reached): the first marker, 44, reads
  // 738197504, which used to be reported as a truncated file.
  std::string big = swapped(44) + header + swapped(44) + swapped(16) + rest + swapped(16);
  std::istringstream in_big(big);
  require_input_error([&] { qe::detail::parse_wfc(in_big, big.size(), "big.dat", {}); }, "big.dat", "big-endian");
  // 8-byte markers: read with 4-byte ones, the first record ends in a mismatched marker (which was all it said).
  const std::string eight =
      pack(std::int64_t(44)) + header + pack(std::int64_t(44)) + pack(std::int64_t(16)) + rest + pack(std::int64_t(16));
  std::istringstream in_eight(eight);
  require_input_error([&] { qe::detail::parse_wfc(in_eight, eight.size(), "eight.dat", {}); }, "eight.dat",
                      "8-byte length markers");
}

TEST_CASE("QE lsda runs name their wavefunction files wfcup/wfcdw", "[unit][qe][readers]") {
  qe::Save s;
  s.dir = "/x/si.save";
  s.k_cart.assign(3, Eigen::Vector3d::Zero());
  CHECK(s.wavefunction_file(2) == fs::path("/x/si.save/wfc3.dat"));
  s.lsda = true;
  CHECK(s.wavefunction_file(0, 0) == fs::path("/x/si.save/wfcup1.dat"));
  CHECK(s.wavefunction_file(2, 1) == fs::path("/x/si.save/wfcdw3.dat"));
  CHECK_THROWS_AS(s.wavefunction_file(3, 0), Error);
}
