#pragma once
// A dielectric spectrum on a frequency grid, as every reader returns it and every writer takes it.
#include <complex>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rung {

struct Spectrum {
  std::vector<double> energy_eV;
  std::vector<std::complex<double>> eps;                     // with local fields where applicable
  std::optional<std::vector<std::complex<double>>> eps_nolf;  // eps_o: without local fields (RPA runs)
  std::string label;                                         // e.g. "rpa trace", or the file it came from
  std::map<std::string, std::string> metadata;               // provenance, header fields

  std::size_t size() const { return energy_eV.size(); }
  // A metadata field ("" when the file did not give it).
  std::string meta(const std::string& key) const;
  std::vector<double> imag() const;
  std::vector<double> real() const;
  // Throws (naming `origin`) if the grid is not strictly increasing or any value is NaN/Inf.
  void validate(const std::string& origin) const;
};

}  // namespace rung
