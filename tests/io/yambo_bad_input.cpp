// Bad input to the YAMBO and spectrum readers: every case must be rung::Error of kind input whose
// message names the file (never a crash, never silently wrong data).
#include "io/spectra/file.hpp"
#include "io/spectra/text.hpp"
#include "io/yambo/db1.hpp"
#include "io/yambo/dipoles.hpp"
#include "io/yambo/netcdf.hpp"
#include "io/yambo_test_support.hpp"
#include "io/yambo/wf.hpp"

#include <filesystem>
#include <fstream>
#include <netcdf.h>
#include <vector>

using namespace rung;
using namespace rung::test;

namespace fs = std::filesystem;

TEST_CASE("bad YAMBO databases: missing file, missing variable, not netCDF, truncated", "[reference][yambo][bad]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  ScratchDir dir("yambo-bad");
  // Missing file and a SAVE without ns.db1.
  RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "ns.db1"), dir / "ns.db1");
  // A real netCDF database of another kind: DIMENSIONS is missing.
  fs::copy_file(si_gamma_save() / "ns.wf", dir / "ns.db1");
  RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir.path()), "ns.db1");
  try {
    yambo::read_db1(dir.path());
  } catch (const Error& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("DIMENSIONS"));
  }
  // A text file is not netCDF.
  spit(dir / "text.db1", "netcdf ns {\n dimensions: D = 1 ;\n}\n");
  RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "text.db1"), "text.db1");
  // Truncated netCDF-4/HDF5 database (half of it) and truncated classic 64-bit-offset database.
  const auto full = fs::file_size(si_gamma_save() / "ns.db1");
  for (double frac : {0.5, 0.9, 0.02}) {
    copy_truncated(si_gamma_save() / "ns.db1", dir / "cut.db1", std::size_t(double(full) * frac));
    RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "cut.db1"), "cut.db1");
  }
  // (../shared is here, checked above: yambopy's classic-format SAVE must be too)
  RUNG_REQUIRE_SHARED(yambopy_save() / "ns.db1");
  {
    const auto n = fs::file_size(yambopy_save() / "ns.db1");
    copy_truncated(yambopy_save() / "ns.db1", dir / "cut_classic.db1", n / 2);
    RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "cut_classic.db1"), "cut_classic.db1");
  }
  // A classic header declaring a 4 GB dimension name (found by fuzz_netcdf: netCDF-C would try to
  // allocate it before noticing): refused by rung's header check, without the allocation.
  {
    std::string bytes = slurp(yambopy_save() / "ns.db1");
    REQUIRE(bytes.compare(0, 4, std::string("CDF\x02", 4)) == 0);
    bytes.replace(16, 4, std::string("\xef\xff\xff\xff", 4));  // length of the first dimension's name
    spit(dir / "huge_name.db1", bytes);
    RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "huge_name.db1"), "huge_name.db1");
    try {
      yambo::read_db1(dir / "huge_name.db1");
    } catch (const Error& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("classic netCDF header"));
    }
  }
  spit(dir / "empty.db1", "");
  RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir / "empty.db1"), "empty.db1");
}

TEST_CASE("a YAMBO SAVE with magnetic symmetries (mag_syms set) is refused naming ns.db1", "[reference][yambo][bad]") {
  RUNG_REQUIRE_SHARED(si_gamma_save());
  ScratchDir dir("yambo-mag-syms");
  const auto db1 = dir / "ns.db1";
  fs::copy_file(si_gamma_save() / "ns.db1", db1);
  fs::permissions(db1, fs::perms::owner_write, fs::perm_options::add);
  REQUIRE_NOTHROW(yambo::read_db1(dir.path()));  // the reference: mag_syms = 0
  {
    int nc = -1, var = -1;
    REQUIRE(nc_open(db1.c_str(), NC_WRITE, &nc) == NC_NOERR);
    REQUIRE(nc_inq_varid(nc, "mag_syms", &var) == NC_NOERR);
    const float set = 1;
    REQUIRE(nc_put_var_float(nc, var, &set) == NC_NOERR);
    REQUIRE(nc_close(nc) == NC_NOERR);
  }
  RUNG_CHECK_INPUT_ERROR(yambo::read_db1(dir.path()), db1);
  CHECK_THROWS_WITH(yambo::read_db1(dir.path()), Catch::Contains("mag_syms") && Catch::Contains("time reversal"));
}

