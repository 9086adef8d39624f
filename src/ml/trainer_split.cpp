// The data-set split rule of training and evaluation (torch-free: part of librung, also used by the
// LibTorch half in librung_torch).
#include "ml/trainer.hpp"

#include "core/error.hpp"
#include "core/hash.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <fmt/format.h>
#include <tuple>
#include <optional>
#include <map>

namespace rung::ml {

std::set<std::string> read_id_list(const std::filesystem::path& file) {
  std::set<std::string> ids;
  std::ifstream in(file);
  if (!in) fail_input(file, "cannot open split list");
  for (std::string line; std::getline(in, line);) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    ids.insert(line.substr(b, e - b + 1));
  }
  return ids;
}

Split assign_split(const OptimateDataset& data, const std::optional<std::filesystem::path>& split_dir) {
  std::set<std::string> train, val, test;
  if (split_dir) {
    require_exists(*split_dir);
    train = read_id_list(*split_dir / "train_set.txt");
    val = read_id_list(*split_dir / "validation_set.txt");
    test = read_id_list(*split_dir / "test_set.txt");
    for (const auto& [a, b, name_a, name_b] : {std::tuple{&train, &val, "train", "validation"},
                                               {&train, &test, "train", "test"},
                                               {&val, &test, "validation", "test"}})
      for (const auto& id : *a)
        if (b->count(id))
          fail_input(*split_dir, fmt::format("{} is in both {}_set.txt and {}_set.txt", id, name_a, name_b));
  }
  const auto listed = [&](const std::string& id) -> std::optional<Subset> {
    if (train.count(id)) return Subset::train;
    if (val.count(id)) return Subset::validation;
    if (test.count(id)) return Subset::test;
    return std::nullopt;
  };
  // The split is by formula (as the paper's): a material the lists do not name joins the subset of a listed
  // material of the same formula in this data set (a new polymorph of a test formula stays out of training);
  // when the lists put that formula's polymorphs into several subsets, it joins the most protective of them: test
  // if any listed polymorph is in test, else validation, else train (whatever the order of the materials). A
  // formula no list names goes by its hash, 80/10/10, independent of the seed.
  const auto protection = [](Subset x) {
    return x == Subset::test ? 2 : x == Subset::validation ? 1 : 0;
  };
  std::map<std::string, Subset> by_formula;
  for (const auto& m : data.materials)
    if (const auto sub = listed(m.id)) {
      const auto [it, inserted] = by_formula.emplace(m.structure.formula(), *sub);
      if (!inserted && protection(*sub) > protection(it->second)) it->second = *sub;
    }
  Split s;
  for (const auto& m : data.materials) {
    if (const auto sub = listed(m.id)) {
      s.subset.push_back(*sub);
      ++s.from_files;
    } else if (const auto it = by_formula.find(m.structure.formula()); it != by_formula.end()) {
      s.subset.push_back(it->second);
    } else {
      const auto h = fnv1a(m.structure.formula()) % 10;
      s.subset.push_back(h == 8 ? Subset::validation : h == 9 ? Subset::test : Subset::train);
    }
  }
  return s;
}

Subset parse_subset(const std::string& name) {
  if (name == "train") return Subset::train;
  if (name == "validation") return Subset::validation;
  if (name == "test") return Subset::test;
  fail_usage("subset must be train, validation or test, not '" + name + "'");
}

IpaSource parse_ipa_source(const std::string& name) {
  if (name == "full") return IpaSource::full;
  if (name == "lite") return IpaSource::lite;
  if (name == "any") return IpaSource::any;
  fail_usage("--ipa-source must be full, lite or any, not '" + name + "'");
}

std::string to_string(IpaSource s) { return s == IpaSource::full ? "full" : s == IpaSource::lite ? "lite" : "any"; }

Loss parse_loss(const std::string& name) {
  if (name == "l1") return Loss::l1;
  if (name == "relative") return Loss::relative;
  if (name == "mixed") return Loss::mixed;
  fail_usage("--loss must be l1, relative or mixed, not '" + name + "'");
}

std::string to_string(Loss l) { return l == Loss::l1 ? "l1" : l == Loss::relative ? "relative" : "mixed"; }

std::vector<std::pair<std::size_t, std::size_t>> epoch_batches(std::size_t n, std::size_t batch) {
  if (batch == 0) fail_usage("the batch size must be positive");
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t s = 0; s < n; s += batch) {
    std::size_t e = std::min(n, s + batch);
    if (n > e && n - e < std::max<std::size_t>(batch / 4, 2)) e = n;  // (a small remainder joins this batch)
    if (e - s >= 2) out.emplace_back(s, e);
    if (e == n) break;
  }
  return out;
}

double mean_relative_l1(const std::vector<std::vector<float>>& pred, const std::vector<std::vector<float>>& target) {
  if (pred.size() != target.size()) fail("mean_relative_l1: prediction and target rows differ");
  double sum = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    if (pred[i].size() != target[i].size()) fail("mean_relative_l1: prediction and target lengths differ");
    double num = 0, den = 0;
    for (std::size_t k = 0; k < pred[i].size(); ++k) {
      num += std::abs(double(pred[i][k]) - double(target[i][k]));
      den += std::abs(double(target[i][k]));
    }
    sum += num / std::max(den, 1e-12);
  }
  return pred.empty() ? std::nan("") : sum / double(pred.size());
}

double mixed_relative_l1(const std::vector<std::vector<float>>& pred, const std::vector<std::vector<float>>& target) {
  const double relative = mean_relative_l1(pred, target);  // checks the shapes
  double num = 0, den = 0;
  for (std::size_t i = 0; i < pred.size(); ++i)
    for (std::size_t k = 0; k < pred[i].size(); ++k) {
      num += std::abs(double(pred[i][k]) - double(target[i][k]));
      den += std::abs(double(target[i][k]));
    }
  return 0.5 * (relative + num / std::max(den, 1e-12));
}

std::string to_string(Subset s) { return s == Subset::train ? "train" : s == Subset::validation ? "validation" : "test"; }

}  // namespace rung::ml
