// The OPTIMATE crystal graph: the hand-checked edge counts of doc/ml-model.md, the cell-list neighbour search
// edge by edge against brute force, Gaussian features, node encoding, supercell scaling.
#include "core/elements.hpp"
#include "support/supercell.hpp"
#include "core/units.hpp"
#include "ml/graph.hpp"
#include "io/structures/reader.hpp"
#include "support/paths.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

using namespace rung;

namespace {

const std::vector<Structure>& alexandria() {
  static const std::vector<Structure> all = read_structures(test::shared_dir() / "structures" / "alexandria_main_group.jsonl");
  return all;
}

const Structure& by_id(const std::string& id) {
  for (const auto& s : alexandria())
    if (s.id == id) return s;
  FAIL("no structure " << id);
  throw;
}

using Key = std::tuple<int, int, int, int, int>;
std::vector<std::pair<Key, double>> sorted_edges(const std::vector<graph::Neighbor>& v) {
  std::vector<std::pair<Key, double>> out;
  for (const auto& n : v) out.push_back({{n.center, n.neighbor, n.image[0], n.image[1], n.image[2]}, n.distance});
  std::sort(out.begin(), out.end());
  return out;
}

void require_same_edges(const Structure& s) {
  const auto a = sorted_edges(graph::neighbor_list(s)), b = sorted_edges(graph::neighbor_list_brute_force(s));
  INFO(s.id << " (" << s.size() << " atoms)");
  REQUIRE(a.size() == b.size());
  for (std::size_t e = 0; e < a.size(); ++e) {
    REQUIRE(a[e].first == b[e].first);
    REQUIRE(std::abs(a[e].second - b[e].second) < 1e-12);  // same vectors, differently associated sums
  }
}

using rung::test::supercell;

}  // namespace

TEST_CASE("graph: node encoding is OPTIMATE's (group, period) one-hot", "[unit][graph]") {
  CHECK(graph::group_index(1) == 0);   // H
  CHECK(graph::row_index(1) == 0);
  CHECK(graph::group_index(2) == 7);   // He
  CHECK(graph::row_index(2) == 0);
  CHECK(graph::group_index(31) == 2);  // Ga: group 13
  CHECK(graph::row_index(31) == 3);
  CHECK(graph::group_index(54) == 7);  // Xe
  CHECK(graph::row_index(54) == 4);
  CHECK(graph::group_index(26) == -1);  // Fe
  CHECK(graph::group_index(55) == -1);  // Cs: period 6
  int supported = 0;
  for (int z = 1; z <= elements::max_z; ++z) supported += graph::supported_element(z);
  CHECK(supported == 34);  // the encoding's 34 main-group elements (doc/ml-model.md)
}

TEST_CASE("graph: Gaussian edge features", "[unit][graph]") {
  float g[graph::num_edge_features];
  graph::gaussian_expansion(0.0, g);
  CHECK(g[0] == Approx(1.7841241).epsilon(1e-7));  // sqrt(10/pi)
  CHECK(g[1] == Approx(1.7841241 * std::exp(-0.1)).epsilon(1e-6));
  graph::gaussian_expansion(2.5, g);
  CHECK(g[25] == Approx(1.7841241).epsilon(1e-7));
  CHECK(g[24] == Approx(g[26]).epsilon(1e-6));
}

TEST_CASE("graph: hand-checked edge counts of six reference structures", "[reference][graph][shared]") {
  RUNG_REQUIRE_SHARED(test::shared_dir() / "structures" / "alexandria_main_group.jsonl");
  struct Ref {
    const char* id;
    std::size_t atoms, edges;
    std::vector<int> in_degree;
    int self_edges;
    double dmin;
  };
  const std::vector<Ref> refs = {
      {"agm003157631", 2, 50, {25, 25}, 24, 1.23332},
      {"agm002125835", 2, 30, {15, 15}, 12, 2.261117},
      {"agm002125834", 2, 30, {15, 15}, 12, 2.26141},
      {"agm003853042", 4, 68, {17, 17, 17, 17}, 16, 2.068483},
      {"agm003819636", 4, 82, {19, 19, 22, 22}, 24, 2.248414},
      {"agm003852681", 4, 88, {22, 22, 22, 22}, 24, 2.069002},
  };
  for (const auto& r : refs) {
    INFO(r.id);
    const Structure& s = by_id(r.id);
    REQUIRE(s.size() == r.atoms);
    const auto g = graph::build_crystal_graph(s, r.id);
    CHECK(g.num_edges() == r.edges);
    std::vector<int> indeg(s.size(), 0);
    int self = 0;
    for (std::size_t e = 0; e < g.num_edges(); ++e) {
      ++indeg[g.edge_dst[e]];
      self += g.edge_src[e] == g.edge_dst[e];
    }
    std::vector<int> sorted_in = indeg, want = r.in_degree;
    std::sort(sorted_in.begin(), sorted_in.end());
    std::sort(want.begin(), want.end());
    CHECK(sorted_in == want);
    CHECK(self == r.self_edges);
    double dmin = 1e9;
    for (const auto& n : graph::neighbor_list(s)) dmin = std::min(dmin, n.distance);
    CHECK(dmin == Approx(r.dmin).margin(2e-6));  // the spec prints 6-7 digits
  }
}

