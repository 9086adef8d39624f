#pragma once
// A text file read whole (pw.x inputs, rung's own kept files); the writing side is core/atomic_output.hpp.
#include <filesystem>
#include <string>

namespace rung {

// The file's bytes. A missing or unreadable file raises fail_input naming it.
std::string read_text_file(const std::filesystem::path& file);

}  // namespace rung
