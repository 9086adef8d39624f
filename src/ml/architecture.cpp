#include "ml/architecture.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"
#include "ml/graph.hpp"

#include <fmt/format.h>

namespace rung::ml {

Target parse_target(const std::string& name) {
  if (name == "ipa") return Target::ipa;
  if (name == "rpa") return Target::rpa;
  if (name == "sc") return Target::sc;
  fail_usage(fmt::format("unknown target '{}' (ipa, rpa or sc)", name));
}

std::string to_string(Target t) {
  switch (t) {
    case Target::ipa: return "ipa";
    case Target::rpa: return "rpa";
    case Target::sc: return "sc";
  }
  return "?";
}

namespace {

// PyG MLP(channel_list): Linear layers "lins.k", BatchNorm after every hidden Linear "norms.k.module".
void mlp_tensors(const std::string& prefix, const std::vector<int>& channels, std::vector<Architecture::Tensor>& out) {
  const std::size_t layers = channels.size() - 1;
  for (std::size_t k = 0; k < layers; ++k) {
    out.push_back({fmt::format("{}.lins.{}.weight", prefix, k), {channels[k + 1], channels[k]}});
    out.push_back({fmt::format("{}.lins.{}.bias", prefix, k), {channels[k + 1]}});
  }
  for (std::size_t k = 0; k + 1 < layers; ++k) {
    const std::string p = fmt::format("{}.norms.{}.module.", prefix, k);
    const std::int64_t c = channels[k + 1];
    out.push_back({p + "weight", {c}});
    out.push_back({p + "bias", {c}});
    out.push_back({p + "running_mean", {c}, true});
    out.push_back({p + "running_var", {c}, true});
    out.push_back({p + "num_batches_tracked", {}, true});
  }
}

}  // namespace

std::vector<Architecture::Tensor> Architecture::tensors() const {
  std::vector<Tensor> out;
  std::vector<int> node = {graph::num_node_features};
  node.insert(node.end(), node_mlp.begin(), node_mlp.end());
  mlp_tensors("mlp_init_node", node, out);
  int in = node_embedding_dim();
  for (std::size_t l = 0; l < gat.size(); ++l) {
    const std::int64_t H = gat[l].heads, C = gat[l].channels;
    const std::string p = fmt::format("gat{}.", l + 1);
    out.push_back({p + "att", {1, H, C}});
    out.push_back({p + "bias", {H * C}});
    out.push_back({p + "lin_l.weight", {H * C, in}});
    out.push_back({p + "lin_l.bias", {H * C}});
    out.push_back({p + "lin_r.weight", {H * C, in}});
    out.push_back({p + "lin_r.bias", {H * C}});
    out.push_back({p + "lin_edge.weight", {H * C, graph::num_edge_features}});
    in = int(H * C);
  }
  mlp_tensors("mlp_att", {in, in}, out);
  std::vector<int> head = {in};
  head.insert(head.end(), out_mlp.begin(), out_mlp.end());
  head.push_back(output_dim);
  mlp_tensors("mlp1", head, out);
  return out;
}

std::int64_t Architecture::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& t : tensors()) {
    if (t.is_buffer) continue;
    std::int64_t p = 1;
    for (auto d : t.shape) p *= d;
    n += p;
  }
  return n;
}

nlohmann::json Architecture::to_json() const {
  nlohmann::json g = nlohmann::json::array();
  for (const auto& l : gat) g.push_back({l.channels, l.heads});
  return {{"node_mlp", node_mlp}, {"gat", g}, {"out_mlp", out_mlp}, {"output_dim", output_dim},
          {"gat_negative_slope", 0.2}, {"output_activation", "leaky_relu(0.01)"}, {"pooling", "softmax-attention"}};
}

