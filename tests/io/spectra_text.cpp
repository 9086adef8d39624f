// Every text spectrum in ../shared/reference: YAMBO o-files of 5.0/5.1 (yambo-tests REFERENCE) and
// 5.2.4, the paper workflow's 5.2.0 epsilon file, QE epsilon.x and turbo_spectrum.x outputs. The
// expected numbers are read off the files by eye (first/last rows, peaks, header lines).
#include "core/optical_constants.hpp"
#include "io/spectra/file.hpp"
#include "io/spectra/text.hpp"
#include "io/yambo_test_support.hpp"

#include <algorithm>

using namespace rung;
using namespace rung::test;

namespace {

std::pair<double, double> peak_of_imag(const Spectrum& s) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s.eps[i].imag() > s.eps[best].imag()) best = i;
  return {s.energy_eV[best], s.eps[best].imag()};
}

}  // namespace

TEST_CASE("YAMBO 5.2.4 IP eps file: header and values", "[reference][spectra][yambo]") {
  const auto f = yambo524() / "Si" / "yambo_sp" / "o-ip_x.eps_q1_ip";
  RUNG_REQUIRE_SHARED(f);
  const auto out = read_yambo_output(f);
  const auto& h = out.header;
  CHECK(h.version == "5.2.4");
  CHECK(h.revision == "22806");
  CHECK(h.build == "Serial+HDF5_IO Build");
  CHECK(h.observable == "eps");
  CHECK(h.q_index == 1);
  CHECK(h.q_is_direction);
  REQUIRE(h.q);
  CHECK((*h.q)[0] == Approx(1.0));
  CHECK((*h.q)[1] == Approx(0.0));
  REQUIRE(h.hartree_size);
  CHECK(*h.hartree_size == 1);
  CHECK(h.green_function == "T-ordered");
  CHECK(h.ordering == 'T');
  REQUIRE(h.vnl_included);
  CHECK(*h.vnl_included);
  CHECK(h.gauge == "Length");
  CHECK(h.gf_energies == "Slater exchange(X)+Perdew & Zunger(C)");
  CHECK(h.column_titles == std::vector<std::string>{"E[1] [eV]", "Im(eps)", "Re(eps)"});
  CHECK(h.has_footer);
  CHECK(h.input.at("ETStpsXd") == "2001");
  CHECK(h.input.at("Chimod") == "\"IP\"");
  CHECK(out.rows() == 2001);
  const auto s = yambo_output_spectrum(f, out);
  CHECK_FALSE(s.eps_nolf);
  CHECK(s.energy_eV.front() == 0.0);
  CHECK(s.energy_eV.back() == Approx(20.0));
  CHECK(s.eps.front() == std::complex<double>(13.61925, 0.986837));  // the file's first row: Re eps(0) = 13.62
  CHECK(s.eps.back() == std::complex<double>(0.314485, 0.087944));
  const auto [e_peak, im_peak] = peak_of_imag(s);  // the file's largest Im eps: 30.7 at 3.70 eV
  CHECK(e_peak == Approx(3.70));
  CHECK(im_peak == Approx(30.72547));
  CHECK(s.metadata.at("ordering") == "T");
  CHECK(s.metadata.at("theory") == "ipa");
}

