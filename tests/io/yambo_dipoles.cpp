// Dipole databases: fragments (real 5.2.4 runs), the single-array layout (written here from the
// same real numbers, since no build in ../shared wrote it), and the legacy 4.x ndb.dip_iR_and_P.
#include "io/yambo/db1.hpp"
#include "io/yambo/dipoles.hpp"
#include "io/yambo_test_support.hpp"

#include "core/units.hpp"

#include <cmath>
#include <netcdf.h>

using namespace rung;
using rung::test::si_gamma_dipoles;
using rung::test::si_gamma_save;

namespace {

// max over entries of |iR·(E_v − E_c) − X| / max|X| for X = DIP_v (or DIP_P), doc/yambo-reader.md.
double relation_error(const yambo::Dipoles& d, const yambo::Db1& db, yambo::DipoleKind x) {
  double worst = 0, scale = 0;
  for (int ik = 0; ik < d.nk; ++ik)
    for (int v = d.v_first; v <= d.v_last; ++v)
      for (int c = d.c_first; c <= d.c_last; ++c) {
        const double de = db.energy(0, ik, v) - db.energy(0, ik, c);
        if (std::abs(de) <= units::eV_to_Ha(1e-5)) continue;  // YAMBO sets iR = 0 there
        for (int i = 0; i < 3; ++i) {
          const auto X = d.at(x, 0, ik, v, c, i);
          worst = std::max(worst, std::abs(d.at(yambo::DipoleKind::iR, 0, ik, v, c, i) * de - X));
          scale = std::max(scale, std::abs(X));
        }
      }
  return worst / scale;
}

void check(int rc) { REQUIRE(rc == NC_NOERR); }

// Writes `d` as the parallel-IO single-variable ndb.dipoles (doc/yambo-reader.md) with YAMBO's header variables.
void write_single_layout(const std::filesystem::path& file, const yambo::Dipoles& d, int nk_bz) {
  int nc = 0;
  check(nc_create(file.c_str(), NC_NETCDF4 | NC_CLOBBER, &nc));
  int d4, d11, d2, dsp, dk, dv, dc, d3, dri;
  check(nc_def_dim(nc, "D_0000000004", 4, &d4));
  check(nc_def_dim(nc, "D_0000000011", 11, &d11));
  check(nc_def_dim(nc, "D_0000000002", 2, &d2));
  check(nc_def_dim(nc, "D_sp", std::size_t(d.n_sp_pol), &dsp));
  check(nc_def_dim(nc, "D_k", std::size_t(d.nk), &dk));
  check(nc_def_dim(nc, "D_v", std::size_t(d.nv()), &dv));
  check(nc_def_dim(nc, "D_c", std::size_t(d.nc()), &dc));
  check(nc_def_dim(nc, "D_0000000003", 3, &d3));
  dri = d2;
  int v_latt, v_pars, v_spin, vars[3];
  check(nc_def_var(nc, "HEAD_R_LATT", NC_FLOAT, 1, &d4, &v_latt));
  check(nc_def_var(nc, "PARS", NC_FLOAT, 1, &d11, &v_pars));
  check(nc_def_var(nc, "SPIN_VARS", NC_FLOAT, 1, &d2, &v_spin));
  const int dims[6] = {dsp, dk, dv, dc, d3, dri};
  const char* names[3] = {"DIP_iR", "DIP_P", "DIP_v"};
  for (int i = 0; i < 3; ++i) check(nc_def_var(nc, names[i], NC_FLOAT, 6, dims, &vars[i]));
  check(nc_enddef(nc));
  const float latt[4] = {float(d.nk), float(nk_bz), float(d.nk), float(nk_bz)};
  const float pars[11] = {float(d.v_first + 1), float(d.c_last + 1), float(d.v_last + 1), float(d.c_first + 1),
                          -0.03674933f, -0.03674933f, float(d.rl_vectors), d.vnl_included ? 1.f : 0.f, 1, 0, 0};
  const float spin[2] = {float(d.n_sp_pol), 1};
  check(nc_put_var_float(nc, v_latt, latt));
  check(nc_put_var_float(nc, v_pars, pars));
  check(nc_put_var_float(nc, v_spin, spin));
  const std::vector<std::complex<double>>* src[3] = {&d.iR, &d.P, &d.vel};
  for (int i = 0; i < 3; ++i) {
    std::vector<float> raw;
    for (const auto& z : *src[i]) {
      raw.push_back(float(z.real()));
      raw.push_back(float(z.imag()));
    }
    check(nc_put_var_float(nc, vars[i], raw.data()));
  }
  check(nc_close(nc));
}

}  // namespace

