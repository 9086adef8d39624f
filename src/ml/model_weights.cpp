// Model-file weights (LibTorch side, part of librung_torch): one dataset per named tensor of each member,
// large float tensors in half precision when info.weights says so (model_file.hpp).
#include "ml/model_file.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/timestamp.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"
#include "ml/optimate_net.hpp"

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace rung::ml {
namespace {
std::string member_group(int k) { return fmt::format("/members/{}", k); }

// A tensor rounded to binary16 (round to nearest even, LibTorch's conversion), or undefined when a value
// is beyond its range (±65504): such a tensor stays float32.
torch::Tensor to_half_or_none(const torch::Tensor& t) {
  const auto h = t.to(torch::kFloat16);
  if (!torch::isfinite(h).all().item<bool>()) return {};
  return h;
}
}  // namespace

void round_to_storage(std::vector<OptimateNet>& members, const std::string& storage) {
  torch::NoGradGuard ng;
  for (auto& m : members)
    for (auto& [name, t] : named_state(*m)) {
      if (!t.is_floating_point() || !stored_as_float16(storage, name, t.numel())) continue;
      const auto h = to_half_or_none(t);
      if (h.defined()) t.copy_(h.to(t.scalar_type()));
    }
}

void save_model_file(const std::filesystem::path& path, const ModelInfo& info, const std::vector<OptimateNet>& members,
                     const std::function<void(h5::File&)>& extra) {
  if (members.empty()) fail("save_model_file: no network");
  if (info.weights != "float16" && info.weights != "float32") fail("save_model_file: unknown weight storage " + info.weights);
  AtomicOutput out(path);
  {
    auto f = h5::File::create(out.temp_path());
    f.set_attr("/", "format", model_file_format);
    f.set_attr("/", "format_version", std::int64_t(model_file_format_version));
    f.set_attr("/", "target", to_string(info.target));
    f.set_attr("/", "architecture", info.arch.to_json().dump());
    f.set_attr("/", "element_encoding", element_encoding_json().dump());
    f.set_attr("/", "training_dataset", info.training_dataset);
    f.set_attr("/", "metrics", info.metrics.dump());
    f.set_attr("/", "training", info.training.dump());
    f.set_attr("/", "ensemble_size", std::int64_t(members.size()));
    f.set_attr("/", "untrained", std::int64_t(info.untrained ? 1 : 0));
    f.set_attr("/", "weights", info.weights);
    if (info.domain) f.set_attr("/", "training_domain", info.domain->to_json().dump());
    f.set_attr("/", "rung_version", version_string);
    f.set_attr("/", "created", rung::utc_now_iso8601());
    f.write("/energy_eV", info.grid.values_eV());
    for (std::size_t k = 0; k < members.size(); ++k) {
      const std::string g = member_group(int(k));
      f.create_group(g);
      for (auto& [name, t] : named_state(*members[k].ptr())) {
        const auto c = t.detach().to(torch::kCPU).contiguous();
        h5::Dims dims;
        for (auto d : c.sizes()) dims.push_back(std::uint64_t(d));
        if (dims.empty()) dims.push_back(1);
        if (c.scalar_type() == torch::kInt64) {
          const auto* p = c.data_ptr<std::int64_t>();
          f.write(g + "/" + name, std::vector<std::int64_t>(p, p + c.numel()), dims);
          continue;
        }
        if (stored_as_float16(info.weights, name, c.numel())) {
          if (const auto h = to_half_or_none(c); h.defined()) {
            std::vector<std::uint16_t> bits(std::size_t(h.numel()));
            std::memcpy(bits.data(), h.data_ptr<at::Half>(), bits.size() * sizeof(std::uint16_t));
            // shuffle + deflate: the exponent bytes compress (~14 % smaller on the shipped models)
            f.write_float16_bits(g + "/" + name, bits, dims, true);
            continue;
          }
        }
        const auto cf = c.to(torch::kFloat32);
        const auto* p = cf.data_ptr<float>();
        f.write(g + "/" + name, std::vector<float>(p, p + cf.numel()), dims);
      }
    }
    if (extra) extra(f);
    f.close();  // a write error shows here, before the commit
  }
  out.commit();
}

std::vector<OptimateNet> load_model_file(const std::filesystem::path& path, ModelInfo* info_out) {
  const ModelInfo info = read_model_info(path);  // validates metadata and every tensor shape
  auto f = h5::File::open(path);
  std::vector<OptimateNet> members;
  torch::NoGradGuard ng;
  const DefaultGeneratorGuard host_generator;  // the networks' random initial weights are replaced below
  for (int k = 0; k < info.ensemble_size; ++k) {
    OptimateNet net(info.arch);
    const std::string g = member_group(k);
    for (auto& [name, t] : named_state(*net)) {
      const std::string ds = g + "/" + name;
      if (t.scalar_type() == torch::kInt64) {
        const auto v = f.read_int(ds);
        t.fill_(v.at(0));
      } else {
        const auto v = f.read_float(ds);  // float32 or half on disk: widened exactly
        if (std::int64_t(v.size()) != t.numel()) fail_input(path, fmt::format("tensor '{}' has the wrong size", ds));
        for (float x : v)
          if (!std::isfinite(x)) fail_input(path, fmt::format("tensor '{}' contains NaN or Inf", ds));
        // a BatchNorm variance below zero would put NaN (sqrt of a negative) into every prediction
        const std::string var_suffix = ".running_var";
        if (name.size() > var_suffix.size() &&
            name.compare(name.size() - var_suffix.size(), var_suffix.size(), var_suffix) == 0)
          for (float x : v)
            if (x < 0) fail_input(path, fmt::format("tensor '{}' has a negative value (a BatchNorm variance)", ds));
        t.copy_(torch::from_blob(const_cast<float*>(v.data()), t.sizes(), torch::kFloat32));
      }
    }
    net->eval();
    members.push_back(net);
  }
  if (info_out) *info_out = info;
  return members;
}

}  // namespace rung::ml