TEST_CASE("YAMBO 5.2.4 RPA eps file: block size 27, eps and eps_o", "[reference][spectra][yambo]") {
  const auto f = yambo524() / "Si" / "yambo_sp" / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson";
  RUNG_REQUIRE_SHARED(f);
  const auto out = read_yambo_output(f);
  REQUIRE(out.header.hartree_size);
  CHECK(*out.header.hartree_size == 27);
  CHECK(out.header.column_titles.size() == 5);
  CHECK(out.header.input.at("NGsBlkXd") == "27               RL");
  const auto s = read_yambo_spectrum(f);
  REQUIRE(s.eps_nolf);
  CHECK(s.size() == 2001);
  CHECK(s.eps[0] == std::complex<double>(12.55917, 0.869705));  // the file's first row: 12.56 with LF (27 G)
  CHECK((*s.eps_nolf)[0] == std::complex<double>(13.61925, 0.986837));
  CHECK(s.eps[2] == std::complex<double>(12.55950, 0.869811));
  CHECK(s.eps.back() == std::complex<double>(0.297381, 0.161957));
  CHECK((*s.eps_nolf).back() == std::complex<double>(0.314485, 0.087944));
  CHECK(s.metadata.at("hartree_size") == "27");
  CHECK(s.metadata.at("theory") == "rpa");
  // The eel file of the same run: -1/eps.
  const auto eel = read_yambo_output(yambo524() / "Si" / "yambo_sp" / "o-rpa_ng27_x.eel_q1_inv_rpa_dyson");
  CHECK(eel.header.observable == "eel");
  CHECK(eel.columns.size() == 5);
  // compared with the eps file, the loss function is refused (the same columns, another quantity); eel with eel is
  // a comparison like any other
  const auto eel_file = yambo524() / "Si" / "yambo_sp" / "o-rpa_ng27_x.eel_q1_inv_rpa_dyson";
  CHECK_THROWS_WITH(compare_spectrum_files(f, eel_file, "", "im"), Catch::Contains("compare like with like"));
  CHECK(compare_spectrum_files(eel_file, eel_file, "", "im").distance.sc == Approx(1.0));
}

TEST_CASE("YAMBO 5.2.4 without [r,Vnl] and along (111)", "[reference][spectra][yambo]") {
  const auto f = yambo524() / "Si" / "yambo_sp_noVnl" / "o-ip_x.eps_q1_ip";
  RUNG_REQUIRE_SHARED(f);
  const auto h = read_yambo_output(f).header;
  REQUIRE(h.vnl_included);
  CHECK_FALSE(*h.vnl_included);
  CHECK(read_yambo_spectrum(f).eps[0].real() == Approx(15.91).margin(0.005));  // the file's first row: 15.91122
  const auto h111 = read_yambo_output(yambo524() / "Si" / "yambo_sp" / "o-ip_111.eel_q1_ip").header;
  CHECK(h111.observable == "eel");
  REQUIRE(h111.q);
  for (double c : *h111.q) CHECK(c == Approx(0.577350259));
}

TEST_CASE("yambo-tests REFERENCE (YAMBO 5.0 / 5.1): older header and number format", "[reference][spectra][yambo]") {
  const auto dir = shared_reference() / "yambo-tests" / "Si_bulk-GW-OPTICS" / "REFERENCE";
  RUNG_REQUIRE_SHARED(dir);
  const auto ip = read_yambo_output(dir / "o-05_IP-RPA_len_dir_G.eps_q1_ip");
  CHECK(ip.header.version == "5.0.0");
  CHECK(ip.header.revision == "19547");
  CHECK_FALSE(ip.header.hartree_size);  // 5.0 does not print it
  CHECK(ip.header.ordering == 'T');
  REQUIRE(ip.header.vnl_included);
  CHECK(*ip.header.vnl_included);
  CHECK(ip.header.fields.at("RL vectors in the sum") == "411");
  CHECK(ip.header.column_titles == std::vector<std::string>{"E/ev[1]", "EPS-Im[2]", "EPS-Re[3]"});
  CHECK(ip.rows() == 500);
  const auto s = yambo_output_spectrum(dir / "o-05_IP-RPA_len_dir_G.eps_q1_ip", ip);
  CHECK(s.eps[0] == std::complex<double>(14.3501968, 0.350875765));  // the file's first row: 14.35 + 0.35i
  CHECK(s.energy_eV[1] == Approx(0.0150300609));                     // "0.150300609E-1"
  CHECK(s.energy_eV.back() == Approx(7.50000048));

  const auto rpa = read_yambo_spectrum(dir / "o-06_RPA_len_dir_G.eps_q1_inv_rpa_dyson");
  CHECK(rpa.size() == 251);
  CHECK(rpa.eps[0] == std::complex<double>(13.2529421, 0.311037749));  // the file's first row: 13.25 + 0.31i
  REQUIRE(rpa.eps_nolf);
  CHECK((*rpa.eps_nolf)[0] == std::complex<double>(14.3356543, 0.350808293));
  CHECK(rpa.eps.back() == std::complex<double>(-3.89884281, 2.42848492));
  const auto rpa_h = read_yambo_output(dir / "o-06_RPA_len_dir_G.eps_q1_inv_rpa_dyson").header;
  CHECK(rpa_h.input.at("NGsBlkXd") == "27               RL");

  // 5.1 file at finite q: the q vector is printed in iku, not as a direction.
  const auto q2 = read_yambo_output(dir / "o-06_IP-RPA_len_dir_G.eps_q2_ip");
  CHECK(q2.header.version == "5.1.0");
  CHECK(q2.header.q_index == 2);
  CHECK_FALSE(q2.header.q_is_direction);
  REQUIRE(q2.header.q);
  CHECK((*q2.header.q)[0] == Approx(0.25));
  CHECK((*q2.header.q)[1] == Approx(-0.25));
  CHECK(q2.columns[2][0] == Approx(8.46811581));
}

