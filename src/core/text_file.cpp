#include "core/text_file.hpp"

#include "core/error.hpp"

#include <fstream>
#include <sstream>

namespace rung {

std::string read_text_file(const std::filesystem::path& file) {
  require_exists(file);
  std::error_code ec;
  // (an ifstream opens a folder without complaint and then reads nothing)
  if (std::filesystem::is_directory(file, ec)) fail_input(file, "is a folder, not a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input(file, "cannot be read");
  std::ostringstream ss;
  try {
    ss << in.rdbuf();
  } catch (const std::exception& e) {
    fail_input(file, std::string("cannot be read: ") + e.what());
  }
  // (operator<< of a streambuf swallows a read error: it would pass for the end of the file; it fails when it
  // inserts nothing, which an empty file is not to be mistaken for)
  if (!in.bad() && !ss && std::filesystem::file_size(file, ec) == 0 && !ec) fail_input(file, "is empty");
  if (in.bad() || !ss) fail_input(file, "cannot be read to its end");
  return ss.str();
}

}  // namespace rung
