// libFuzzer target: YAMBO's netCDF readers (ns.db1 + what `rung info` derives from it, ndb.dipoles in
// the single/fragment layouts, legacy ndb.dip_iR_and_P) and, on the same bytes, the text spectrum
// sniffer. The input is written to files in a per-process scratch directory because netCDF-C reads
// files. Bad input must end in rung::Error, nothing else (no crash, leak, UB or huge allocation).
#include "core/error.hpp"
#include "io/spectra/file.hpp"
#include "io/yambo/db1.hpp"
#include "io/yambo/dipoles.hpp"
#include "io/yambo/summary.hpp"
#include "io/yambo/wf.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("rung-fuzz-netcdf-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void put(const std::filesystem::path& p, const std::uint8_t* data, std::size_t size) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

template <class F>
void expect_rung_error_only(F&& f) {
  try {
    f();
  } catch (const rung::Error&) {
    // expected for malformed input
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dir = scratch();
  // ns.db1 and everything rung info computes from it.
  put(dir / "ns.db1", data, size);
  expect_rung_error_only([&] {
    const auto db = rung::yambo::read_db1(dir);
    (void)db.structure();
    (void)db.n_occupied_insulator();
    if (std::size_t(db.nk) * db.symmetries.size() <= 20000) {
      (void)rung::yambo::count_full_bz(db);
      (void)rung::yambo::summarize(dir);
    }
    // The same bytes as the wavefunction header + fragment of k 1.
    put(dir / "ns.wf", data, size);
    put(dir / "ns.wf_fragments_1_1", data, size);
    const rung::yambo::WfReader wf(dir, db);
    (void)wf.read(0);
  });
  // Dipoles: the same bytes as the main file and the first fragment, new and legacy names.
  for (const char* stem : {"ndb.dipoles", "ndb.dip_iR_and_P"}) {
    const auto sub = dir / stem;
    std::filesystem::create_directories(sub);
    put(sub / stem, data, size);
    put(sub / (std::string(stem) + "_fragment_1"), data, size);
    expect_rung_error_only([&] { (void)rung::yambo::read_dipoles(sub); });
  }
  // Text spectra (YAMBO o-file layout, sniffed).
  put(dir / "o-fuzz.eps_q1_ip", data, size);
  expect_rung_error_only([&] { (void)rung::read_any_spectrum(dir / "o-fuzz.eps_q1_ip"); });
  return 0;
}