TEST_CASE("paper workflow epsilon_2_1500_4000 (YAMBO 5.2.0 RPA, 153 G, z)", "[reference][spectra][yambo]") {
  const auto f = shared_reference() / "paper-workflow" / "epsilon_2_1500_4000";
  RUNG_REQUIRE_SHARED(f);
  const auto out = read_yambo_output(f);
  CHECK(out.header.version == "5.2.0");
  REQUIRE(out.header.hartree_size);
  CHECK(*out.header.hartree_size == 153);
  REQUIRE(out.header.q);
  CHECK((*out.header.q)[2] == Approx(1.0));
  const auto s = read_any_spectrum(f);
  CHECK(s.metadata.at("format") == "yambo");
  CHECK(s.size() == 2001);
  CHECK(s.energy_eV[1] == Approx(0.01));
  CHECK(s.eps[0] == std::complex<double>(6.733174, 0.372201));
  CHECK((*s.eps_nolf)[0] == std::complex<double>(8.049658, 0.518966));
  CHECK(s.energy_eV.back() == Approx(20.0));
  CHECK(s.eps.back() == std::complex<double>(0.798999, 0.258892));
}

TEST_CASE("QE epsilon.x epsr/epsi pair: either file finds the other", "[reference][spectra][qe]") {
  const auto epsi = shared_reference() / "qe-si" / "epsi_si.dat";
  RUNG_REQUIRE_SHARED(epsi);
  CHECK(qe_epsilon_partner(epsi).filename() == "epsr_si.dat");
  const auto x = read_qe_epsilon(epsi, "x");
  CHECK(x.size() == 2001);
  CHECK(x.eps[0] == std::complex<double>(17.373054472, 0.0));  // epsr_si.dat's first row: eps1(0) = 17.37
  CHECK(x.eps[1] == std::complex<double>(17.373181949, 0.003856996));
  CHECK(x.eps.back() == std::complex<double>(0.136967138, 0.062840385));
  const auto z = read_any_spectrum(shared_reference() / "qe-si" / "epsr_si.dat", "z");
  CHECK(z.eps[0].real() == Approx(17.373040261));
  const auto tr = read_any_spectrum(epsi);
  CHECK(tr.metadata.at("component") == "trace");
  CHECK(tr.eps[0].real() == Approx((17.373054472 + 17.373070810 + 17.373040261) / 3));
  const auto [e_peak, im_peak] = peak_of_imag(x);
  CHECK(e_peak == Approx(3.58));
  CHECK(im_peak == Approx(62.538098604));
  CHECK_THROWS_AS(read_qe_epsilon(epsi, "w"), rung::Error);
}

