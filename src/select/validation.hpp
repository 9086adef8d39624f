#pragma once
// `rung validate`: how close predicted spectra are to computed ones, per material and over a set.
// Metrics are the paper's (core/metrics.hpp): Im eps of the prediction against the computed
// spectrum as the reference, on the reference's grid over the range both cover.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "core/spectrum.hpp"

namespace rung::select {

struct ValidationEntry {
  std::string name;                  // material / case name (the computed file's stem unless given)
  std::string predicted_path, computed_path;
  std::string predicted_component, computed_component;  // "trace", "x", "q_1_0_0", ... (what was compared)
  std::string predicted_theory, computed_theory;  // "ipa", "rpa", ... as each file records it ("" when it does not)
  std::vector<double> energy_eV;     // the common grid (the computed spectrum's, clipped)
  std::vector<double> predicted, computed;  // Im eps on that grid
  SpectralDistance distance;
};

// Order statistics of one metric over the set (linear interpolation between order statistics,
// numpy's default).
struct Summary {
  std::size_t n = 0;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0, mean = 0;
  nlohmann::json to_json() const;
};
Summary summarize(std::vector<double> values);

// One spectrum of a `rung predict -o` file (format "rung-prediction", the trace of Im eps): the entry
// whose id is `id`, or the only one when `id` is empty or the file holds one. fail_input naming the file
// (and the ids it holds) otherwise, and for an SC-only prediction file.
Spectrum read_prediction_spectrum(const std::filesystem::path& path, const std::string& id = "");

struct ValidateOptions {
  std::string component;            // as read_any_spectrum's, for both files; "" = trace, or the only one
  bool direction_as_trace = false;  // accept a one-direction spectrum as the trace (isotropic crystals only)
};

// Reads both spectra (rung::read_any_spectrum, or read_prediction_spectrum for a prediction file, whose
// entry is chosen by the computed file's stem) and compares them, like with like: a trace with a trace,
// a direction with the same direction. A trace against one direction is fail_input saying why, unless
// options.direction_as_trace (right only for cubic crystals, whose dielectric tensor is isotropic).
ValidationEntry validate_pair(const std::filesystem::path& predicted, const std::filesystem::path& computed,
                              const ValidateOptions& options = {}, std::string name = {});

struct ValidationReport {
  std::vector<ValidationEntry> entries;
  Summary sc, mse, mae;
  nlohmann::json to_json() const;   // per-entry metrics + aggregates (no spectra)
  std::string to_text() const;      // a table for people
};
ValidationReport make_report(std::vector<ValidationEntry> entries);

}  // namespace rung::select
