#pragma once
// What a model saw in training, as far as a structure can be checked against it before predicting:
// the elements of its training structures and their largest cell. A prediction outside that domain
// is an extrapolation, and rung says so (in the prediction record and on stderr). Stored in the model
// file as the JSON attribute "training_domain" (written by `rung train` and `rung convert-model`).
// Torch-free.
#include "core/structure.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace rung::ml {

struct TrainingDomain {
  std::set<int> elements;       // atomic numbers present in at least one training structure
  std::size_t max_atoms = 0;    // the largest training cell (atoms in the cell as stored)
  std::size_t structures = 0;   // how many training structures this summarises

  void add(const Structure& s);
  nlohmann::json to_json() const;  // {"elements": ["H", ...], "max_atoms": n, "structures": n}
  // Throws fail_input(origin, ...) on malformed JSON content.
  static TrainingDomain from_json(const nlohmann::json& j, const std::string& origin);
};

// Why `s` lies outside `domain` (one sentence each; empty = inside).
std::vector<std::string> domain_warnings(const TrainingDomain& domain, const Structure& s);

}  // namespace rung::ml
