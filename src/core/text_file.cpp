#include "core/text_file.hpp"

#include "core/error.hpp"

#include <fstream>
#include <sstream>

namespace rung {

std::string read_text_file(const std::filesystem::path& file) {
  require_exists(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail_input(file, "cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace rung
