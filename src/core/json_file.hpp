#pragma once
// A JSON file read whole (rung's own calibration, cost model and model-set files).
#include <filesystem>
#include <nlohmann/json.hpp>

namespace rung {

// The parsed file. A missing or unreadable file, or one that is not valid JSON, raises fail_input naming it.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace rung
