#pragma once
// rung's OPTIMATE model file (HDF5, format "rung-optimate-model" v2; v1 files are still read). Torch-free metadata access;
// the weights are read and written inside src/ml only. Layout (doc/ml-model.md):
//
//   /                      attrs: format, format_version, target ("ipa"|"rpa"|"sc"), architecture
//                                 (JSON), element_encoding (JSON), training_dataset (fingerprint
//                                 of DATA.h5, or "none"), metrics (JSON), training (JSON:
//                                 hyper-parameters, seeds, epochs), ensemble_size, untrained (0|1), rung_version, created,
//                                 weights ("float16"|"float32": how the large tensors are stored; v2),
//                                 training_domain (JSON, optional: ml/training_domain.hpp)
//   /energy_eV             [2001] float64 (the grid of the predicted spectrum; stored for sc too)
//   /members/<k>/<name>    one dataset per parameter/buffer of ensemble member k, named as the
//                          PyTorch state dict of the PyG reference ("gat1.lin_l.weight", ...):
//                          float32 (v1) or, with weights = "float16" (v2), IEEE half for every float tensor
//                          of >= 1024 values, chunked with shuffle + deflate (that includes the biases and
//                          BatchNorm statistics of the >= 1024-wide layers; smaller ones stay float32),
//                          num_batches_tracked int64 (shape {1}). The network always runs in float32.
//   /conversion/...        optional (`rung convert-model`): ids [n] and the float32 network's raw outputs
//                          [n, output_dim] before conversion, for checking what the conversion changed
//
// Loading checks the format, the element encoding (must equal this rung's), the architecture, the
// target/output width and the shape of every tensor, with errors naming the file and the tensor.
#include "core/energy_grid.hpp"
#include "ml/architecture.hpp"
#include "ml/training_domain.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace rung::ml {

inline constexpr const char* model_file_format = "rung-optimate-model";
inline constexpr int model_file_format_version = 2;

// How the weights are stored on disk: "float16" (compact, the default since v2) or "float32".
inline constexpr const char* default_weight_storage = "float16";
// Whether a float tensor `name` of `numel` values is stored in half precision under `storage`. A BatchNorm's running
// mean and variance stay float32: binary16 keeps 11 bits of |mean|, so a channel whose |mean| is thousands of its
// standard deviations would move by about one of them after the normalisation (files written before 2026-12-05
// hold them in float16; they read as they are).
inline bool stored_as_float16(const std::string& storage, const std::string& name, std::int64_t numel) {
  return storage == "float16" && numel >= 1024 && name.find("running_") == std::string::npos;
}

struct ModelInfo {
  Target target = Target::ipa;
  Architecture arch;
  EnergyGrid grid = EnergyGrid::paper_default();
  std::string training_dataset = "none";
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json training = nlohmann::json::object();
  int ensemble_size = 1;
  bool untrained = false;  // random weights (`rung train --epochs 0`): machinery only, not physics
  std::string weights = default_weight_storage;  // on-disk storage of the weights ("float32" for v1 files)
  std::optional<TrainingDomain> domain;           // what the training set covered (absent in older files)
  int format_version = model_file_format_version; // of the file read
  std::string rung_version, created;  // filled on read
};

// Reads and validates the metadata and every tensor's shape (without loading weights into a network).
ModelInfo read_model_info(const std::filesystem::path& path);

// share/models/<target>.h5 (fail_input naming the path if absent).
std::filesystem::path default_model_path(Target target);

}  // namespace rung::ml
