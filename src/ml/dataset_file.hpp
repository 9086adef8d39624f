#pragma once
// The OPTIMATE training data set (DATA.h5, format "rung-optimate-dataset"; layout in doc/ml-model.md):
// per material its structure, Im eps on the 2001-point 0-20 eV grid — the trace at the IPA and RPA level,
// their Cartesian components xx, yy, zz, and the trace of the cheap "lite" IPA tier —, SC(IPA, RPA), the gap
// and provenance. Written by the data-set factory and by tests; read by `rung train`. Plain C++ (no LibTorch).
//
// Version 2 stores every spectrum as 16-bit integers, value = offset + scale · stored, with offset = min and
// scale = (max − min)/65535 per spectrum (attributes "offset", "scale"; "fidelity" = "full" | "lite"), gzip +
// shuffle: the round-off is at most scale/2, about 8e-6 of the spectrum's range (`rung dataset stats` reports
// the largest one and the SC change it causes). Version 1 (float32, traces only) still reads.
#include "core/energy_grid.hpp"
#include "core/structure.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rung {

inline constexpr const char* optimate_dataset_format = "rung-optimate-dataset";
inline constexpr int optimate_dataset_format_version = 2;

struct DatasetMaterial {
  std::string id;                  // material id (Alexandria "agm..." or any unique name)
  Structure structure;             // Bohr inside; stored in Angstrom
  std::vector<float> eps_imag_ipa; // trace of Im eps (IPA); empty = not computed
  std::vector<float> eps_imag_rpa; // trace of Im eps (RPA with local fields); empty = not computed
  // xx, yy, zz of Im eps (3 x grid, row-major); empty = not stored (version 1, or an isotropic crystal whose
  // components all equal the trace)
  std::vector<float> eps_imag_ipa_xyz, eps_imag_rpa_xyz;
  std::vector<float> eps_imag_lite; // trace of Im eps of the IPA-lite tier (coarser protocol); empty = none
  std::optional<double> sc_ipa_rpa;  // SC(IPA, RPA) = 1 - int|ipa - rpa| / int|ipa| (doc/ml-model.md)
  std::optional<double> gap_eV;      // band gap of the underlying calculation
  std::string provenance;            // JSON text: how the spectra were made
};

struct OptimateDataset {
  EnergyGrid grid = EnergyGrid::paper_default();
  std::vector<DatasetMaterial> materials;
  std::string rung_version, created;  // filled by the reader
  // How the file was made (JSON text, the root attribute "provenance"; "" = not recorded): the command and its
  // input files by name with their fingerprints (rung dataset merge, delta, combine)
  std::string provenance;
  int format_version = optimate_dataset_format_version;  // of the file read
};

// The 16-bit encoding of one spectrum and its inverse (exposed for tests and `rung dataset stats`).
struct ScaledSpectrum {
  std::vector<std::uint16_t> stored;
  double offset = 0, scale = 0;
  std::vector<float> decode() const;
};
ScaledSpectrum encode_spectrum(const std::vector<float>& values);

// Writes atomically (always the current version). Checks: unique non-empty ids without '/', spectra of grid
// length (xyz: 3 x grid) and finite, valid structures (Structure::validate), a finite gap and SC(IPA, RPA).
void write_optimate_dataset(const std::filesystem::path& path, const OptimateDataset& data);
// Reads and validates (format attribute, version, shapes, finiteness, structures as Structure::validate, 16-bit
// values in range); errors name the file and material.
OptimateDataset read_optimate_dataset(const std::filesystem::path& path);

// The uniform grid a file's /energy_eV holds (data set and model files alike): fail_input naming `file` when it
// has fewer than 2 points or a point lies more than 1e-6 eV off the uniform grid from its first to its last value.
EnergyGrid uniform_energy_grid(const std::vector<double>& energy_eV, const std::filesystem::path& file);

// A content fingerprint of a file ("fnv1a64:<16 hex digits>"), stored in model files as the
// training data set's identity.
std::string file_fingerprint(const std::filesystem::path& path);

}  // namespace rung
