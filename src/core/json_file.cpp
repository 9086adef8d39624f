#include "core/json_file.hpp"

#include "core/error.hpp"
#include "core/text_file.hpp"

namespace rung {

nlohmann::json read_json_file(const std::filesystem::path& file) {
  const std::string text = read_text_file(file);  // (a folder or a read error named with the file)
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail_input(file, std::string("is not valid JSON: ") + e.what());
  }
}

}  // namespace rung
