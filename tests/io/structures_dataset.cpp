// The OPTIMATE data set file (DATA.h5): write/read round trip and validation of bad files.
#include "core/error.hpp"
#include "io/hdf5_file.hpp"
#include "io/structure_dataset.hpp"
#include "support/paths.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace rung;
namespace fs = std::filesystem;

namespace {

OptimateDataset small_dataset() {
  OptimateDataset d;
  for (int k = 0; k < 3; ++k) {
    DatasetMaterial m;
    m.id = "mat" + std::to_string(k);
    m.structure.lattice = Eigen::Matrix3d::Identity() * (7.0 + k);
    m.structure.frac = {{0, 0, 0}, {0.5, 0.5, 0.5}};
    m.structure.numbers = {11, 17};
    m.eps_imag_ipa.assign(2001, 0.0f);
    for (int i = 0; i < 2001; ++i) m.eps_imag_ipa[i] = float(std::exp(-0.01 * (i - 500 - 100 * k) * 0.01 * (i - 500 - 100 * k)));
    if (k != 1) m.eps_imag_rpa = m.eps_imag_ipa;  // material 1: no RPA spectrum yet
    if (k != 1) m.sc_ipa_rpa = 1.0;
    m.gap_eV = 2.5 + k;
    m.provenance = R"({"synthetic": true})";
    d.materials.push_back(m);
  }
  return d;
}

}  // namespace

TEST_CASE("dataset: write/read round trip keeps structures, spectra and optional fields", "[dataset]") {
  const fs::path p = fs::temp_directory_path() / "rung_test_dataset.h5";
  const auto d = small_dataset();
  write_optimate_dataset(p, d);
  const auto r = read_optimate_dataset(p);
  REQUIRE(r.materials.size() == 3);
  CHECK(r.grid.size() == 2001);
  CHECK(r.grid.emax_eV == Approx(20.0));
  for (std::size_t k = 0; k < 3; ++k) {
    const auto& a = d.materials[k];
    const auto& b = r.materials[k];
    CHECK(a.id == b.id);
    CHECK((a.structure.lattice - b.structure.lattice).norm() < 1e-12);
    CHECK(a.structure.numbers == b.structure.numbers);
    CHECK(a.eps_imag_ipa == b.eps_imag_ipa);
    CHECK(a.eps_imag_rpa == b.eps_imag_rpa);
    CHECK(a.sc_ipa_rpa.has_value() == b.sc_ipa_rpa.has_value());
    CHECK(*b.gap_eV == Approx(*a.gap_eV));
    CHECK(b.provenance == a.provenance);
  }
  CHECK(file_fingerprint(p).rfind("fnv1a64:", 0) == 0);
  CHECK(file_fingerprint(p) == file_fingerprint(p));
}

TEST_CASE("dataset: inconsistent data are refused", "[dataset][errors]") {
  const fs::path p = fs::temp_directory_path() / "rung_test_dataset_bad.h5";
  auto d = small_dataset();
  d.materials[0].eps_imag_ipa.resize(100);
  CHECK_THROWS_AS(write_optimate_dataset(p, d), Error);
  d = small_dataset();
  d.materials[2].id = d.materials[0].id;
  CHECK_THROWS_AS(write_optimate_dataset(p, d), Error);
  // Not a data set: a plain HDF5 file.
  {
    auto f = h5::File::create(p);
    f.write("/x", std::vector<double>{1.0});
  }
  try {
    read_optimate_dataset(p);
    FAIL("read a file that is no data set");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("not a rung OPTIMATE data set"));
  }
}
