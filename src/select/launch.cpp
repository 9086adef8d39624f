#include "select/launch.hpp"

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "io/qe_save.hpp"
#include "io/spectrum_file.hpp"
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

static std::string stem_for(const SelectInput& in) {
  std::string s = in.save ? in.save->prefix : in.structure.id;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s.empty() ? "material" : s;
}

nlohmann::json launch_rpa(const SelectInput& in, Decision decision, const LaunchOptions& o) {
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
  const auto t0 = std::chrono::steady_clock::now();
  const auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  if (o.mode == LaunchMode::native) {
    const auto set = compute_native_spectrum(*in.save, "rpa", {{"progress", o.progress}}, Comm::self());
    const auto file = o.outdir / (stem_for(in) + "_rpa.h5");
    std::error_code ec;
    std::filesystem::create_directories(o.outdir, ec);
    write_spectrum_file(file, set);
    j["status"] = "ran";
    j["output"] = file.string();
    j["wall_s"] = since();
    if (set.provenance.contains("convergence")) j["convergence"] = set.provenance["convergence"];
    if (set.provenance.contains("timings_s")) j["solver_timings_s"] = set.provenance["timings_s"];
    if (set.provenance.contains("parameters")) j["n_g"] = set.provenance["parameters"].value("n_g", 0);
    return j;
  }
  YamboOptions yo;
  yo.block_cutoff_Ry = o.block_cutoff_Ry;
  const auto plan = write_yambo_plan(*in.save, o.outdir / (stem_for(in) + "_yambo"), yo);
  j["workdir"] = plan.workdir.string();
  j["script"] = plan.script.string();
  j["commands"] = plan.commands;
  nlohmann::json inputs = nlohmann::json::array();
  for (const auto& job : plan.jobs) inputs.push_back({{"input", job.input.string()}, {"direction", job.direction}});
  j["inputs"] = inputs;
  std::string log;
  if (run_yambo_plan(plan, log)) {
    j["status"] = "ran";
    j["log"] = log;
    j["wall_s"] = since();
  } else {
    j["status"] = "written";
    j["message"] = fmt::format("p2y/yambo are not on PATH: run {} where YAMBO is installed", plan.script.string());
  }
  return j;
}

}  // namespace rung::select
