#pragma once
// rung's OPTIMATE model file (HDF5, format "rung-optimate-model" v1). Torch-free metadata access;
// the weights are read and written inside src/ml only. Layout (doc/ml-model.md):
//
//   /                      attrs: format, format_version, target ("ipa"|"rpa"|"sc"), architecture
//                                 (JSON), element_encoding (JSON), training_dataset (fingerprint
//                                 of DATA.h5, or "none"), metrics (JSON), training (JSON:
//                                 hyper-parameters, seeds, epochs), ensemble_size, untrained (0|1), rung_version, created
//   /energy_eV             [2001] float64 (the grid of the predicted spectrum; stored for sc too)
//   /members/<k>/<name>    one dataset per parameter/buffer of ensemble member k, named as the
//                          PyTorch state dict of the PyG reference ("gat1.lin_l.weight", ...):
//                          float32, num_batches_tracked int64 (shape {1})
//
// Loading checks the format, the element encoding (must equal this rung's), the architecture, the
// target/output width and the shape of every tensor, with errors naming the file and the tensor.
#include "core/energy_grid.hpp"
#include "ml/architecture.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace rung::ml {

inline constexpr const char* model_file_format = "rung-optimate-model";
inline constexpr int model_file_format_version = 1;

struct ModelInfo {
  Target target = Target::ipa;
  Architecture arch;
  EnergyGrid grid = EnergyGrid::paper_default();
  std::string training_dataset = "none";
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json training = nlohmann::json::object();
  int ensemble_size = 1;
  bool untrained = false;  // random weights (`rung train --epochs 0`): machinery only, not physics
  std::string rung_version, created;  // filled on read
};

// Reads and validates the metadata and every tensor's shape (without loading weights into a network).
ModelInfo read_model_info(const std::filesystem::path& path);

// share/models/<target>.h5 (fail_input naming the path if absent).
std::filesystem::path default_model_path(Target target);

}  // namespace rung::ml