TEST_CASE("bad YAMBO wavefunctions and dipoles: truncated or missing fragments", "[reference][yambo][bad]") {
  RUNG_REQUIRE_SHARED(si_gamma_dipoles());
  ScratchDir dir("yambo-bad-frag");
  for (const auto& e : fs::directory_iterator(si_gamma_dipoles())) fs::copy_file(e.path(), dir / e.path().filename().string());
  REQUIRE_NOTHROW(yambo::read_dipoles(dir.path()));
  const auto frag7 = dir / "ndb.dipoles_fragment_7";
  copy_truncated(si_gamma_dipoles() / "ndb.dipoles_fragment_7", frag7, fs::file_size(frag7) / 2);
  RUNG_CHECK_INPUT_ERROR(yambo::read_dipoles(dir.path()), frag7);
  fs::remove(frag7);
  RUNG_CHECK_INPUT_ERROR(yambo::read_dipoles(dir.path()), frag7);
  // A classic (CDF-2) fragment cut inside its second variable: netCDF-C would read the missing bytes as zeros, so
  // the header check compares every variable's extent with the file (yambopy's fragment_1: DIP_iR at bytes
  // 256-5632, DIP_P at 5632-11008; cut at 6000, DIP_P would come back mostly zero without an error).
  RUNG_REQUIRE_SHARED(yambopy_save() / "ndb.dip_iR_and_P_fragment_1");  // (../shared is here, checked above)
  {
    ScratchDir legacy("yambo-bad-classic-frag");
    for (const auto& e : fs::directory_iterator(yambopy_save()))
      if (e.path().filename().string().rfind("ndb.dip_iR_and_P", 0) == 0)
        fs::copy_file(e.path(), legacy / e.path().filename().string());
    REQUIRE_NOTHROW(yambo::read_dipoles(legacy.path()));
    const auto f1 = legacy / "ndb.dip_iR_and_P_fragment_1";
    REQUIRE(fs::file_size(f1) == 11008);
    copy_truncated(yambopy_save() / "ndb.dip_iR_and_P_fragment_1", f1, 6000);
    RUNG_CHECK_INPUT_ERROR(yambo::read_dipoles(legacy.path()), f1);
  }
  // A main file that is not a dipole database.
  fs::copy_file(si_gamma_save() / "ns.wf", dir / "ndb.dipoles", fs::copy_options::overwrite_existing);
  RUNG_CHECK_INPUT_ERROR(yambo::read_dipoles(dir.path()), "ndb.dipoles");

  ScratchDir save("yambo-bad-wf");
  for (const char* f : {"ns.db1", "ns.wf", "ns.wf_fragments_1_1"}) fs::copy_file(si_gamma_save() / f, save / f);
  const auto db = yambo::read_db1(save.path());
  const yambo::WfReader reader(save.path(), db);
  REQUIRE_NOTHROW(reader.read(0));
  RUNG_CHECK_INPUT_ERROR(reader.read(1), save / "ns.wf_fragments_2_1");  // missing fragment
  copy_truncated(si_gamma_save() / "ns.wf_fragments_1_1", save / "ns.wf_fragments_1_1",
                 fs::file_size(si_gamma_save() / "ns.wf_fragments_1_1") * 2 / 3);
  RUNG_CHECK_INPUT_ERROR(reader.read(0), save / "ns.wf_fragments_1_1");
}

TEST_CASE("bad spectrum text files: not a spectrum, NaN, YAMBO file cut in the middle", "[reference][spectra][bad]") {
  ScratchDir dir("spectra-bad");
  spit(dir / "notes.txt", "This is not a spectrum.\nJust words, 1 2 3.\n");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "notes.txt"), "notes.txt");
  spit(dir / "table.dat", "# E a b\n0 1 2\n1 2\n");
  RUNG_CHECK_INPUT_ERROR(read_numeric_columns(dir / "table.dat", 2), "table.dat");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "missing.h5"), "missing.h5");
  spit(dir / "empty_file", "");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "empty_file"), "empty_file");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir.path()), dir.path());
  // Binary junk that starts like HDF5 but is not.
  spit(dir / "fake.h5", std::string("\x89HDF\r\n\x1a\n", 8) + std::string(100, '\0'));
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "fake.h5"), "fake.h5");

  const auto yfile = yambo524() / "Si" / "yambo_sp" / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson";
  RUNG_REQUIRE_SHARED(yfile);
  const std::string text = slurp(yfile);
  // A NaN in a data column.
  {
    std::string t = text;
    const auto pos = t.find("12.55917");
    REQUIRE(pos != std::string::npos);
    t.replace(pos, 8, "     NaN");
    spit(dir / "o-nan.eps_q1_inv_rpa_dyson", t);
    RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "o-nan.eps_q1_inv_rpa_dyson"), "o-nan.eps_q1_inv_rpa_dyson");
  }
  // Cut in the middle of a line, and cut exactly at a line end (no footer: still detected).
  {
    const auto mid = text.size() / 2 + 7;
    spit(dir / "o-cut.eps_q1_inv_rpa_dyson", text.substr(0, mid));
    RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "o-cut.eps_q1_inv_rpa_dyson"), "o-cut.eps_q1_inv_rpa_dyson");
    const auto eol = text.find('\n', text.size() / 2) + 1;
    spit(dir / "o-cut2.eps_q1_inv_rpa_dyson", text.substr(0, eol));
    RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "o-cut2.eps_q1_inv_rpa_dyson"), "o-cut2.eps_q1_inv_rpa_dyson");
  }
  // Rows removed in the middle with the footer intact: the footer's ETStpsXd = 2001 catches it.
  {
    std::string t = text;
    const auto a = t.find("        1.000000 ");
    const auto b = t.find("        2.000000 ");
    REQUIRE(a != std::string::npos);
    REQUIRE(b != std::string::npos);
    t.erase(a, b - a);
    spit(dir / "o-gap.eps_q1_inv_rpa_dyson", t);
    RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "o-gap.eps_q1_inv_rpa_dyson"), "o-gap.eps_q1_inv_rpa_dyson");
  }
  // epsilon.x: an epsr file whose epsi partner is missing, and a NaN in the partner.
  const auto epsr = shared_reference() / "qe-si" / "epsr_si.dat";
  RUNG_REQUIRE_SHARED(epsr);
  fs::copy_file(epsr, dir / "epsr_x.dat");
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "epsr_x.dat"), "epsi_x.dat");
  std::string epsi = slurp(shared_reference() / "qe-si" / "epsi_si.dat");
  epsi.replace(epsi.find("0.007714425"), 11, "nan        ");
  spit(dir / "epsi_x.dat", epsi);
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "epsr_x.dat"), "epsi_x.dat");
  // turbo plot_eps with a truncated last line.
  const std::string turbo = slurp(shared_reference() / "qe-si" / "si.plot_eps.dat");
  spit(dir / "cut.plot_eps.dat", turbo.substr(0, turbo.size() - 30));
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "cut.plot_eps.dat"), "cut.plot_eps.dat");
  // ... cut inside its last number, so that the row keeps its five fields (0.133017415261732E+00 becomes 0.1330):
  // only the missing final newline shows it
  spit(dir / "cut5.plot_eps.dat", turbo.substr(0, turbo.size() - 19));
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "cut5.plot_eps.dat"), "cut5.plot_eps.dat");
  // epsilon.x: both files cut inside the last number of the same row (the row counts agree, every row has four
  // fields: 0.062831392 becomes 0.06)
  const std::string epsr_text = slurp(epsr), epsi_text = slurp(shared_reference() / "qe-si" / "epsi_si.dat");
  spit(dir / "epsr_cut.dat", epsr_text.substr(0, epsr_text.size() - 8));
  spit(dir / "epsi_cut.dat", epsi_text.substr(0, epsi_text.size() - 8));
  RUNG_CHECK_INPUT_ERROR(read_any_spectrum(dir / "epsr_cut.dat"), "eps");
}

