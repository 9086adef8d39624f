#include "core/json_file.hpp"

#include "core/error.hpp"

#include <fstream>

namespace rung {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  require_exists(file);
  std::ifstream in(file);
  if (!in) fail_input(file, "cannot be read");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail_input(file, std::string("is not valid JSON: ") + e.what());
  }
}

}  // namespace rung
