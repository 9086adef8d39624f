#pragma once
// Locates rung's data folder (share/: element data, defaults, model weights): $RUNG_SHARE_DIR,
// else the source tree (build-tree runs), else the install prefix.
#include <filesystem>

namespace rung {
std::filesystem::path share_dir();
// share_dir()/relative; throws fail_input naming the path if it does not exist.
std::filesystem::path share_file(const std::filesystem::path& relative);
}  // namespace rung