TEST_CASE("QE turbo_spectrum.x plot_eps", "[reference][spectra][qe]") {
  const auto f = shared_reference() / "qe-si" / "si.plot_eps.dat";
  RUNG_REQUIRE_SHARED(f);
  const auto s = read_any_spectrum(f);
  CHECK(s.metadata.at("format") == "qe-turbo-plot-eps");
  CHECK(s.size() == 2000);
  CHECK(s.eps[0].real() == Approx(13.0022373864803));  // the file's first row (Re eps column): eps(0) = 13.00
  CHECK(s.eps[0].imag() == Approx(-0.242323828442703e-12).margin(1e-15));
  CHECK(s.energy_eV.back() == Approx(19.99));
  CHECK(s.eps.back() == std::complex<double>(0.286937850935057, 0.133017415261732));
  const auto [e_peak, im_peak] = peak_of_imag(s);
  CHECK(e_peak == Approx(3.92));
  CHECK(im_peak == Approx(32.0479065610494));
}

TEST_CASE("every spectrum file in ../shared/reference parses", "[reference][spectra]") {
  RUNG_REQUIRE_SHARED(shared_reference());
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(shared_reference())) {
    const auto name = e.path().filename().string();
    if (!e.is_regular_file()) continue;
    if (name.rfind("o-", 0) == 0 || name.rfind("epsilon_", 0) == 0 || name.rfind("epsr_", 0) == 0 ||
        name.rfind("epsi_", 0) == 0 || name.find("plot_eps") != std::string::npos)
      files.push_back(e.path());
  }
  CHECK(files.size() >= 58);  // 54 YAMBO o-files, the paper file, epsr, epsi, plot_eps
  for (const auto& f : files) {
    INFO(f);
    const auto s = read_any_spectrum(f);
    CHECK(s.size() >= 251);
    CHECK(s.energy_eV.front() >= -1e-9);
  }
}

TEST_CASE("YAMBO-layout text writer: round trip and header", "[unit][spectra][writer]") {
  ScratchDir dir("spectra-writer");
  Spectrum s;
  for (int i = 0; i <= 100; ++i) {
    const double e = 0.2 * i;
    s.energy_eV.push_back(e);
    s.eps.emplace_back(10.0 - e * 0.3, 1.0 / (1.0 + (e - 4) * (e - 4)));
  }
  s.eps_nolf = s.eps;
  for (auto& z : *s.eps_nolf) z *= 1.1;
  TextSpectrumHeader h;
  h.title = "rung rpa (local fields), x";
  h.q_direction = std::array<double, 3>{0, 0, 1};
  h.component = "z";
  h.hartree_size = 27;
  h.fields["Broadening [eV]"] = "0.3";
  h.provenance_json = R"({"command": "rung rpa", "inputs": ["si.save"]})";
  write_yambo_text(dir / "o-rung.eps_q1_inv_rpa_dyson", s, h);
  const auto out = read_yambo_output(dir / "o-rung.eps_q1_inv_rpa_dyson");
  CHECK(out.header.version.rfind("rung", 0) == 0);
  REQUIRE(out.header.hartree_size);
  CHECK(*out.header.hartree_size == 27);
  CHECK((*out.header.q)[2] == 1.0);
  CHECK(out.header.fields.at("provenance").find("rung rpa") != std::string::npos);
  // E, Im/Re eps, Im/Re eps_o, then the optical constants of eps named in the title line
  REQUIRE(out.columns.size() == 10);
  CHECK(out.header.column_titles ==
        std::vector<std::string>{"E[1] [eV]", "Im(eps)", "Re(eps)", "Im(eps_o)", "Re(eps_o)", "n", "k", "R",
                                 "alpha[cm^-1]", "-Im(1/eps)"});
  const auto oc = optical_constants(s.energy_eV, s.eps);
  for (std::size_t i = 0; i < s.size(); ++i) {
    CHECK(out.columns[5][i] == Approx(oc.n[i]).epsilon(1e-7));  // 8 significant digits
    CHECK(out.columns[6][i] == Approx(oc.k[i]).epsilon(1e-7));
    CHECK(out.columns[7][i] == Approx(oc.reflectivity[i]).epsilon(1e-7));
    CHECK(out.columns[8][i] == Approx(oc.absorption_cm[i]).epsilon(1e-7));
    CHECK(out.columns[9][i] == Approx(oc.loss[i]).epsilon(1e-7));
  }
  const auto back = read_any_spectrum(dir / "o-rung.eps_q1_inv_rpa_dyson");
  REQUIRE(back.size() == s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    CHECK(back.eps[i].real() == Approx(s.eps[i].real()).epsilon(1e-7));  // 8 significant digits
    CHECK(back.eps[i].imag() == Approx(s.eps[i].imag()).epsilon(1e-7));
    CHECK((*back.eps_nolf)[i].real() == Approx((*s.eps_nolf)[i].real()).epsilon(1e-7));
  }
  CHECK(back.metadata.at("component") == "z");  // rung's own files name their component
  // IP files have three columns.
  Spectrum ip = s;
  ip.eps_nolf.reset();
  write_yambo_text(dir / "o-rung.eps_q1_ip", ip, {});
  CHECK(read_yambo_output(dir / "o-rung.eps_q1_ip").columns.size() == 3 + 5);
  CHECK_FALSE(read_any_spectrum(dir / "o-rung.eps_q1_ip").eps_nolf);
  // Invalid data is refused before anything is written.
  ip.eps[5] = {std::nan(""), 0};
  CHECK_THROWS_AS(write_yambo_text(dir / "o-bad.eps_q1_ip", ip, {}), rung::Error);
  CHECK_FALSE(std::filesystem::exists(dir / "o-bad.eps_q1_ip"));
}