TEST_CASE("graph: the paper's timing structure Ca4SbTe2Br (CIF, 32 atoms, 576 edges)", "[reference][graph][shared]") {
  const auto cif = test::shared_dir() / "structures" / "agm004850436_Ca4SbTe2Br.cif";
  RUNG_REQUIRE_SHARED(cif);
  const Structure s = read_structure(cif);
  const auto g = graph::build_crystal_graph(s, cif.string());
  CHECK(g.num_nodes == 32);
  CHECK(g.num_edges() == 576);
  std::vector<int> indeg(32, 0);
  for (auto d : g.edge_dst) ++indeg[d];
  CHECK(std::all_of(indeg.begin(), indeg.end(), [](int k) { return k == 18; }));
  double dmin = 1e9;
  for (const auto& n : graph::neighbor_list(s)) dmin = std::min(dmin, n.distance);
  CHECK(dmin == Approx(3.0618342).margin(1e-6));
}

TEST_CASE("graph: cell lists equal brute force edge by edge", "[reference][graph][neighbors]") {
  // Hand-made awkward cells: tiny, skewed, long and thin, atoms on the cell boundary.
  Structure a;
  a.id = "skewed";
  a.lattice << 2.1, 0, 0, 1.9, 0.8, 0, 0.5, 0.3, 1.5;
  a.lattice *= units::Ang_to_Bohr(1.0);
  a.frac = {{0, 0, 0}, {0.999999999, 0.5, 1e-12}, {-0.25, 1.25, 0.5}};
  a.numbers = {14, 8, 8};
  require_same_edges(a);
  Structure b;
  b.id = "needle";
  b.lattice << 1.2, 0, 0, 0, 1.3, 0, 0, 0, 23.0;
  b.lattice *= units::Ang_to_Bohr(1.0);
  b.frac = {{0.1, 0.2, 0.05}, {0.6, 0.7, 0.55}, {0.3, 0.3, 0.9}};
  b.numbers = {6, 6, 1};
  require_same_edges(b);
  // Random dense cells large enough for several bins per direction.
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  for (int t = 0; t < 5; ++t) {
    Structure r;
    r.id = "random" + std::to_string(t);
    r.lattice << 11 + 3 * u(rng), 0, 0, 2 * u(rng), 12 + 4 * u(rng), 0, u(rng), -2 * u(rng), 16 + 3 * u(rng);
    r.lattice *= units::Ang_to_Bohr(1.0);
    for (int i = 0; i < 60; ++i) {
      r.frac.emplace_back(u(rng) * 1.4 - 0.2, u(rng), u(rng));
      r.numbers.push_back(8);
    }
    require_same_edges(r);
  }
  // The shared structures and supercells of some.
  const auto path = test::shared_dir() / "structures" / "alexandria_main_group.jsonl";
  RUNG_REQUIRE_SHARED(path);
  const auto& all = alexandria();
  for (std::size_t k = 0; k < all.size(); k += 17) require_same_edges(all[k]);
  for (std::size_t k = 0; k < all.size(); k += 500) require_same_edges(supercell(all[k], 3, 2, 4));
}

TEST_CASE("graph: a supercell has exactly proportionally many edges with the same distances",
          "[reference][graph][neighbors]") {
  const auto path = test::shared_dir() / "structures" / "alexandria_main_group.jsonl";
  RUNG_REQUIRE_SHARED(path);
  const Structure& s = alexandria()[1234];
  const auto g1 = graph::neighbor_list(s), g8 = graph::neighbor_list(supercell(s, 2, 2, 2));
  REQUIRE(g8.size() == 8 * g1.size());
  std::map<long, int> h1, h8;
  for (const auto& n : g1) h1[std::lround(n.distance * 1e6)] += 8;
  for (const auto& n : g8) h8[std::lround(n.distance * 1e6)] += 1;
  CHECK(h1 == h8);
}
