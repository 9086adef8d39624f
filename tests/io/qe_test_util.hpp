#pragma once
// Helpers shared by the QE reader tests: fixture cases, pw.x output parsing, scratch folders, running the CLI.
#include "support/paths.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace rung::test::qe {

struct Case {
  std::string name, prefix, out_file;  // out_file: the pw.x log that printed the bands read from the save
  bool shared;                         // needs ../shared/reference
};

inline const std::vector<Case>& cases() {
  static const std::vector<Case> c{{"si_tiny", "si", "scf.out", false},
                                   {"yambo_tests_si", "Si", "nscf.out", true},
                                   {"si_shifted_888", "si", "nscf.out", true},
                                   {"si_gamma_888", "si", "nscf.out", true},
                                   {"qe_si_888_nosym", "si", "nscf.out", true}};
  return c;
}

inline std::filesystem::path save_of(const Case& c) { return qe_save(c.name, c.prefix); }
inline bool available(const Case& c) { return have(save_of(c) / "data-file-schema.xml"); }

// The band energies pw.x printed (eV), one vector per k-point, from the last band listing of `log`,
// with the k-points (2π/alat units). Empty when the log has no listing (verbosity low and many k).
struct PrintedBands {
  std::vector<std::array<double, 3>> k;
  std::vector<std::vector<double>> e;
  double homo = NAN, lumo = NAN;  // "highest occupied, lowest unoccupied level (ev)"
};

inline PrintedBands read_pw_log(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::size_t start = 0;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("End of band structure calculation") != std::string::npos ||
        lines[i].find("End of self-consistent calculation") != std::string::npos)
      start = i;
  PrintedBands p;
  for (std::size_t i = start; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (auto pos = l.find("highest occupied, lowest unoccupied level (ev):"); pos != std::string::npos) {
      std::istringstream ss(l.substr(pos + 47));
      ss >> p.homo >> p.lumo;
    }
    const auto kpos = l.find("k =");
    if (kpos == std::string::npos || l.find("bands (ev)") == std::string::npos) continue;
    std::array<double, 3> k{};
    for (int d = 0; d < 3; ++d) k[d] = std::stod(l.substr(kpos + 3 + 7 * d, 7));  // 3f7.4
    std::vector<double> e;
    std::size_t j = i + 1;
    while (j < lines.size() && lines[j].find_first_not_of(' ') == std::string::npos) ++j;  // blank
    for (; j < lines.size() && lines[j].find_first_not_of(' ') != std::string::npos; ++j) {
      const std::string& v = lines[j];
      for (std::size_t c = 2; c < v.size(); c += 9) e.push_back(std::stod(v.substr(c, 9)));  // 2x,8f9.4
    }
    p.k.push_back(k);
    p.e.push_back(std::move(e));
  }
  return p;
}

// A scratch folder removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("rung-qe-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
inline void spit(const std::filesystem::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), std::streamsize(s.size()));
}

// Copies a save folder (all files) into dst/<name>.
inline std::filesystem::path copy_save(const std::filesystem::path& save, const std::filesystem::path& dst) {
  const auto to = dst / save.filename();
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(save))
    if (e.is_regular_file()) std::filesystem::copy_file(e.path(), to / e.path().filename());
  return to;
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs the built `rung` with `args` (already shell-quoted), capturing stdout and stderr.
inline RunResult run_cli(const std::string& args) {
  // A readers-only build (RUNG_READERS_ONLY) has no `rung` command; its test run leaves these cases out (-LE cli).
  if (std::string(RUNG_CLI_PATH).empty()) throw std::runtime_error("this build has no rung command to run");
  TempDir t;
  const auto out = t.path / "stdout", err = t.path / "stderr";
  // Under the sanitizer build, LeakSanitizer would report Open MPI's MPI_Init allocations (some from
  // unloaded MCA plugins, which no suppression can name) and change the exit code; the reader code the
  // CLI runs is leak-checked in-process by the other tests, so the child runs without leak detection.
  const std::string cmd = std::string("ASAN_OPTIONS=\"${ASAN_OPTIONS}:detect_leaks=0\" '") + RUNG_CLI_PATH + "' " + args +
                          " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int st = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace rung::test::qe
