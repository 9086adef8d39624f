#include "core/error.hpp"
#include "io/qe/save.hpp"
#include "io/yambo/qe_save.hpp"
#include "io/structures/reader.hpp"
#include "select/selection.hpp"

namespace rung::select {

std::vector<SelectInput> read_select_inputs(const std::filesystem::path& path) {
  require_exists(path);
  std::vector<SelectInput> out;
  if (looks_like_qe_save(path)) {
    // a YAMBO SAVE with its wavefunctions works as a QE save; a QE prefix.save that holds one (p2y run inside it,
    // YAMBO's usual way) is read as the QE save it is (find_save's rule, which the solver follows too)
    const auto yambo_save = yambo::find_save(path);
    auto save = std::make_shared<qe::Save>(yambo_save ? yambo::as_qe_save(*yambo_save) : qe::Save::read(path));
    SelectInput in;
    in.path = path.string();
    in.kind = yambo_save ? "yambo-save" : "qe-save";
    in.structure = save->structure;
    if (in.structure.id.empty()) in.structure.id = save->prefix;
    in.save = std::move(save);
    in.structure.validate(path.string());
    out.push_back(std::move(in));
    return out;
  }
  for (auto& s : read_structures(path)) {
    s.validate(path.string());
    SelectInput in;
    in.path = path.string();
    in.kind = "structure";
    in.structure = std::move(s);
    out.push_back(std::move(in));
  }
  if (out.empty()) fail_input(path, "contains no structure");
  return out;
}

}  // namespace rung::select
