#include "core/error.hpp"
#include "io/hdf5_file.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <hdf5.h>

using namespace rung;

TEST_CASE("HDF5 round trip of datasets, complex values and attributes", "[unit][hdf5]") {
  auto p = std::filesystem::temp_directory_path() / "rung_h5_test.h5";
  {
    auto f = h5::File::create(p);
    f.write("a/b/x", std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, true);
    f.write("c", std::vector<std::complex<double>>{{1, 2}, {3, -4}});
    f.write("n", std::vector<std::int64_t>{7, 8});
    f.write_strings("names", {"Si", "GaAs"});
    f.set_attr("/", "version", std::string("0.1.0"));
    f.set_attr("a/b/x", "eta_eV", 0.3);
    f.set_attr("/", "count", std::int64_t(42));
  }
  auto f = h5::File::open(p);
  h5::Dims d;
  auto x = f.read_double("a/b/x", &d);
  CHECK(d == h5::Dims{2, 3});
  CHECK(x[5] == 6);
  auto c = f.read_complex("c");
  CHECK(c[1] == std::complex<double>(3, -4));
  CHECK(f.read_int("n")[1] == 8);
  CHECK(f.read_float("a/b/x")[0] == 1.0f);
  CHECK(f.read_strings("names")[1] == "GaAs");
  CHECK(f.attr_string("/", "version") == "0.1.0");
  CHECK(f.attr_double("a/b/x", "eta_eV") == 0.3);
  CHECK(f.attr_int("/", "count") == 42);
  CHECK(f.exists("a/b"));
  CHECK_FALSE(f.exists("a/zz/q"));
  CHECK_THROWS_AS(f.read_double("missing"), Error);
  std::filesystem::remove(p);
}

TEST_CASE("HDF5: a non-HDF5 or missing file is an input error naming it", "[unit][hdf5]") {
  auto p = std::filesystem::temp_directory_path() / "rung_not_h5.h5";
  std::ofstream(p) << "hello";
  try {
    h5::File::open(p);
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK(std::string(e.what()).find(p.string()) == 0);
  }
  std::filesystem::remove(p);
  CHECK_THROWS_AS(h5::File::open(p), Error);
}

TEST_CASE("HDF5: a dataset that declares more than its file can hold is refused before any allocation",
          "[unit][hdf5]") {
  // 2^36 doubles (512 GiB) declared in a file of a few kB: chunked, nothing written, so HDF5 would hand back fill
  // values for all of them
  const auto p = std::filesystem::temp_directory_path() / "rung_huge_declared.h5";
  {
    const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[1] = {hsize_t(1) << 36}, chunk[1] = {1024};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    const hid_t ds = H5Dcreate2(f, "energy_eV", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
  }
  REQUIRE(std::filesystem::file_size(p) < 100000);
  auto f = h5::File::open(p);
  try {
    f.read_double("energy_eV");
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::input);
    CHECK_THAT(e.what(), Catch::Contains(p.string()) && Catch::Contains("energy_eV") && Catch::Contains("declares"));
  }
  std::filesystem::remove(p);
}

TEST_CASE("HDF5: a group whose member list cannot be read is an input error naming the file", "[unit][hdf5]") {
  // A group of 20 soft links in HDF5's default (symbol table) layout, as rung's writers make them: its names live in
  // a local heap ("HEAP") indexed by a B-tree ("TREE"), the second of each in the file (the root group has the
  // first). Without the B-tree H5Gget_info fails, without the heap H5Lget_name_by_idx; list() took their garbage for
  // a count and a name length (a length of -1 threw std::length_error, which does not name the file).
  // (Dense storage, HDF5 1.8+ format, cannot stand in: HDF5 1.10.8 crashes when its fractal heap is unreadable.)
  const auto p = std::filesystem::temp_directory_path() / "rung_bad_group.h5";
  for (const std::string signature : {"TREE", "HEAP"}) {
    INFO(signature);
    {
      const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      const hid_t g = H5Gcreate2(f, "materials", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      REQUIRE(g >= 0);
      for (char c = 'a'; c < 'a' + 20; ++c)
        REQUIRE(H5Lcreate_soft("/x", g, std::string(1, c).c_str(), H5P_DEFAULT, H5P_DEFAULT) >= 0);
      H5Gclose(g);
      H5Fclose(f);
    }
    REQUIRE(h5::File::open(p).list("materials").size() == 20);
    std::string bytes;
    {
      std::ifstream in(p, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto first = bytes.find(signature), at = bytes.rfind(signature);
    REQUIRE(first != std::string::npos);
    REQUIRE(at > first);
    REQUIRE(bytes.find(signature, first + 1) == at);
    bytes.replace(at, 4, "XXXX");
    std::ofstream(p, std::ios::binary) << bytes;
    const auto f = h5::File::open(p);
    try {
      f.list("materials");
      FAIL("no throw");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::input);
      CHECK_THAT(e.what(), Catch::Contains(p.string()) && Catch::Contains("'materials'"));
    }
  }
  std::filesystem::remove(p);
}
