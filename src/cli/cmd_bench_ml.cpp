// `rung bench ml`: times the OPTIMATE pipeline (parse, graph build, forward; batch and single-structure
// latency; two-core throughput; a training step) on the structures of ../shared/structures and, in
// the same run and on the same core, the plain-PyTorch reference of tools/optimate_reference.py
// (numpy graph build) as the baseline. A benchmark, not a test: it prints times and ratios.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/json_file.hpp"

#ifdef RUNG_HAVE_TORCH
#include "ml/graph.hpp"
#include "io/structures/reader.hpp"
#include "ml/predictor.hpp"
#include "ml/trainer.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <thread>
#include <unistd.h>
#endif

#include <cstdio>
#include <fmt/format.h>
#include <string>

namespace rung::cli {
namespace cmd_bench_ml {  // this command's own names, distinct when the commands are compiled in one batch

struct BenchOptions {
  std::string jsonl = "../shared/structures/alexandria_main_group.jsonl";
  std::string cif = "../shared/structures/agm004850436_Ca4SbTe2Br.cif";
  std::string model, arch = "ipa", python = "/usr/bin/python3", reference = "tools/optimate_reference.py";
  std::size_t batch = 64;
  int core = -1, train_steps = 3, repeats = 3;
  bool no_python = false, json = false;
};

#ifdef RUNG_HAVE_TORCH
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best of `repeats` timings of f() (seconds).
template <class F>
double best_of(int repeats, F&& f) {
  double best = 1e300;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

// Removes a temporary file or folder of the benchmark however the run ends.
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

int run_bench(const BenchOptions& o) {
  namespace fs = std::filesystem;
  // The inputs first: a missing or bad file stops the run before anything is written.
  std::vector<Structure> structures = read_structures(o.jsonl);
  if (!o.model.empty()) require_exists(o.model);
  // One core for everything (the Python baseline inherits the affinity).
  int core = o.core;
  cpu_set_t current;
  CPU_ZERO(&current);
  sched_getaffinity(0, sizeof current, &current);
  if (core < 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &current)) {
        core = c;
        break;
      }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(core, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) fail(fmt::format("cannot pin to core {}", core));

  // The model: the given file, or an untrained one of the requested architecture (timing only).
  std::string model = o.model;
  RemoveOnExit tmpdir;
  if (model.empty()) {
    tmpdir.path = fs::temp_directory_path() / fmt::format("rung-bench-ml-{}", ::getpid());
    fs::create_directories(tmpdir.path);
    model = (tmpdir.path / "model.h5").string();
    ml::TrainOptions t;
    t.epochs = 0;
    t.arch = o.arch;
    t.progress = false;
    ml::train_model(OptimateDataset{}, "none", t, model);
  }
  ml::PredictorOptions popt;
  popt.batch_size = o.batch;
  popt.threads = 1;
  const auto predictor = ml::SpectrumPredictor::load(model, popt);
  const auto& arch = predictor.info().arch;

  // 1. Parse (+ validation) of all structures.
  const double t_parse = best_of(o.repeats, [&] { structures = read_structures(o.jsonl); });
  const double t_validate = best_of(o.repeats, [&] {
    for (const auto& s : structures) graph::validate_for_model(s, s.id);
  });
  const std::size_t n = structures.size();
  // 2. Graph build.
  std::vector<graph::CrystalGraph> graphs;
  const double t_graph = best_of(o.repeats, [&] {
    graphs.clear();
    graphs.reserve(n);
    for (const auto& s : structures) graphs.push_back(graph::build_crystal_graph(s, s.id));
  });
  std::size_t edges = 0, nodes = 0;
  for (const auto& g : graphs) {
    edges += g.num_edges();
    nodes += std::size_t(g.num_nodes);
  }
  // 3. Forward in batches.
  const double t_forward = best_of(o.repeats, [&] { (void)predictor.predict_graphs(graphs); });
  // 4. Single-structure latency (parse of a CIF + graph + forward, batch 1): the paper's demo CIF.
  const auto p1opt = [&] {
    auto p = popt;
    p.batch_size = 1;
    return p;
  }();
  const auto single = ml::SpectrumPredictor::load(model, p1opt);
  const int reps1 = 50;
  std::size_t cif_atoms = 0, cif_edges = 0;
  double t_cif_total = 0, t_cif_parse = 0, t_cif_graph = 0, t_cif_forward = 0;
  if (fs::exists(o.cif)) {
    (void)single.predict({read_cif_structure(o.cif)});  // warm-up
    for (int r = 0; r < reps1; ++r) {
      const auto t0 = Clock::now();
      Structure s = read_cif_structure(o.cif);
      graph::validate_for_model(s, o.cif);
      const auto t1 = Clock::now();
      std::vector<graph::CrystalGraph> g{graph::build_crystal_graph(s, o.cif)};
      const auto t2 = Clock::now();
      (void)single.predict_graphs(g);
      const auto t3 = Clock::now();
      t_cif_parse += std::chrono::duration<double>(t1 - t0).count() / reps1;
      t_cif_graph += std::chrono::duration<double>(t2 - t1).count() / reps1;
      t_cif_forward += std::chrono::duration<double>(t3 - t2).count() / reps1;
      cif_atoms = s.size();
      cif_edges = g[0].num_edges();
    }
    t_cif_total = t_cif_parse + t_cif_graph + t_cif_forward;
  }
  // Batch-1 latency over the first 500 data-set structures (graph + forward).
  const std::size_t n1 = std::min<std::size_t>(500, n);
  const double t_lat = best_of(1, [&] {
    for (std::size_t i = 0; i < n1; ++i) {
      std::vector<graph::CrystalGraph> g{graph::build_crystal_graph(structures[i], structures[i].id)};
      (void)single.predict_graphs(g);
    }
  }) / double(n1);
  // 5. Two cores: two threads, each graph build + forward on half of the structures.
  double t_two = 0;
  {
    cpu_set_t two = current;
    const bool have_two = CPU_COUNT(&current) >= 2;
    if (have_two) sched_setaffinity(0, sizeof two, &two);
    t_two = best_of(o.repeats, [&] {
      auto work = [&](std::size_t begin, std::size_t end) {
        cpu_set_t mine;
        CPU_ZERO(&mine);
        int seen = 0;
        for (int c = 0; c < CPU_SETSIZE; ++c)
          if (CPU_ISSET(c, &current) && seen++ == int(begin != 0)) {
            CPU_SET(c, &mine);
            break;
          }
        if (have_two) sched_setaffinity(0, sizeof mine, &mine);
        std::vector<graph::CrystalGraph> g;
        for (std::size_t i = begin; i < end; ++i) g.push_back(graph::build_crystal_graph(structures[i], structures[i].id));
        (void)predictor.predict_graphs(g);
      };
      std::thread a(work, 0, n / 2), b(work, n / 2, n);
      a.join();
      b.join();
    });
    sched_setaffinity(0, sizeof one, &one);
    t_two += t_parse / 2;  // parsing splits the same way (each rank reads its share)
  }
  // 6. Training step on 128 graphs.
  std::vector<const graph::CrystalGraph*> gp;
  for (const auto& g : graphs) gp.push_back(&g);
  ml::Architecture train_arch = arch;
  const double t_step = o.train_steps > 0 && gp.size() >= 128 ? ml::time_training_step(gp, train_arch, 128, o.train_steps) : 0;

  const double per = 1e3 / double(n);  // ms per structure
  std::string load;  // other processes on the machine skew every number: say how busy it was
  if (std::ifstream la("/proc/loadavg"); la) std::getline(la, load);
  const double rung_e2e = (t_parse + t_validate + t_graph + t_forward) * per;
  std::string text;
  text += fmt::format("rung bench ml: {} structures ({} atoms, {} edges) from {}, model {} ({} parameters), core {}, "
                      "batch {}\n",
                      n, nodes, edges, o.jsonl, o.model.empty() ? "untrained " + o.arch : o.model,
                      arch.parameter_count(), core, o.batch);
  text += fmt::format("  load average during the run (/proc/loadavg): {}, {} cores\n", load, std::thread::hardware_concurrency());
  text += fmt::format("  rung  parse {:.4f} ms + validate {:.4f} ms + graph {:.4f} ms + forward {:.4f} ms = {:.4f} ms/structure\n",
                      t_parse * per, t_validate * per, t_graph * per, t_forward * per, rung_e2e);
  text += fmt::format("  rung  batch-1 latency (graph + forward), first {} structures: {:.3f} ms\n", n1, t_lat * 1e3);
  if (t_cif_total > 0)
    text += fmt::format("  rung  {} ({} atoms, {} edges), batch 1: CIF parse {:.3f} + graph {:.3f} + forward {:.3f} = "
                        "{:.3f} ms (paper: 14.8 ms incl. CIF, 3.5 ms forward, laptop GPU, dl4610)\n",
                        fs::path(o.cif).filename().string(), cif_atoms, cif_edges, t_cif_parse * 1e3, t_cif_graph * 1e3,
                        t_cif_forward * 1e3, t_cif_total * 1e3);
  text += fmt::format("  rung  two cores (2 threads x 1 LibTorch thread): {:.0f} structures/s\n", double(n) / t_two);
  if (t_step > 0) text += fmt::format("  rung  training step, batch 128 graphs: {:.1f} ms\n", t_step * 1e3);

  nlohmann::json report = {{"structures", n}, {"rung_ms_per_structure", {{"parse", t_parse * per}, {"validate", t_validate * per},
                           {"graph", t_graph * per}, {"forward", t_forward * per}, {"total", rung_e2e}}},
                           {"rung_batch1_latency_ms", t_lat * 1e3}, {"rung_cif_latency_ms", t_cif_total * 1e3},
                           {"rung_two_core_structures_per_s", double(n) / t_two}, {"train_step_ms_batch128", t_step * 1e3},
                           {"loadavg", load}};
  if (!o.no_python) {
    if (!fs::exists(o.reference)) {
      text += fmt::format("  python reference: {} not found (run from the repository root or pass --reference)\n", o.reference);
    } else {
      const RemoveOnExit py_out{fs::temp_directory_path() / fmt::format("rung-bench-ml-py-{}.json", ::getpid())};
      const std::string out_json = py_out.path.string();
      const std::string cmd = fmt::format(
          "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 {} {} bench --model {} --jsonl {} "
          "--batch {} --repeats {} --out {}",
          shell_quote(o.python), shell_quote(o.reference), shell_quote(model), shell_quote(o.jsonl), o.batch, o.repeats,
          shell_quote(out_json));
      std::fflush(stdout);
      const ShellStatus rc = run_shell(cmd);
      if (rc.exit_code != 0 || !fs::exists(out_json)) {
        text += fmt::format("  python reference failed ({}): {}\n", rc.why(), cmd);
      } else {
        const auto py = read_json_file(out_json);
        const double pp = py["parse_s"].get<double>() * per, pg = py["graph_s"].get<double>() * per,
                     pf = py["forward_s"].get<double>() * per;
        const double pt = pp + pg + pf;
        text += fmt::format("  torch parse {:.4f} ms + graph {:.4f} ms (numpy) + forward {:.4f} ms = {:.4f} ms/structure "
                            "({}; torch {}, same core)\n",
                            pp, pg, pf, pt, py.value("reference", "?"), py.value("torch", "?"));
        text += fmt::format("  ratio python/rung: end-to-end {:.2f}x, graph {:.1f}x, forward {:.2f}x\n", pt / rung_e2e,
                            pg / (t_graph * per), pf / (t_forward * per));
        report["python_ms_per_structure"] = {{"parse", pp}, {"graph", pg}, {"forward", pf}, {"total", pt}};
        report["ratio_end_to_end"] = pt / rung_e2e;
      }
    }
  }
  if (o.json) text = report.dump(2) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
#endif

CLI::App* find_or_add_bench(CLI::App& app) {
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "bench") return sub;
  auto* bench = app.add_subcommand("bench", "Benchmarks (print times and ratios against in-run baselines)");
  bench->require_subcommand(1);
  return bench;
}

void setup(CLI::App& app, Action& action, const Context&) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = find_or_add_bench(app)->add_subcommand("ml", "OPTIMATE: parse, graph, forward, training step vs the PyTorch reference");
  cmd->add_option("--jsonl", o->jsonl, "Structures (JSON lines)")->capture_default_str();
  cmd->add_option("--cif", o->cif, "CIF for the single-structure latency")->capture_default_str();
  cmd->add_option("--model", o->model, "Model file (default: an untrained model of --arch)");
  cmd->add_option("--arch", o->arch, "Architecture of the untrained model")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Graphs per forward pass")->capture_default_str();
  cmd->add_option("--core", o->core, "CPU core to pin to (default: the first allowed)");
  cmd->add_option("--repeats", o->repeats, "Repeats (best of)")->capture_default_str();
  cmd->add_option("--train-steps", o->train_steps, "Training steps to time (0: skip)")->capture_default_str();
  cmd->add_option("--python", o->python, "Python with torch, numpy, h5py")->capture_default_str();
  cmd->add_option("--reference", o->reference, "tools/optimate_reference.py")->capture_default_str();
  cmd->add_flag("--no-python", o->no_python, "Skip the PyTorch baseline");
  cmd->add_flag("--json", o->json, "Print the numbers as JSON");
  cmd->callback([o, &action] { action = RUNG_TORCH_ACTION("bench ml", run_bench(*o)); });
}

const CommandRegistrar reg(setup);

}  // namespace cmd_bench_ml
}  // namespace rung::cli
