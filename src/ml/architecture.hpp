#pragma once
// The OPTIMATE network's configuration (doc/ml-model.md, Network): layer sizes stored in every model file, so
// that the paper's 2-layer IPA/TL network, its 3-layer DL variant and the SC model are all
// expressible. Torch-free: the CLI, selection and C API layers include it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/paper.hpp"
namespace rung::ml {

// What a model predicts: the trace of Im eps at the IPA or RPA level (2001 values), or SC(IPA, RPA).
enum class Target { ipa, rpa, sc };
Target parse_target(const std::string& name);  // "ipa" | "rpa" | "sc", else a usage error
std::string to_string(Target);
inline int output_dim_for(Target t, int spectrum_points = int(paper::steps)) { return t == Target::sc ? 1 : spectrum_points; }

struct GatLayer {
  int channels = 0;  // C (per head)
  int heads = 0;     // H; heads are concatenated: the layer outputs C*H features
};

struct Architecture {
  std::vector<int> node_mlp;   // hidden/output widths after the 13 inputs, e.g. {48, 48}
  std::vector<GatLayer> gat;   // e.g. {{48, 4}, {96, 4}}
  std::vector<int> out_mlp;    // hidden widths of the output MLP, e.g. {1024, 1024, 1024}
  int output_dim = int(paper::steps);  // 2001 spectrum points, or 1 for the SC model

  int node_embedding_dim() const { return node_mlp.back(); }

  // Names (PyTorch state-dict names of the PyG reference, doc/ml-model.md) and shapes of every parameter
  // and buffer, in registration order. Buffers: BatchNorm running_mean/var (float) and
  // num_batches_tracked (int64, shape {}).
  struct Tensor {
    std::string name;
    std::vector<std::int64_t> shape;
    bool is_buffer = false;
  };
  std::vector<Tensor> tensors() const;
  std::int64_t parameter_count() const;  // trainable parameters only

  nlohmann::json to_json() const;
  // Throws fail_input(origin, ...) on a malformed or unsupported configuration.
  static Architecture from_json(const nlohmann::json& j, const std::string& origin);
  // The paper's presets (doc/ml-model.md): "ipa" (canonical OptiMate), "sc", "dl100", "dl300", "dl1000", "dl3000",
  // "dl4610"; the output width is then `output_dim`.
  static Architecture named(const std::string& name, int output_dim);
  static std::vector<std::string> names();
  // A preset name or a JSON object {"node_mlp":[..],"gat":[[C,H],..],"out_mlp":[..]} (output_dim
  // optional; defaults to `output_dim`).
  static Architecture parse(const std::string& name_or_json, int output_dim);

  void validate(const std::string& origin) const;
  bool operator==(const Architecture& o) const;
};

// The node encoding as stored in model files: {"scheme":"group-period-onehot-13","elements":{"H":[0,0],..}}.
nlohmann::json element_encoding_json();

}  // namespace rung::ml
