// Model-file I/O (HDF5 through rung::h5::File): metadata and one dataset per named tensor.
#include "ml/model_file.hpp"
#include "core/timestamp.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/share_path.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"
#include "ml/dataset_file.hpp"

#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <map>

namespace rung::ml {
namespace {

nlohmann::json parse_json_attr(const h5::File& f, const std::string& key) {
  const std::string text = f.attr_string("/", key);
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    fail_input(f.path(), fmt::format("attribute '{}' is not valid JSON: {}", key, e.what()));
  }
}

std::string shape_string(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';  // not `"," + to_string(...)`: gcc 12 warns falsely (-Wrestrict, GCC bug 105329)
    out += std::to_string(s[i]);
  }
  return out + "]";
}

std::string member_group(int k) { return fmt::format("/members/{}", k); }

ModelInfo read_info(const h5::File& f) {
  const auto& path = f.path();
  ModelInfo info;
  info.format_version = int(f.require_format(model_file_format, model_file_format_version, "rung model file"));
  info.weights = info.format_version >= 2 ? f.attr_string("/", "weights") : "float32";
  if (info.weights != "float32" && info.weights != "float16")
    fail_input(path, fmt::format("attribute 'weights' is '{}' (expected float16 or float32)", info.weights));
  if (f.has_attr("/", "training_domain"))
    info.domain = TrainingDomain::from_json(parse_json_attr(f, "training_domain"), path.string());
  const std::string target = f.attr_string("/", "target");
  if (target != "ipa" && target != "rpa" && target != "sc") fail_input(path, fmt::format("unknown target '{}'", target));
  info.target = parse_target(target);
  info.arch = Architecture::from_json(parse_json_attr(f, "architecture"), path.string());
  if ((info.target == Target::sc) != (info.arch.output_dim == 1))
    fail_input(path, fmt::format("target {} but the network has {} outputs", target, info.arch.output_dim));
  if (parse_json_attr(f, "element_encoding") != element_encoding_json())
    fail_input(path, "the model's element encoding differs from this rung's (group-period one-hot, H..Xe)");
  const auto energy = f.read_double("/energy_eV");
  info.grid = uniform_energy_grid(energy, path);  // the network's outputs are taken to lie on this uniform grid
  if (info.target != Target::sc && std::int64_t(energy.size()) != info.arch.output_dim)
    fail_input(path, fmt::format("energy grid has {} points but the network outputs {}", energy.size(), info.arch.output_dim));
  info.training_dataset = f.has_attr("/", "training_dataset") ? f.attr_string("/", "training_dataset") : "none";
  if (f.has_attr("/", "metrics")) info.metrics = parse_json_attr(f, "metrics");
  if (f.has_attr("/", "training")) info.training = parse_json_attr(f, "training");
  info.ensemble_size = int(f.attr_int("/", "ensemble_size"));
  if (info.ensemble_size < 1 || info.ensemble_size > 1000)
    fail_input(path, fmt::format("ensemble_size {} out of range", info.ensemble_size));
  info.untrained = f.has_attr("/", "untrained") && f.attr_int("/", "untrained") != 0;
  info.rung_version = f.has_attr("/", "rung_version") ? f.attr_string("/", "rung_version") : "";
  info.created = f.has_attr("/", "created") ? f.attr_string("/", "created") : "";
  // Every tensor present with the shape the architecture implies; nothing extra.
  const auto tensors = info.arch.tensors();
  for (int k = 0; k < info.ensemble_size; ++k) {
    const std::string g = member_group(k);
    if (!f.exists(g)) fail_input(path, fmt::format("ensemble member {} missing ({})", k, g));
    std::map<std::string, bool> expected;
    for (const auto& t : tensors) {
      expected[t.name] = true;
      const std::string name = g + "/" + t.name;
      if (!f.exists(name)) fail_input(path, fmt::format("tensor '{}' missing", name));
      const auto dims = f.shape(name);
      std::vector<std::int64_t> got(dims.begin(), dims.end());
      const std::vector<std::int64_t> want = t.shape.empty() ? std::vector<std::int64_t>{1} : t.shape;
      if (got != want)
        fail_input(path, fmt::format("tensor '{}' has shape {}, the architecture needs {}", name, shape_string(got),
                                     shape_string(want)));
    }
    for (const auto& n : f.list(g))
      if (!expected.count(n)) fail_input(path, fmt::format("unexpected tensor '{}/{}' for this architecture", g, n));
  }
  return info;
}

}  // namespace

ModelInfo read_model_info(const std::filesystem::path& path) {
  auto f = h5::File::open(path);
  return read_info(f);
}

std::filesystem::path default_model_path(Target target) {
  return share_file(std::filesystem::path("models") / (to_string(target) + ".h5"));
}

}  // namespace rung::ml
