// `rung dataset run|merge|delta|combine|stats`: the data-set factory (src/dataset/factory.hpp, doc/dataset.md).
#include "cli/commands.hpp"
#include "cli/request_flags.hpp"
#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/request_json.hpp"
#include "dataset/factory.hpp"
#include "select/report_plot.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rung::cli {
namespace cmd_dataset {  // this command's own names, distinct when the commands are compiled in one batch

struct DatasetCli {
  dataset::FactoryRequest request;  // every `dataset run` option, bound to its flag by FactoryRequest::visit
  std::string tier_text;    // --tier
  std::string solver_json;  // --solver-options, a JSON object over the solver's keys
  std::filesystem::path merge_work, merge_out, pw_out_dir, compare[2], delta_work, delta_base, delta_out;
  std::vector<std::filesystem::path> combine_in;
  std::filesystem::path combine_out;
  std::string stats_file;
  std::vector<std::string> plots;
};

int run(DatasetCli& o) {
  if (!o.tier_text.empty()) o.request.tier = dataset::parse_tier(o.tier_text);
  if (!o.solver_json.empty()) {
    const auto j = nlohmann::json::parse(o.solver_json, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      fail_usage("--solver-options must be a JSON object over the solver's keys, e.g. '{\"max_block\": \"10Ry\"}'");
    // on top of the factory's solver defaults (solver_step_eV 0.04, points_per_eta 15), not the solver's own
    request_json::merge_json(j, "spectrum", o.request.solver);
  }
  Comm comm;
  const auto sum = dataset::run_dataset(o.request, comm);
  if (comm.is_root())
    std::printf("%s", fmt::format("{}: {} structures ({} finished before, {} computed now; {} failed, {} skipped)\n",
                                  o.request.out.string(), sum.total, sum.already_done, sum.computed, sum.failed,
                                  sum.skipped)
                          .c_str());
  return 0;
}

// Binds the flags of FactoryRequest's list (its canonical key in each help) to `o.request`; with `only`, just
// the keys it names. The tier and the solver's options are read as text and parsed in run().
void bind_request(CLI::App* r, DatasetCli& o, const std::set<std::string>* only) {
  bind_request_flags(
      r, o.request,
      Overloads{[&o](CLI::App* a, const char* flag, const std::string& text, dataset::Tier& f) {
                  a->add_option(flag, o.tier_text, text)->default_str(dataset::to_string(f));
                },
                [&o](CLI::App* a, const char* flag, const std::string& text, response::SpectrumRequest&) {
                  a->add_option(flag, o.solver_json, text);
                }},
      only);
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<DatasetCli>();
  auto* cmd = app.add_subcommand("dataset", "Data-set factory: QE + native IPA/RPA spectra for many structures");
  cmd->require_subcommand(1);

  auto* r = cmd->add_subcommand("run", "Compute (or resume) a data set; one JSON record per material in the work dir");
  bind_request(r, *o, nullptr);
  r->get_option("--structures")->required();
  r->get_option("--out")->required();
  r->callback([o, &action] { action = [o] { return run(*o); }; });

  auto* pw = cmd->add_subcommand("pw-input", "Write the factory's pw.x scf input of each structure (OUT_DIR/<id>/scf.in; "
                                               "one JSON line per structure)");
  static const std::set<std::string> pw_keys{"structures", "pseudo_dir", "ecutwfc_Ry", "scf_kppa", "symprec_angstrom", "ids"};
  bind_request(pw, *o, &pw_keys);
  pw->get_option("--structures")->required();
  pw->add_option("--out-dir", o->pw_out_dir, "Where to write <id>/scf.in")->required();
  pw->callback([o, &action] {
    action = [o] {
      // one line per structure on stdout, its error too; each error also on stderr, and exit status 2 if any
      std::size_t failed = 0;
      const auto lines = dataset::write_scf_inputs(o->request, o->pw_out_dir);
      for (const auto& line : lines) {
        std::printf("%s\n", line.dump().c_str());
        if (line.contains("error")) {
          ++failed;
          std::fprintf(stderr, "rung dataset pw-input: %s: %s\n", line.value("id", "?").c_str(),
                       line["error"].get<std::string>().c_str());
        }
      }
      if (failed == 0) return 0;
      std::fprintf(stderr, "rung dataset pw-input: %zu of %zu structures failed\n", failed, lines.size());
      return 2;
    };
  });

  auto* cmp = cmd->add_subcommand("compare", "How a setting changes the labels: per material of REFERENCE, SC(IPA,RPA) "
                                             "of OTHER and the SC of its IPA and RPA against REFERENCE's (JSON lines)");
  cmp->add_option("REFERENCE", o->compare[0], "Data set with the reference settings")->required();
  cmp->add_option("OTHER", o->compare[1], "Data set of the same materials with other settings")->required();
  cmp->callback([o, &action] {
    action = [o] {
      for (const auto& row : dataset::compare_datasets(o->compare[0], o->compare[1])) std::printf("%s\n", row.dump().c_str());
      return 0;
    };
  });

  auto* m = cmd->add_subcommand("merge",
                                "Merge a work dir's records into a data set (what run does at its end); the "
                                "set's materials without a record in WORK are kept");
  m->add_option("WORK", o->merge_work, "Work dir of a run")->required()->check(CLI::ExistingDirectory);
  m->add_option("--out", o->merge_out, "Output data set (an existing one is merged into, not replaced)")->required();
  m->callback([o, &action] {
    action = [o] {
      // An existing data set's materials that WORK has no record of are written into WORK first, as `run` does
      // with its --out: the merge then rewrites the set from WORK without losing them (a work folder's record
      // is newer than the set's and wins).
      check_output_path(o->merge_out);  // before WORK is seeded from it
      const auto kept = dataset::seed_records_from_dataset(o->merge_work, o->merge_out);
      if (kept > 0)
        std::fprintf(stderr, "%s",
                     fmt::format("rung dataset merge: {} records of {} without one in {} kept\n", kept,
                                 o->merge_out.string(), o->merge_work.string())
                         .c_str());
      const auto n = dataset::merge_records(o->merge_work, o->merge_out);
      std::printf("%s", fmt::format("{}: {} materials\n", o->merge_out.string(), n).c_str());
      return 0;
    };
  });

  auto* dl = cmd->add_subcommand("delta",
                                 "Write the records of a work dir that a data set does not hold as they are (new "
                                 "materials, computed again, or given another tier) as a data set of their own");
  dl->add_option("WORK", o->delta_work, "Work dir of a run")->required()->check(CLI::ExistingDirectory);
  dl->add_option("--base", o->delta_base, "The data set they are new to (e.g. share/dataset/rung-dataset.h5)")
      ->required()
      ->check(CLI::ExistingFile);
  dl->add_option("--out", o->delta_out, "Output data set (replaced; e.g. share/dataset/pending.h5)")->required();
  dl->callback([o, &action] {
    action = [o] {
      const auto n = dataset::write_records_delta(o->delta_work, o->delta_base, o->delta_out);
      std::printf("%s", fmt::format("{}: {} materials not in {} as they are\n", o->delta_out.string(), n,
                                    o->delta_base.string())
                            .c_str());
      return 0;
    };
  });

  auto* cb = cmd->add_subcommand("combine",
                                 "Write the materials of several data sets into one, a later file's material "
                                 "replacing an earlier file's of the same id");
  cb->add_option("DATA", o->combine_in, "Data sets (HDF5), earliest first")->required()->check(CLI::ExistingFile);
  cb->add_option("--out", o->combine_out, "Output data set (replaced)")->required();
  cb->callback([o, &action] {
    action = [o] {
      const auto n = dataset::combine_datasets(o->combine_in, o->combine_out);
      std::printf("%s", fmt::format("{}: {} materials\n", o->combine_out.string(), n).c_str());
      return 0;
    };
  });

  auto* st = cmd->add_subcommand("stats", "Counts, elements, SC(IPA,RPA) histogram and CPU time of a data set");
  st->add_option("DATA", o->stats_file, "Data set (HDF5)")->required();
  st->add_option("--plot", o->plots,
                 "Also draw the SC(IPA,RPA) histogram, cost per material vs atoms and SC(lite, full) (.png or .svg; "
                 "repeatable)");
  st->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plots) select::check_figure_path(p);
      dataset::DatasetFigure figure;
      std::printf("%s", dataset::dataset_stats(o->stats_file, o->plots.empty() ? nullptr : &figure).c_str());
      for (const auto& p : o->plots) {
        select::plot_dataset(figure, p);
        std::printf("wrote %s\n", p.c_str());
      }
      return 0;
    };
  });
}

const CommandRegistrar registrar(setup);

}  // namespace cmd_dataset
}  // namespace rung::cli