// The loss function against YAMBO's own: its o-*.eel_* files hold eel = -1/eps of the same run as the
// o-*.eps_* file beside them (Im(eel) = -Im(1/eps), also for eps_o), so rung's loss of YAMBO's eps must
// reproduce Im(eel) column for column. Tolerance: the printed digits, propagated. YAMBO prints 6 decimals
// below 1 and 7 significant digits above, so each printed x is off by at most d(x) = 5e-7 max(1, |x|);
// L = e2/(e1^2 + e2^2) then moves by at most |dL/de1| d(e1) + |dL/de2| d(e2), plus d(L) of the eel column
// itself (first order; x1.5 for the neglected second-order terms). Near the plasmon, where |eps| is small,
// this is what lets the loss differ by ~1e-5 while elsewhere it must agree to ~1e-6.
TEST_CASE("loss function against YAMBO 5.2.4's eel files", "[reference][spectra][yambo][optical]") {
  const auto dir = yambo524();
  RUNG_REQUIRE_SHARED(dir / "Si" / "yambo_sp" / "o-rpa_ng27_x.eel_q1_inv_rpa_dyson");
  std::size_t pairs = 0;
  for (const char* sys : {"Si", "Si_gamma8x8x8", "Al"}) {
    const auto sp = dir / sys / "yambo_sp";
    if (!std::filesystem::exists(sp)) continue;
    for (const auto& e : std::filesystem::directory_iterator(sp)) {
      const std::string name = e.path().filename().string();
      const auto at = name.find(".eel_");
      if (name.rfind("o-", 0) != 0 || at == std::string::npos) continue;
      const auto eps_file = sp / (name.substr(0, at) + ".eps_" + name.substr(at + 5));
      if (!std::filesystem::exists(eps_file)) continue;
      INFO(e.path());
      const auto eel = read_yambo_output(e.path());
      const auto eps = read_yambo_output(eps_file);
      REQUIRE(eel.columns.size() == eps.columns.size());
      REQUIRE(eel.rows() == eps.rows());
      // column pairs (Im, Re) of eps and of eps_o when present
      for (std::size_t col = 1; col + 1 < eps.columns.size(); col += 2) {
        std::vector<std::complex<double>> z;
        for (std::size_t i = 0; i < eps.rows(); ++i) z.emplace_back(eps.columns[col + 1][i], eps.columns[col][i]);
        const auto oc = optical_constants(eps.columns[0], z);
        double worst = 0;
        const auto d = [](double x) { return 5e-7 * std::max(1.0, std::abs(x)); };
        for (std::size_t i = 0; i < eps.rows(); ++i) {
          const double want = eel.columns[col][i];
          const double e1 = z[i].real(), e2 = z[i].imag(), m2 = e1 * e1 + e2 * e2;
          const double dl_de1 = std::abs(2 * e1 * e2) / (m2 * m2), dl_de2 = std::abs(e1 * e1 - e2 * e2) / (m2 * m2);
          const double tol = 1.5 * (dl_de1 * d(e1) + dl_de2 * d(e2) + d(want));
          worst = std::max(worst, std::abs(oc.loss[i] - want) - tol);
        }
        CHECK(worst <= 0);
      }
      ++pairs;
    }
  }
  CHECK(pairs >= 17);  // every eps/eel pair of the shared 5.2.4 Si, Si 8x8x8 and Al runs
}

