// `rung convert-model IN.h5 -o OUT.h5 [--weights float16|float32] [--data DATA.h5 [--split DIR]]`: rewrites a
// model file in the current format (float16 weights by default: half the size, float32 in memory). With
// the training data set it also records the training domain, re-evaluates the stored metrics and keeps
// the float32 outputs on the validation materials, and prints what the conversion changed
// (ml/trainer.hpp convert_model). OUT may be IN (written atomically after IN is read).
#include "cli/commands.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"

#ifdef RUNG_HAVE_TORCH
#include "ml/dataset_file.hpp"
#include "ml/trainer.hpp"
#endif

#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <string>

namespace rung::cli {
namespace cmd_convert_model {  // this command's own names, distinct when the commands are compiled in one batch

struct ConvertOptions {
  std::string input, output, weights = "float16", data, split;
};

#ifdef RUNG_HAVE_TORCH
int run_convert(const ConvertOptions& o) {
  require_exists(o.input);
  check_output_path(o.output);
  const auto size_before = std::filesystem::file_size(o.input);
  ml::ConversionOptions copt;
  copt.weights = o.weights;
  OptimateDataset data;
  if (!o.data.empty()) {
    data = read_optimate_dataset(o.data);
    copt.data = &data;
    copt.data_fingerprint = file_fingerprint(o.data);
    copt.data_name = o.data;
    if (!o.split.empty()) copt.split_dir = o.split;
  } else if (!o.split.empty()) {
    fail_usage("--split needs --data");
  }
  const auto r = ml::convert_model(o.input, o.output, copt);
  std::string text = fmt::format("{} ({:.2f} MB) -> {} ({:.2f} MB), {} weights\n", o.input, double(size_before) / 1e6,
                                 o.output, double(std::filesystem::file_size(o.output)) / 1e6, r.info.weights);
  if (r.info.domain)
    text += fmt::format("training domain: {} structures, {} elements, at most {} atoms\n", r.info.domain->structures,
                        r.info.domain->elements.size(), r.info.domain->max_atoms);
  if (!r.change.empty()) {
    if (r.change.contains("max_abs_sc_change"))
      text += fmt::format("change on {} validation materials: max |SC| change {:.2e}\n", r.change["n"].get<int>(),
                          r.change["max_abs_sc_change"].get<double>());
    else
      text += fmt::format("change on {} validation materials: max 1 - SC(converted; float32) {:.2e}, "
                          "max |SC against the label| change {:.2e}\n",
                          r.change["n"].get<int>(), r.change["max_spectrum_change"].get<double>(),
                          r.change["max_label_sc_change"].get<double>());
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
#endif

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand("convert-model", "Rewrite a model file compactly (float16 weights) in the current format");
  cmd->add_option("input", o->input, "Model file (rung train output, any format version)")->required();
  cmd->add_option("-o,--output", o->output, "Converted model file (may be the input)")->required();
  cmd->add_option("--weights", o->weights, "float16 | float32")->capture_default_str();
  cmd->add_option("--data", o->data, "The model's training data set: records the training domain, re-evaluates the metrics");
  cmd->add_option("--split", o->split, "Split folder the model was trained with (train/validation/test_set.txt)");
  cmd->callback([o, &action] {
    action = [o]() -> int {
#ifdef RUNG_HAVE_TORCH
      return run_convert(*o);
#else
      fail("rung was built without LibTorch: `rung convert-model` is not available");
#endif
    };
  });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_convert_model
}  // namespace rung::cli
