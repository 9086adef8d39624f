#pragma once
// What a caller asks of the OPTIMATE predictor, in one vocabulary (as response::SpectrumRequest and
// select::SelectRequest): each field is listed once in `visit` with its canonical key, its `rung predict` flag
// and its help; the JSON reader (the C API's rung_model_load_options, the Python module's rung.predict
// keywords), the writer (the provenance) and the CLI binding all go through that list. Torch-free header.
// doc/ml-model.md lists the keys.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "ml/predictor.hpp"

namespace rung::ml {

struct PredictRequest {
  std::string model;               // model file; "" = share/models/<target>.h5
  std::string target;              // ipa | rpa | sc; "" = ipa for the default model, else whatever the file holds
  std::string format = "auto";     // structure files: auto, cif, poscar, pw-input, qe-save, jsonl
  std::size_t batch = 64;          // graphs per forward pass
  std::size_t threads = 1;         // LibTorch threads (when the runtime manages threads)
  std::string precision = "float32";  // float32 | float64 (verification)
  bool raw = false;                // the network's raw output (not clipped at zero and smoothed)

  template <class Self, class F>
  static void visit(Self& r, F&& f);

  // fail_usage naming the key: an unknown key, a value of the wrong type.
  static PredictRequest from_json(const nlohmann::json& options);
  nlohmann::json to_json() const;
  static std::vector<std::string> keys();

  // The predictor's options; checks every value and names the key of a bad one (fail_usage).
  PredictorOptions predictor_options() const;
  // The target asked for ("ipa", "rpa", "sc"), "" when none; fail_usage naming the key for anything else.
  std::string checked_target() const;
};

template <class Self, class F>
void PredictRequest::visit(Self& r, F&& f) {
  f("model", "--model", "Model file (default: share/models/<target>.h5)", r.model);
  f("target", "--target", "ipa | rpa | sc (checked against the model)", r.target);
  f("format", "--format", "Structure format: auto, cif, poscar, pw-input, qe-save, jsonl", r.format);
  f("batch", "--batch", "Graphs per forward pass", r.batch);
  f("threads", "--threads", "LibTorch threads", r.threads);
  f("precision", "--precision", "float32 | float64", r.precision);
  f("raw", "--raw", "Report the network's raw output (not clipped at zero and smoothed)", r.raw);
}

}  // namespace rung::ml
