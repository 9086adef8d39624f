#pragma once
// Shared helpers of the YAMBO / spectrum-format tests: reference paths, scratch directories and
// the check that a call fails with rung's input error naming the offending file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/error.hpp"
#include "support/paths.hpp"

namespace rung::test {

inline std::filesystem::path yambo524() { return shared_reference() / "yambo-5.2.4"; }
inline std::filesystem::path si_gamma_save() { return yambo524() / "Si_gamma8x8x8" / "yambo_sp" / "SAVE"; }
inline std::filesystem::path si_gamma_dipoles() { return yambo524() / "Si_gamma8x8x8" / "yambo_sp" / "rpa_ng27_x"; }
inline std::filesystem::path yambopy_save() { return shared_reference() / "yambopy-ip" / "SAVE"; }

// A fresh directory under the build tree, removed when the object dies.
class ScratchDir {
public:
  explicit ScratchDir(const std::string& tag) {
    std::random_device rd;
    path_ = binary_dir() / "test-scratch" / (tag + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
inline void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

// Copies `src` to `dst` keeping only the first `bytes` bytes.
inline void copy_truncated(const std::filesystem::path& src, const std::filesystem::path& dst, std::size_t bytes) {
  spit(dst, slurp(src).substr(0, bytes));
}

}  // namespace rung::test

// `expr` must throw rung::Error of kind input whose message names `file` (its file name suffices).
#define RUNG_CHECK_INPUT_ERROR(expr, file)                                                         \
  do {                                                                                             \
    bool thrown_ = false;                                                                          \
    try {                                                                                          \
      (void)(expr);                                                                                \
    } catch (const ::rung::Error& e_) {                                                            \
      thrown_ = true;                                                                              \
      INFO("message: " << e_.what());                                                              \
      CHECK(e_.kind() == ::rung::ErrorKind::input);                                                \
      CHECK_THAT(std::string(e_.what()),                                                           \
                 Catch::Contains(std::filesystem::path(file).filename().string()));                \
    }                                                                                              \
    CHECK(thrown_);                                                                                \
  } while (0)
