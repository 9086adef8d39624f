#pragma once
// The OPTIMATE crystal graph (doc/ml-model.md, Graph): plain C++, no LibTorch, so that any
// layer can build graphs (and the benchmark can time this step alone).
//  - nodes: 13-dim one-hot of (group, period) for the 34 main-group elements up to Xe;
//  - edges: every periodic neighbour within 5 Angstrom (d^2 < 25 + 1e-8, pymatgen's criterion), an
//    atom's own periodic images included (a multigraph), only the zero-distance self pair dropped;
//    edge_index[0] = centre atom, edge_index[1] = neighbour (the PyG convention of the reference);
//  - edge features: 51 Gaussians sqrt(10/pi) exp(-10 (d - 0.1 k)^2), k = 0..50, computed in double.
// The neighbour search uses cell lists (bins at least one cut-off thick along each lattice-plane
// normal), so its cost grows linearly with the number of atoms.
#include "core/structure.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rung::graph {

inline constexpr double cutoff_angstrom = 5.0;
inline constexpr int num_node_features = 13;  // 8 group classes + 5 period classes
inline constexpr int num_edge_features = 51;
inline constexpr int num_group_classes = 8;
inline constexpr int max_supported_z = 54;  // Xe

// OPTIMATE's group index (0..7) and row index (0..4); -1 if the element is outside the encoding
// (transition metals, lanthanides, anything beyond Xe).
int group_index(int z);
int row_index(int z);
bool supported_element(int z);
// Throws fail_input(origin, ...) naming the first unsupported element.
void check_supported_elements(const Structure& s, const std::string& origin);

struct Neighbor {
  std::int32_t center = 0;    // i
  std::int32_t neighbor = 0;  // j
  std::array<int, 3> image{0, 0, 0};  // lattice translation of j (for wrapped coordinates)
  double distance = 0;        // Angstrom
};

// All pairs (i, j, n) with |x_j + n L - x_i| within `cutoff` (Angstrom) as above, fractional
// coordinates wrapped into [0,1) first. Cell-list algorithm.
std::vector<Neighbor> neighbor_list(const Structure& s, double cutoff = cutoff_angstrom);
// The same by looping over all images in the safe range of the spec (slow; a test reference).
std::vector<Neighbor> neighbor_list_brute_force(const Structure& s, double cutoff = cutoff_angstrom);

// The 51 Gaussian features of one distance (Angstrom), written to out[0..50].
void gaussian_expansion(double distance, float* out);

struct CrystalGraph {
  std::string id;
  std::int64_t num_nodes = 0;
  std::vector<float> node_features;     // num_nodes x 13, row-major
  std::vector<std::int64_t> edge_src;   // edge_index[0]: centre atom
  std::vector<std::int64_t> edge_dst;   // edge_index[1]: neighbour
  std::vector<float> edge_features;     // num_edges x 51, row-major
  std::size_t num_edges() const { return edge_src.size(); }
};

// Builds the graph; unsupported elements, or an atom with no neighbour within the cut-off -> fail_input(origin,
// ...): the network adds no self loops, so such an atom's node would carry the GATv2 biases alone, nothing of its
// element, and a structure without any neighbour pair would be predicted the same whatever its composition.
// Structure::validate is the caller's job (readers' callers do it; see ml::prepare_structure).
CrystalGraph build_crystal_graph(const Structure& s, const std::string& origin);

// Validates a structure for the model (Structure::validate + supported elements) with errors naming `origin`.
// The neighbour check needs the neighbour search: build_crystal_graph does it.
void validate_for_model(const Structure& s, const std::string& origin);

}  // namespace rung::graph
