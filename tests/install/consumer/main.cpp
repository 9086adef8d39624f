// A C++ program built against an installed rung, with its public headers only (include/rung/).
#include <rung/rung.h>
#include <rung/rung.hpp>

#include <cstdio>

int main() {
  std::vector<double> w{0, 1, 2}, y{1, 2, 1};
  const double sc = rung::similarity_coefficient(w, y, y);
  // the solver's request: the paper's defaults, and its canonical keys both ways
  const auto request = rung::response::SpectrumRequest::from_json({{"theory", "rpa"}, {"block", "4Ry"}});
  const bool paper = request.steps == rung::paper::steps && request.broadening_eV == rung::paper::broadening_eV &&
                     rung::EnergyGrid::paper_default().size() == 2001;
  bool named = false;
  try {
    rung::response::SpectrumRequest::from_json({{"eta", 0.1}});
  } catch (const rung::Error& e) {
    named = std::string(e.what()).find("\"eta\"") != std::string::npos && e.kind() == rung::ErrorKind::usage;
  }
  std::printf("rung %s, SC(y, y) = %.3f, request %s, paper defaults %s, unknown key named %s\n", rung::version_string,
              sc, request.to_json().dump().c_str(), paper ? "yes" : "no", named ? "yes" : "no");
  return sc == 1.0 && paper && named ? 0 : 1;
}