Architecture Architecture::from_json(const nlohmann::json& j, const std::string& origin) {
  Architecture a;
  try {
    if (!j.is_object()) fail_input(origin, "architecture must be a JSON object");
    a.node_mlp = j.at("node_mlp").get<std::vector<int>>();
    for (const auto& l : j.at("gat")) {
      if (!l.is_array() || l.size() != 2) fail_input(origin, "each gat layer must be [channels, heads]");
      a.gat.push_back({l[0].get<int>(), l[1].get<int>()});
    }
    a.out_mlp = j.at("out_mlp").get<std::vector<int>>();
    if (j.contains("output_dim")) a.output_dim = j["output_dim"].get<int>();
    // what to_json records but the network fixes: a file (or --arch) asking for something else is refused, not
    // loaded into the fixed network as if it had asked for these
    if (j.contains("gat_negative_slope") && j["gat_negative_slope"].get<double>() != 0.2)
      fail_input(origin, fmt::format("gat_negative_slope {} is not supported (rung's GATv2 layers use 0.2)",
                                     j["gat_negative_slope"].dump()));
    if (j.contains("output_activation") && j["output_activation"].get<std::string>() != "leaky_relu(0.01)")
      fail_input(origin, "output_activation " + j["output_activation"].dump() +
                             " is not supported (rung's head ends in leaky_relu(0.01))");
    if (j.contains("pooling") && j["pooling"].get<std::string>() != "softmax-attention")
      fail_input(origin, "pooling " + j["pooling"].dump() + " is not supported (rung pools by softmax attention)");
  } catch (const nlohmann::json::exception& e) {
    fail_input(origin, fmt::format("malformed architecture JSON: {}", e.what()));
  }
  a.validate(origin);
  return a;
}

Architecture Architecture::named(const std::string& name, int output_dim) {
  Architecture a;
  a.output_dim = output_dim;
  if (name == "ipa" || name == "optimate" || name == "tl" || name == "sc") {
    a.node_mlp = {48, 48};
    a.gat = {{48, 4}, {96, 4}};
    a.out_mlp = {1024, 1024, 1024};
  } else if (name == "dl100") {
    a.node_mlp = {96, 96, 96};
    a.gat = {{192, 2}};
    a.out_mlp = {512, 512, 512};
  } else if (name == "dl300") {
    a.node_mlp = {96, 96, 96};
    a.gat = {{384, 4}};
    a.out_mlp = {512, 512};
  } else if (name == "dl1000") {
    a.node_mlp = {96, 96, 96};
    a.gat = {{192, 8}, {96, 8}, {96, 2}};
    a.out_mlp = {2048, 2048, 2048};
  } else if (name == "dl3000") {
    a.node_mlp = {48, 48, 48};
    a.gat = {{384, 8}};
    a.out_mlp = {2048, 2048, 2048};
  } else if (name == "dl4610") {
    a.node_mlp = {96, 96};
    a.gat = {{192, 8}, {192, 2}};
    a.out_mlp = {2048, 2048, 2048};
  } else {
    fail_usage(fmt::format("unknown architecture '{}' (one of ipa, sc, dl100, dl300, dl1000, dl3000, dl4610, or JSON)", name));
  }
  return a;
}

std::vector<std::string> Architecture::names() { return {"ipa", "sc", "dl100", "dl300", "dl1000", "dl3000", "dl4610"}; }

Architecture Architecture::parse(const std::string& s, int output_dim) {
  const auto start = s.find_first_not_of(" \t\n");
  if (start != std::string::npos && s[start] == '{') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s);
    } catch (const std::exception& e) {
      fail_usage(fmt::format("--arch: invalid JSON: {}", e.what()));
    }
    if (!j.contains("output_dim")) j["output_dim"] = output_dim;
    return from_json(j, "--arch");
  }
  return named(s, output_dim);
}

void Architecture::validate(const std::string& origin) const {
  auto positive = [&](int v, const char* what) {
    if (v <= 0 || v > 65536) fail_input(origin, fmt::format("architecture: {} = {} is not a sensible width", what, v));
  };
  if (node_mlp.empty()) fail_input(origin, "architecture: node_mlp needs at least one layer");
  for (int w : node_mlp) positive(w, "node_mlp width");
  for (const auto& l : gat) {
    positive(l.channels, "gat channels");
    positive(l.heads, "gat heads");
  }
  for (int w : out_mlp) positive(w, "out_mlp width");
  positive(output_dim, "output_dim");
}

bool Architecture::operator==(const Architecture& o) const {
  if (gat.size() != o.gat.size()) return false;
  for (std::size_t i = 0; i < gat.size(); ++i)
    if (gat[i].channels != o.gat[i].channels || gat[i].heads != o.gat[i].heads) return false;
  return node_mlp == o.node_mlp && out_mlp == o.out_mlp && output_dim == o.output_dim;
}

nlohmann::json element_encoding_json() {
  nlohmann::json el = nlohmann::json::object();
  for (int z = 1; z <= graph::max_supported_z; ++z)
    if (graph::supported_element(z)) el[elements::symbol(z)] = {graph::group_index(z), graph::row_index(z)};
  return {{"scheme", "group-period-onehot-13"}, {"elements", el}};
}

}  // namespace rung::ml
