#include "select/launch.hpp"

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/metrics.hpp"
#include "core/parallel.hpp"
#include "core/runtime.hpp"
#include "response/convergence.hpp"
#include "response/gblock.hpp"
#include "io/qe/save.hpp"
#include "io/spectra/file.hpp"
#include "select/evidence.hpp"
#include "select/native_spectrum.hpp"
#include "select/yambo_launch.hpp"

#include <chrono>
#include <fmt/format.h>

namespace rung::select {

LaunchMode parse_launch_mode(const std::string& s) {
  if (s == "none") return LaunchMode::none;
  if (s == "native") return LaunchMode::native;
  if (s == "yambo") return LaunchMode::yambo;
  fail_usage("--launch must be none, native or yambo, not '" + s + "'");
}

std::string to_string(LaunchMode m) {
  switch (m) {
    case LaunchMode::native: return "native";
    case LaunchMode::yambo: return "yambo";
    default: return "none";
  }
}

// Output names: the QE prefix (or structure id) and a hash of the save folder's absolute path, so that inputs
// with the same prefix (QE's default "pwscf", the factory's "rung") never share a launch's files.
static std::string stem_for(const SelectInput& in) {
  std::string s = in.save ? in.save->prefix : in.structure.id;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  if (s.empty()) s = "material";
  std::error_code ec;
  const auto where = in.save ? std::filesystem::absolute(in.save->dir, ec).lexically_normal().string() : in.path;
  return fmt::format("{}-{:08x}", s, static_cast<std::uint32_t>(fnv1a(where) >> 32));
}

namespace {

// The blocks rung's --converge would try on this save (closed shells, capped at 300 G and the sphere).
std::vector<std::size_t> native_ladder(const qe::Save& save) {
  const response::ConvergenceOptions co;
  const response::GBlock sphere = response::closed_shells(save.reciprocal, save.ecutwfc);
  const auto& cap = co.max_block;
  const bool fits = cap.by_energy ? cap.energy_Ha <= sphere.shell_energy_Ha() * (1 + 1e-12) : cap.count <= sphere.size();
  const response::GBlock block = fits ? response::select_gblock(save.reciprocal, cap, save.ecutwfc, save.xml) : sphere;
  return response::convergence_ladder(block, co);
}

std::vector<double> imag_of(const std::vector<std::complex<double>>& z) {
  std::vector<double> r(z.size());
  for (std::size_t i = 0; i < z.size(); ++i) r[i] = z[i].imag();
  return r;
}

// Fills `j` as it goes, so that a launch that fails part-way keeps in its record what it had done (the work folder,
// script, inputs and log of a YAMBO launch).
void launch(const SelectInput& in, const LaunchOptions& o, std::optional<double> predicted_sc, nlohmann::json& j) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const auto compare = [&](double sc) {
    j["sc_ipa_rpa"] = sc;
    if (predicted_sc) j["sc_minus_prediction"] = sc - *predicted_sc;
  };
  if (o.mode == LaunchMode::native) {
    response::SpectrumRequest req;
    req.theory = "rpa";
    req.progress = o.progress;
    if (o.block_cutoff_Ry) req.block = fmt::format("{}Ry", *o.block_cutoff_Ry), req.converge = false;
    const auto set = compute_native_spectrum(*in.save, req, Comm::self());
    const auto file = o.outdir / (stem_for(in) + "_rpa.h5");
    std::error_code ec;
    std::filesystem::create_directories(o.outdir, ec);
    write_spectrum_file(file, set);
    j["status"] = "ran";
    j["output"] = std::filesystem::absolute(file, ec).string();  // (a log read from elsewhere finds it)
    j["wall_s"] = since();
    if (set.provenance.contains("convergence")) j["convergence"] = set.provenance["convergence"];
    if (set.provenance.contains("timings_s")) j["solver_timings_s"] = set.provenance["timings_s"];
    if (set.provenance.contains("parameters")) j["n_g"] = set.provenance["parameters"].value("n_g", 0);
    const auto& t = set.components.at("trace").spectrum;
    if (!t.eps_nolf)
      fail(fmt::format("{}: the RPA run kept no spectrum without local fields to compare with", file.string()));
    compare(similarity_coefficient(set.energy_eV, imag_of(t.eps), imag_of(*t.eps_nolf)));
    return;
  }
  YamboOptions yo;
  if (o.block_cutoff_Ry) yo.block_cutoff_Ry = *o.block_cutoff_Ry;
  else yo.blocks_g = native_ladder(*in.save);
  yo.rung_executable = o.rung_executable;
  // rung's own folder for this input, emptied first: YAMBO reuses the databases and keeps the o- files of an
  // earlier run it finds there, which would then be read back as this run's result
  const auto workdir = o.outdir / (stem_for(in) + "_yambo");
  std::error_code ec;
  std::filesystem::remove_all(workdir, ec);
  if (ec) fail(fmt::format("{}: cannot empty the YAMBO work folder: {}", workdir.string(), ec.message()));
  const auto plan = write_yambo_plan(*in.save, workdir, yo);
  j["workdir"] = plan.workdir.string();
  j["script"] = plan.script.string();
  j["commands"] = plan.commands;
  if (!plan.ladder.empty()) j["g_blocks"] = plan.ladder;
  else j["block_cutoff_Ry"] = yo.block_cutoff_Ry, j["n_g"] = plan.fixed_block_g;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& job : plan.jobs) inputs.push_back({{"input", job.input.string()}, {"direction", job.direction}});
  j["inputs"] = inputs;
  if (!yambo_on_path(plan)) {
    j["status"] = "written";
    j["message"] = fmt::format("{} not on PATH: run {} where YAMBO is installed",
                               plan.runs_p2y ? "p2y/yambo are" : "yambo is", plan.script.string());
    return;
  }
  j["log"] = plan.log.string();  // before the run: a step that fails throws, and the record keeps it
  run_yambo_plan(plan);
  const auto r = read_yambo_result(plan);
  j["status"] = "ran";
  j["wall_s"] = since();
  j["n_g"] = r.block_g;
  j["converged"] = plan.ladder.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.converged);  // null: a fixed block
  nlohmann::json outs = nlohmann::json::array();
  for (const auto& p : r.outputs) outs.push_back(p.string());
  j["outputs"] = outs;
  compare(r.sc_ipa_rpa);
}

}  // namespace

