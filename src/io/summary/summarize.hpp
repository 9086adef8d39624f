#pragma once
// The front of io for `rung info` and the Python module's rung.info: what a path holds, whichever reader it needs.
#include "io/system_summary.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace rung {

// The summary of a ground-state run at `path` (`rung info`, the Python module's rung.info): a QE prefix.save
// folder (or its data-file-schema.xml, or a folder holding exactly one *.save), or a YAMBO SAVE folder (holds
// ns.db1, or a folder holding SAVE/). fail_input naming the path for anything else.
SystemSummary summarize_run(const std::filesystem::path& path);

// What a rung HDF5 file (model, data set, spectrum, prediction) says about itself, from its attributes: file,
// format, format_version and whichever of rung_version, created, target, training_dataset, theory, weights,
// architecture, training, metrics, training_domain, ensemble_size, untrained it has. fail_input for an HDF5
// file without rung's "format" attribute.
nlohmann::json summarize_rung_file(const std::filesystem::path& path);

}  // namespace rung
