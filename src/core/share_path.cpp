#include "core/share_path.hpp"

#include "core/error.hpp"

#include <dlfcn.h>

#include <cstdlib>

namespace rung {

namespace {

// The folder of the librung this code was loaded from (empty when the loader cannot say).
std::filesystem::path share_path_library_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&share_dir), &info) == 0 || !info.dli_fname || !*info.dli_fname) return {};
  return std::filesystem::path(info.dli_fname).parent_path();
}

}  // namespace

std::filesystem::path share_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("RUNG_SHARE_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path library = share_path_library_folder();
  if (library.empty()) {  // no location to go by: the source tree while it exists, else the configured prefix
    if (fs::is_directory(RUNG_SHARE_BUILD_DIR, ec)) return RUNG_SHARE_BUILD_DIR;
    return RUNG_SHARE_INSTALL_DIR;
  }
  // The librung of a build folder reads the source tree's share/ (edits to it count without an install).
  if (fs::equivalent(library, RUNG_LIBRARY_BUILD_DIR, ec) && fs::is_directory(RUNG_SHARE_BUILD_DIR, ec))
    return RUNG_SHARE_BUILD_DIR;
  // An installed librung reads the share/rung of its own prefix, wherever the prefix was copied or installed to
  // (`cmake --install --prefix`), never the source tree it was built from.
  const fs::path beside = library / RUNG_SHARE_FROM_LIBRARY;
  if (fs::is_directory(beside, ec)) {
    const fs::path real = fs::canonical(beside, ec);
    return ec ? beside : real;
  }
  return RUNG_SHARE_INSTALL_DIR;
}

std::filesystem::path share_file(const std::filesystem::path& relative) {
  auto p = share_dir() / relative;
  require_exists(p);
  return p;
}

}  // namespace rung