TEST_CASE("a classic netCDF header over 4 MiB that declares more than its file holds is refused",
          "[unit][yambo][bad]") {
  // CDF-2: no dimensions, one global attribute of 0x7FFFFFFF doubles (16 GiB), in a file of 5 MiB. The header
  // check reads the first 4 MiB only; it used to let any count pass beyond them, and nc_open then allocated it all.
  std::string h = std::string("CDF") + char(2);
  const auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) h += char((v >> s) & 0xff);
  };
  be32(0);                     // numrecs
  be32(0), be32(0);            // dimensions: absent
  be32(0x0C), be32(1);         // global attributes: one
  be32(4), h += "name";        // its name
  be32(6), be32(0x7FFFFFFFu);  // NC_DOUBLE, that many values
  h.resize(5u << 20, '\0');
  const auto path = fs::temp_directory_path() / "rung_huge_attribute.nc";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(h.data(), std::streamsize(h.size()));
  }
  CHECK_THROWS_WITH(yambo::NcFile::open(path),
                    Catch::Contains(path.string()) && Catch::Contains("more than the file holds"));
  fs::remove(path);
}

TEST_CASE("a classic netCDF file over 4 MiB cut in its data section is refused", "[unit][yambo][bad]") {
  // One variable of 5 MiB in a CDF-1 file (as a large classic ns.wf_fragments or ns.db1), cut at 4.5 MiB: its
  // header lies in the 4 MiB the header check reads, so the check must still compare the variable's extent with
  // the file (it used to skip that for a file larger than what it read, and netCDF-C read the missing bytes as 0).
  ScratchDir dir("yambo-big-classic");
  const auto path = dir / "ns.wf_fragments_1_1";
  const std::size_t n = 640 * 1024;
  {
    int nc = -1, dim = -1, var = -1;
    REQUIRE(nc_create(path.c_str(), NC_CLOBBER, &nc) == NC_NOERR);
    REQUIRE(nc_def_dim(nc, "D_0000000001", n, &dim) == NC_NOERR);
    REQUIRE(nc_def_var(nc, "WF_COMPONENTS", NC_DOUBLE, 1, &dim, &var) == NC_NOERR);
    REQUIRE(nc_enddef(nc) == NC_NOERR);
    REQUIRE(nc_put_var_double(nc, var, std::vector<double>(n, 1.0).data()) == NC_NOERR);
    REQUIRE(nc_close(nc) == NC_NOERR);
  }
  REQUIRE(fs::file_size(path) > (5u << 20));
  CHECK(yambo::NcFile::open(path).read_double("WF_COMPONENTS").back() == 1.0);
  fs::resize_file(path, 9u << 19);
  CHECK_THROWS_WITH(yambo::NcFile::open(path), Catch::Contains(path.string()) && Catch::Contains("cut short"));
}