TEST_CASE("ndb.dipoles fragments of the YAMBO 5.2.4 Si run", "[reference][yambo][dipoles]") {
  RUNG_REQUIRE_SHARED(si_gamma_dipoles());
  const auto d = yambo::read_dipoles(si_gamma_dipoles());
  CHECK(d.layout == "fragments");
  CHECK(d.nk == 29);
  CHECK(d.n_sp_pol == 1);
  CHECK(d.v_first == 0);   // PARS = 1, 16, 4, 5: bands 1..16, top valence 4, first conduction 5
  CHECK(d.v_last == 3);
  CHECK(d.c_first == 4);
  CHECK(d.c_last == 15);
  CHECK(d.vnl_included);
  CHECK(d.rl_vectors == 645);
  CHECK(d.approach == "G-space v");
  CHECK(d.kinds == "R V P");
  REQUIRE(d.has(yambo::DipoleKind::iR));
  REQUIRE(d.has(yambo::DipoleKind::P));
  REQUIRE(d.has(yambo::DipoleKind::v));
  CHECK(d.iR.size() == std::size_t(29 * 4 * 12 * 3));
}

TEST_CASE("DIP_iR = DIP_v / (E_v - E_c) on the real Si databases, and DIP_v differs from DIP_P",
          "[reference][yambo][dipoles]") {
  RUNG_REQUIRE_SHARED(si_gamma_dipoles());
  const auto db = yambo::read_db1(si_gamma_save());
  const auto d = yambo::read_dipoles(rung::test::yambo524() / "Si_gamma8x8x8" / "yambo_sp" / "ip_x" / "ndb.dipoles");
  // Single-precision storage of iR, v and E: measured 6.8e-8 relative to max|DIP_v|; 1e-5 is float
  // rounding with margin.
  const double err_v = relation_error(d, db, yambo::DipoleKind::v);
  INFO("relative error of iR(E_v-E_c) vs DIP_v: " << err_v);
  CHECK(err_v < 1e-5);
  // With [r,Vnl] included the velocity is not the bare momentum: using P instead is visibly wrong.
  const double err_p = relation_error(d, db, yambo::DipoleKind::P);
  INFO("relative error of iR(E_v-E_c) vs DIP_P: " << err_p);  // measured 0.0995
  CHECK(err_p > 1e-2);
}

TEST_CASE("single-array ndb.dipoles layout reads the same numbers as the fragments", "[reference][yambo][dipoles]") {
  RUNG_REQUIRE_SHARED(si_gamma_dipoles());
  const auto frag = yambo::read_dipoles(si_gamma_dipoles());
  rung::test::ScratchDir dir("dipoles-single");
  write_single_layout(dir / "ndb.dipoles", frag, 512);
  const auto single = yambo::read_dipoles(dir.path());
  CHECK(single.layout == "single");
  CHECK(single.nk == frag.nk);
  CHECK(single.v_first == frag.v_first);
  CHECK(single.c_first == frag.c_first);
  CHECK(single.c_last == frag.c_last);
  REQUIRE(single.vel.size() == frag.vel.size());
  // Index order [isp][ik][iv][ic][xyz]: the same entry through at() in both layouts (stored as float).
  for (int ik : {0, 13, 28})
    for (int i = 0; i < 3; ++i) {
      CHECK(std::abs(single.at(yambo::DipoleKind::iR, 0, ik, 2, 9, i) - frag.at(yambo::DipoleKind::iR, 0, ik, 2, 9, i)) <
            1e-6 * (1 + std::abs(frag.at(yambo::DipoleKind::iR, 0, ik, 2, 9, i))));
      CHECK(std::abs(single.at(yambo::DipoleKind::v, 0, ik, 3, 4, i) - frag.at(yambo::DipoleKind::v, 0, ik, 3, 4, i)) <
            1e-6 * (1 + std::abs(frag.at(yambo::DipoleKind::v, 0, ik, 3, 4, i))));
    }
}

TEST_CASE("legacy ndb.dip_iR_and_P fragments (yambopy, YAMBO 4.x)", "[reference][yambo][dipoles][legacy]") {
  RUNG_REQUIRE_SHARED(rung::test::yambopy_save());
  const auto d = yambo::read_dipoles(rung::test::yambopy_save());
  CHECK(d.layout == "legacy");
  CHECK(d.nk == 19);
  CHECK(d.v_first == 0);
  CHECK(d.v_last == 3);
  CHECK(d.c_first == 4);
  CHECK(d.c_last == 59);
  CHECK(d.has(yambo::DipoleKind::iR));
  CHECK(d.has(yambo::DipoleKind::P));
  CHECK_FALSE(d.has(yambo::DipoleKind::v));  // 4.x databases store iR and P only
  const auto db = yambo::read_db1(rung::test::yambopy_save());
  REQUIRE(db.nk == d.nk);
  double sum = 0;
  for (int ik = 0; ik < d.nk; ++ik) sum += std::abs(d.at(yambo::DipoleKind::iR, 0, ik, 3, 4, 0));
  CHECK(sum > 0);
  // In this 4.x database DIP_P holds the velocity the position dipoles were made from:
  // iR·(E_v − E_c) = DIP_P to float precision (measured 7.5e-8 relative).
  const double err_p = relation_error(d, db, yambo::DipoleKind::P);
  INFO("legacy relative error of iR(E_v-E_c) vs DIP_P: " << err_p);
  CHECK(err_p < 1e-5);
}
