#pragma once
// A JSON file read whole (rung's own calibration, cost model and model-set files).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace rung {

// The parsed file. A missing or unreadable file, or one that is not valid JSON, raises fail_input naming it.
nlohmann::json read_json_file(const std::filesystem::path& file);

// One line of JSON that never throws on its strings: bytes that are not UTF-8 (a path or a message from another
// program) become U+FFFD. For records that must be written whatever they hold (decision logs, C API packets).
inline std::string dump_json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace rung
