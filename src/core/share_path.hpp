#pragma once
// Locates rung's data folder (share/: element data, defaults, model weights): $RUNG_SHARE_DIR, else, for the
// librung of a build folder, the source tree's share/, else the share/rung of the prefix librung was loaded from
// (found from the library's own location), else that of the prefix configured at build time.
#include <filesystem>

namespace rung {
std::filesystem::path share_dir();
// share_dir()/relative; throws fail_input naming the path if it does not exist.
std::filesystem::path share_file(const std::filesystem::path& relative);
}  // namespace rung
