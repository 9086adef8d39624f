// The C++ side of bench/python_overhead.py: times response::compute_spectrum(request, save) in-process, the call
// rung.spectrum makes, with the same request JSON, and prints one line per run: "cpp <seconds>".
//   bench_spectrum_call SAVE REQUEST_JSON RUNS
#include "core/parallel.hpp"
#include "response/spectrum_request.hpp"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_spectrum_call SAVE REQUEST_JSON RUNS\n");
    return 3;
  }
  try {
    const auto request = rung::response::SpectrumRequest::from_json(nlohmann::json::parse(argv[2]));
    // one call first, not reported: the Python side is warmed up once too (page cache, library set-up)
    rung::response::compute_spectrum(request, argv[1], rung::Comm::self(), "bench");
    for (int i = 0; i < std::atoi(argv[3]); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::clock_t c0 = std::clock();
      const auto set = rung::response::compute_spectrum(request, argv[1], rung::Comm::self(), "bench");
      const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("cpp %.6f %zu %.6f\n", s, set.energy_eV.size(), cpu);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_spectrum_call: %s\n", e.what());
    return 1;
  }
  return 0;
}
