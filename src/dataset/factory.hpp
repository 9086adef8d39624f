#pragma once
// `rung dataset`: the data-set factory. Per structure: QE scf, nscf with the bands up to
// VBM + window, the native IPA and RPA spectra (G block converged by the solver) on the field
// directions the crystal system needs, the trace of Im eps on the paper's 2001-point grid, SC(IPA,RPA),
// the gap, parameters and timings. An MPI task farm over materials that is restartable: every
// finished material leaves one JSON record in WORK/records/ (written atomically) and is never
// recomputed; a material that fails is recorded with its reason. The records are merged into DATA.h5
// (format "rung-optimate-dataset", src/ml/dataset_file.hpp). doc/dataset.md has the details.
#include "core/parallel.hpp"
#include "core/structure.hpp"
#include "dataset/factory_request.hpp"
#include "dataset/pseudo_table.hpp"
#include "dataset/qe_runs.hpp"
#include "dataset/symmetry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rung::dataset {

// What the figure of `rung dataset stats --plot` shows (select/report_plot.hpp draws it): the SC(IPA, RPA)
// histogram of the full tier, the CPU time per material against its number of atoms (full and lite tiers,
// log scale), and the SC(lite, full IPA) histogram where a material has both tiers.
struct DatasetFigure {
  std::vector<double> sc_ipa_rpa;
  std::vector<std::pair<double, double>> full_cost, lite_cost;  // (atoms, CPU minutes)
  std::vector<double> sc_lite_full;
};

struct RunSummary {
  std::size_t total = 0, already_done = 0, computed = 0, failed = 0, skipped = 0;
};

// One material end to end; never throws for the material's own problems: the returned record has
// "status" = "done" | "qe_only" (native solver unavailable) | "failed" | "skipped" and a "reason".
nlohmann::json compute_material(const Structure& s, const FactoryRequest& request);

// The factory's scf run of one structure: spglib's standardized primitive cell, its valence electrons (with the
// table's pseudopotentials; fail if one is missing) and the pw.x run (the table's largest cutoff unless given,
// the scf k density, four empty bands so that the scf already shows the gap).
struct ScfPlan {
  SymmetryInfo sym;
  double valence_electrons = 0;
  PwRun scf;
};
ScfPlan plan_scf(const Structure& input, const FactoryRequest& request, const PseudoTable& table);

// `rung dataset pw-input`: the factory's scf input (plan_scf, pw_input) of every structure of request.structures
// (only request.only_ids, when given), written to out_dir/<id>/scf.in. One JSON object per structure: id, input,
// valence_electrons, k, ecutwfc_Ry, nbnd; or id and error when it cannot be planned.
std::vector<nlohmann::json> write_scf_inputs(const FactoryRequest& request, const std::filesystem::path& out_dir);

// The farm: all ranks call it. Returns on every rank after rank 0 has merged DATA.h5.
RunSummary run_dataset(const FactoryRequest& request, const Comm& comm);

// Writes a record into WORK/records for every material of an existing DATA.h5 that has none, so that
// a run resumes from the data set alone (`run` does this with its --out). Returns records written.
std::size_t seed_records_from_dataset(const std::filesystem::path& work_dir, const std::filesystem::path& data_file);
// The marker WORK/records/.seeded-from-<fingerprint of DATA.h5> that says DATA.h5's materials are in WORK's records
// (written by the seeding and by merge_records): seeding from that content again writes nothing.
std::filesystem::path seed_marker(const std::filesystem::path& work_dir, const std::filesystem::path& data_file);

// Merges WORK/records/*.json (of the given ids, or all) into DATA.h5 atomically, both tiers of a material into
// one entry: the full record is its provenance (status "pending" when only the lite tier exists) and the lite
// record sits under its key "lite". Returns materials written. One merge into `out` at a time (a lock file
// .<out name>.lock beside it); a file that was seeded into WORK (or new) is marked seeded after the merge.
// The file records its making (OptimateDataset::provenance): `command` (default "rung dataset merge WORK --out
// NAME"), the work folder and the data set merged into, by name (and fingerprint). Delta and combine do the same.
std::size_t merge_records(const std::filesystem::path& work_dir, const std::filesystem::path& out,
                          const std::vector<std::string>& ids = {}, const std::string& command = "");

// The records of WORK that `base` does not hold as they are (materials new to it, computed again, or given a tier
// it lacks) as a data set written to `out`, which is replaced (`rung dataset delta`: the labels computed since
// a data set was committed, kept in share/dataset/pending.h5 until the next round). Returns its materials.
std::size_t write_records_delta(const std::filesystem::path& work_dir, const std::filesystem::path& base,
                                const std::filesystem::path& out);

// The materials of `files` in one data set written to `out` (replaced), a later file's material replacing an
// earlier file's of the same id (`rung dataset combine`). Returns its materials.
std::size_t combine_datasets(const std::vector<std::filesystem::path>& files, const std::filesystem::path& out);

// `rung dataset stats`: counts, elements, SC histogram, CPU time, as text.
// With `figure`, also fills what `rung dataset stats --plot` draws (select/report_plot.hpp).
std::string dataset_stats(const std::filesystem::path& data_h5, DatasetFigure* figure = nullptr);

// `rung dataset compare`: one row per material of `reference` — id, formula, the status in `other` ("missing"
// when absent), and where both hold the IPA and RPA traces: other's SC(IPA, RPA), the similarity of other's IPA
// and RPA to the reference's (SC with the reference's as reference), other's G block (n_g) and CPU time (cpu_s).
// How a setting changes the labels (tools/settings_study.sh). The grids must agree (fail_input otherwise).
std::vector<nlohmann::json> compare_datasets(const std::filesystem::path& reference, const std::filesystem::path& other);

// The record file of a material id in a work dir: records/<id>.json (full tier), records/<id>.lite.json (lite).
std::filesystem::path record_path(const std::filesystem::path& work_dir, const std::string& id, Tier tier = Tier::full);
// The folder where a tier's pw.x runs of a material go: qe/<id> (full tier), qe/<id>.lite (lite tier). Separate
// so that the two farms can compute the same material at once without removing each other's files.
std::filesystem::path qe_dir(const std::filesystem::path& work_dir, const std::string& id, Tier tier);

}  // namespace rung::dataset
