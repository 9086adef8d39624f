// `rung dataset run|merge|stats`: the data-set factory (src/dataset/factory.hpp, doc/dataset.md).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "dataset/factory.hpp"
#include "select/report_plot.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rung::cli {
namespace {

struct DatasetCli {
  dataset::Settings s;
  double ecut = 0;
  std::string solver_options, ids, merge_work, tier = "full";
  bool scf_k_given = false, nscf_k_given = false;
  std::string stats_file;
  std::vector<std::string> plots;
};

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto next = s.find(',', pos);
    const auto item = s.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!item.empty()) out.push_back(item);
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

int run(DatasetCli& o) {
  if (o.ecut > 0) o.s.ecutwfc_Ry = o.ecut;
  if (!o.solver_options.empty()) {
    const auto j = nlohmann::json::parse(o.solver_options, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      fail_usage("--solver-options must be a JSON object over the solver's keys, e.g. '{\"max_block\": \"10Ry\"}'");
    o.s.solver = response::SpectrumRequest::from_json(j);
  }
  if (o.s.max_atoms < 1) fail_usage("--max-atoms must be at least 1");
  if (o.s.window_eV <= 0 || o.s.broadening_eV <= 0 || o.s.scf_kppa <= 0 || o.s.nscf_kppa <= 0)
    fail_usage("--window, --broadening and the k densities must be positive");
  o.s.tier = dataset::parse_tier(o.tier);
  if (o.s.tier == dataset::Tier::lite) {  // the lite protocol's k densities unless given
    if (!o.scf_k_given) o.s.scf_kppa = dataset::lite_protocol.scf_kppa;
    if (!o.nscf_k_given) o.s.nscf_kppa = dataset::lite_protocol.nscf_kppa;
  }
  o.s.only_ids = split_ids(o.ids);
  Comm comm;
  const auto sum = dataset::run_dataset(o.s, comm);
  if (comm.is_root())
    std::printf("%s", fmt::format("{}: {} structures ({} finished before, {} computed now; {} failed, {} skipped)\n",
                                  o.s.out.string(), sum.total, sum.already_done, sum.computed, sum.failed, sum.skipped)
                          .c_str());
  return 0;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<DatasetCli>();
  auto* cmd = app.add_subcommand("dataset", "Data-set factory: QE + native IPA/RPA spectra for many structures");
  cmd->require_subcommand(1);

  auto* r = cmd->add_subcommand("run", "Compute (or resume) a data set; one JSON record per material in the work dir");
  r->add_option("--structures", o->s.structures, "Structure file (jsonl, cif, POSCAR, pw.x input) or folder")->required();
  r->add_option("--pseudo-dir", o->s.pseudo_dir, "Folder with table.json and the UPF files (default: rung's share/pseudo)");
  r->add_option("--out", o->s.out, "Output data set (HDF5, format rung-optimate-dataset)")->required();
  r->add_option("--work-dir", o->s.work_dir, "Records, claims and QE runs (default: <out>.work)");
  r->add_option("--max-atoms", o->s.max_atoms, "Skip larger cells (recorded as skipped)")->capture_default_str();
  r->add_option("--ecut", o->ecut, "ecutwfc in Ry for every material (default: the table's largest among its elements)");
  r->add_option("--tier", o->tier,
                 "full (IPA + RPA labels) or lite (IPA alone, coarser k grids: scf " +
                     fmt::format("{:g}, nscf {:g} k-points per reciprocal atom unless given)", dataset::lite_protocol.scf_kppa,
                                 dataset::lite_protocol.nscf_kppa))
      ->capture_default_str();
  auto* kd = r->add_option("--k-density", o->s.scf_kppa, "scf k-points per reciprocal atom")->capture_default_str();
  auto* nkd = r->add_option("--nscf-k-density", o->s.nscf_kppa, "nscf k-points per reciprocal atom (spectra)")->capture_default_str();
  r->add_option("--window", o->s.window_eV, "Bands up to VBM + this (eV)")->capture_default_str();
  r->add_option("--broadening", o->s.broadening_eV, "Lorentzian broadening of the spectra (eV)")->capture_default_str();
  r->add_option("--symprec", o->s.symprec_angstrom, "spglib tolerance (Angstrom)")->capture_default_str();
  r->add_option("--qe-ranks", o->s.qe_ranks, "MPI ranks per pw.x run (farm of one rank only)")->capture_default_str();
  r->add_option("--pw-command", o->s.pw_command, "pw.x executable")->capture_default_str();
  r->add_option("--solver-options", o->solver_options, "Extra native-solver options (JSON object)");
  r->add_option("--ids", o->ids, "Only these material ids (comma separated)");
  r->add_flag("--keep-qe-files", o->s.keep_qe_files, "Keep each material's prefix.save (large)");
  r->callback([o, kd, nkd, &action] {
    o->scf_k_given = kd->count() > 0;
    o->nscf_k_given = nkd->count() > 0;
    action = [o] { return run(*o); };
  });

  auto* m = cmd->add_subcommand("merge", "Merge a work dir's records into a data set (what run does at its end)");
  m->add_option("WORK", o->merge_work, "Work dir of a run")->required()->check(CLI::ExistingDirectory);
  m->add_option("--out", o->s.out, "Output data set")->required();
  m->callback([o, &action] {
    action = [o] {
      const auto n = dataset::merge_records(o->merge_work, o->s.out);
      std::printf("%s", fmt::format("{}: {} materials\n", o->s.out.string(), n).c_str());
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

}  // namespace
}  // namespace rung::cli
