#include "ml/training_domain.hpp"

#include "core/elements.hpp"
#include "core/error.hpp"

#include <fmt/format.h>

namespace rung::ml {

void TrainingDomain::add(const Structure& s) {
  elements.insert(s.numbers.begin(), s.numbers.end());
  max_atoms = std::max(max_atoms, s.size());
  ++structures;
}

nlohmann::json TrainingDomain::to_json() const {
  nlohmann::json symbols = nlohmann::json::array();
  for (int z : elements) symbols.push_back(elements::symbol(z));
  return {{"elements", symbols}, {"max_atoms", max_atoms}, {"structures", structures}};
}

TrainingDomain TrainingDomain::from_json(const nlohmann::json& j, const std::string& origin) {
  TrainingDomain d;
  try {
    for (const auto& e : j.at("elements")) {
      const int z = elements::atomic_number(e.get<std::string>());
      if (z == 0) fail_input(origin, "attribute 'training_domain' names an unknown element " + e.dump());
      d.elements.insert(z);
    }
    d.max_atoms = j.at("max_atoms").get<std::size_t>();
    d.structures = j.value("structures", std::size_t(0));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail_input(origin, fmt::format("attribute 'training_domain' is malformed: {}", e.what()));
  }
  if (d.elements.empty() || d.max_atoms == 0) fail_input(origin, "attribute 'training_domain' lists no structures");
  return d;
}

std::vector<std::string> domain_warnings(const TrainingDomain& domain, const Structure& s) {
  std::vector<std::string> out;
  std::set<int> unseen;
  for (int z : s.numbers)
    if (!domain.elements.count(z)) unseen.insert(z);
  if (!unseen.empty()) {
    std::string list;
    for (int z : unseen) list += (list.empty() ? "" : ", ") + elements::symbol(z);
    out.push_back(fmt::format("element{} {} never seen in training (the model extrapolates)",
                              unseen.size() > 1 ? "s" : "", list));
  }
  if (s.size() > domain.max_atoms)
    out.push_back(fmt::format("{} atoms in the cell, more than any training structure ({}): the model extrapolates",
                              s.size(), domain.max_atoms));
  return out;
}

}  // namespace rung::ml