TEST_CASE("turbo plot_eps: the energy unit comes from the title (Ry converted, nm refused)", "[unit][spectra][qe]") {
  ScratchDir dir("turbo-units");
  // turbo_eels.x with units = 0 writes "\hbar \omega(Ry)" and the energies in Ry (lr_eels_main.f90).
  const std::string rows =
      "        0.00000000      0.769098E-01 -0.143337E-14  0.130022E+02 -0.242324E-12\n"
      "        0.10000000      0.769094E-01  0.295787E-04  0.130023E+02  0.500058E-02\n"
      "        0.20000000      0.769080E-01  0.591700E-04  0.130026E+02  0.100020E-01\n";
  const std::string title = "     Re(1/eps)     -Im(1/eps)      Re(eps)      Im(eps) \n";
  spit(dir / "ry.plot_eps.dat", "#  \\hbar \\omega(Ry)" + title + rows);
  const auto ry = read_any_spectrum(dir / "ry.plot_eps.dat");
  REQUIRE(ry.size() == 3);
  CHECK(ry.energy_eV[0] == 0.0);
  CHECK(ry.energy_eV[1] == Approx(1.3605693122994).epsilon(1e-12));
  CHECK(ry.energy_eV[2] == Approx(2.7211386245988).epsilon(1e-12));
  CHECK(ry.eps[1] == std::complex<double>(13.0023, 0.500058e-2));
  // The same rows under an eV title are read as they are.
  spit(dir / "ev.plot_eps.dat", "#  \\hbar \\omega(eV)" + title + rows);
  const auto ev = read_turbo_plot_eps(dir / "ev.plot_eps.dat");
  CHECK(ev.energy_eV[1] == 0.1);
  CHECK(ev.energy_eV[2] == 0.2);
  // Wavelengths, and a file without a title naming the unit, are refused (naming the file).
  spit(dir / "nm.plot_eps.dat", "#  \\hbar \\omega(nm)" + title + rows);
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "nm.plot_eps.dat"), "nm.plot_eps.dat");
  spit(dir / "bare.plot_eps.dat", rows);
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "bare.plot_eps.dat"), "bare.plot_eps.dat");
}

TEST_CASE("epsilon.x partner names need the epsr_ / epsi_ prefix", "[unit][spectra][qe]") {
  CHECK(qe_epsilon_partner("d/epsr_si.dat") == std::filesystem::path("d/epsi_si.dat"));
  CHECK(qe_epsilon_partner("d/epsi_si.dat") == std::filesystem::path("d/epsr_si.dat"));
  CHECK(qe_epsilon_partner("d/epsilon_2_1500_4000").empty());  // the paper workflow's YAMBO files
  CHECK(qe_epsilon_partner("d/epsr.dat").empty());
  CHECK(qe_epsilon_partner("d/epsisi.dat").empty());
}
