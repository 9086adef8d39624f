#include "core/share_path.hpp"

#include "core/error.hpp"

#include <cstdlib>

namespace rung {

std::filesystem::path share_dir() {
  if (const char* env = std::getenv("RUNG_SHARE_DIR"); env && *env) return env;
  std::error_code ec;
  if (std::filesystem::is_directory(RUNG_SHARE_BUILD_DIR, ec)) return RUNG_SHARE_BUILD_DIR;
  return RUNG_SHARE_INSTALL_DIR;
}

std::filesystem::path share_file(const std::filesystem::path& relative) {
  auto p = share_dir() / relative;
  require_exists(p);
  return p;
}

}  // namespace rung
