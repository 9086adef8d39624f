// Architecture presets against the parameter counts of doc/ml-model.md and the JSON configuration.
#include "core/error.hpp"
#include "ml/architecture.hpp"

#include <catch2/catch.hpp>

using namespace rung;
using namespace rung::ml;

TEST_CASE("architecture: presets have the parameter counts of the PyG modules", "[unit][ml][arch]") {
  // Counted from the PyG modules (doc/ml-model.md, Network).
  CHECK(Architecture::named("ipa", 2001).parameter_count() == 4899137);
  CHECK(Architecture::named("sc", 1).parameter_count() == 2849137);
  CHECK(Architecture::named("dl100", 2001).parameter_count() == 2015057);
  CHECK(Architecture::named("dl300", 2001).parameter_count() == 4838737);
  CHECK(Architecture::named("dl1000", 2001).parameter_count() == 16044113);
  CHECK(Architecture::named("dl3000", 2001).parameter_count() == 28708241);
  CHECK(Architecture::named("dl4610", 2001).parameter_count() == 15032369);
  CHECK(Architecture::named("dl1000", 2001).gat.size() == 3);
}

TEST_CASE("architecture: state-dict names and shapes of the canonical model", "[unit][ml][arch]") {
  const auto t = Architecture::named("ipa", 2001).tensors();
  auto shape = [&](const std::string& name) {
    for (const auto& x : t)
      if (x.name == name) return x.shape;
    FAIL("no tensor " << name);
    return std::vector<std::int64_t>{};
  };
  CHECK(shape("mlp_init_node.lins.0.weight") == std::vector<std::int64_t>{48, 13});
  CHECK(shape("mlp_init_node.norms.0.module.running_var") == std::vector<std::int64_t>{48});
  CHECK(shape("gat1.att") == std::vector<std::int64_t>{1, 4, 48});
  CHECK(shape("gat2.lin_l.weight") == std::vector<std::int64_t>{384, 192});
  CHECK(shape("gat2.lin_edge.weight") == std::vector<std::int64_t>{384, 51});
  CHECK(shape("mlp_att.lins.0.weight") == std::vector<std::int64_t>{384, 384});
  CHECK(shape("mlp1.lins.3.weight") == std::vector<std::int64_t>{2001, 1024});
  CHECK(shape("mlp1.norms.2.module.weight") == std::vector<std::int64_t>{1024});
  for (const auto& x : t) CHECK(x.name.find("mlp_att.norms") == std::string::npos);  // a single Linear
}

TEST_CASE("architecture: JSON round trip and bad configurations", "[unit][ml][arch]") {
  const auto a = Architecture::parse(R"({"node_mlp":[8,8],"gat":[[4,2],[3,3],[2,2]],"out_mlp":[16]})", 2001);
  CHECK(a.gat.size() == 3);
  CHECK(a.output_dim == 2001);
  CHECK(Architecture::from_json(a.to_json(), "x") == a);
  CHECK_THROWS_AS(Architecture::parse("resnet", 2001), Error);
  CHECK_THROWS_AS(Architecture::parse(R"({"node_mlp":[],"gat":[],"out_mlp":[]})", 2001), Error);
  CHECK_THROWS_AS(Architecture::parse(R"({"node_mlp":[8],"gat":[[4]],"out_mlp":[]})", 2001), Error);
  CHECK_THROWS_AS(Architecture::parse(R"({"node_mlp":[8], )", 2001), Error);
  // what the network fixes, asked for otherwise: refused, not loaded as the fixed values
  for (const char* other : {R"("gat_negative_slope":0.1)", R"("output_activation":"relu")", R"("pooling":"mean")"})
    CHECK_THROWS_WITH(
        Architecture::parse(std::string(R"({"node_mlp":[8],"gat":[[4,2]],"out_mlp":[16],)") + other + "}", 2001),
        Catch::Matchers::Contains("not supported"));
  CHECK(parse_target("rpa") == Target::rpa);
  CHECK_THROWS_AS(parse_target("bse"), Error);
}