nlohmann::json launch_rpa(const SelectInput& in, Decision decision, const LaunchOptions& o,
                          std::optional<double> predicted_sc) {
  nlohmann::json j{{"mode", to_string(o.mode)}};
  if (o.mode == LaunchMode::none) {
    j["status"] = "not requested";
    return j;
  }
  if (!launches_rpa(decision)) {
    j["status"] = "not needed";
    return j;
  }
  if (!in.save) {
    j["status"] = "skipped";
    j["message"] = "the RPA needs a ground-state run: give the QE prefix.save instead of a structure file";
    return j;
  }
  if (only_occupied_bands(*in.save)) {
    j["status"] = "skipped";
    j["message"] = fmt::format("{} holds only the {} occupied bands: the RPA needs empty ones; {}, then `rung select` "
                               "on the same save", in.save->dir.string(), in.save->nbnd, nscf_advice(*in.save));
    return j;
  }
  if (const auto w = band_window_warning(*in.save); !w.empty()) j["warning"] = w;
  try {
    launch(in, o, predicted_sc, j);
    return j;
  } catch (const Interrupted&) {  // the host asked to stop: the whole call ends, not just this launch
    throw;
  } catch (const Error& e) {
    if (interrupt_requested()) throw Interrupted();  // e.g. YAMBO killed by the same Ctrl-C: stop, not a failure
    j["status"] = "failed";
    j["message"] = e.what();
    j["exit_code"] = e.exit_code();
    return j;
  } catch (const std::exception& e) {  // out of memory in a large block, and the like: the decision stays
    if (interrupt_requested()) throw Interrupted();
    j["status"] = "failed";
    j["message"] = std::string("internal error: ") + e.what();
    j["exit_code"] = 1;
    return j;
  }
}

}  // namespace rung::select
