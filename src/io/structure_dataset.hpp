#pragma once
// The OPTIMATE training data set (DATA.h5, format "rung-optimate-dataset" v1; layout in
// doc/ml-model.md): per material its structure, the trace of Im eps at the IPA and RPA level on the
// 2001-point 0-20 eV grid (float32), SC(IPA, RPA), the gap and provenance. Written by the data-set
// factory (a later issue) and by tests; read by `rung train`. Plain C++ (no LibTorch).
#include "core/energy_grid.hpp"
#include "core/structure.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rung {

inline constexpr const char* optimate_dataset_format = "rung-optimate-dataset";
inline constexpr int optimate_dataset_format_version = 1;

struct DatasetMaterial {
  std::string id;                  // material id (Alexandria "agm..." or any unique name)
  Structure structure;             // Bohr inside; stored in Angstrom
  std::vector<float> eps_imag_ipa; // trace of Im eps (IPA); empty = not computed
  std::vector<float> eps_imag_rpa; // trace of Im eps (RPA with local fields); empty = not computed
  std::optional<double> sc_ipa_rpa;  // SC(IPA, RPA) = 1 - int|ipa - rpa| / int|ipa| (spec §3.6)
  std::optional<double> gap_eV;      // band gap of the underlying calculation
  std::string provenance;            // JSON text: how the spectra were made
};

struct OptimateDataset {
  EnergyGrid grid = EnergyGrid::paper_default();
  std::vector<DatasetMaterial> materials;
  std::string rung_version, created;  // filled by the reader
};

// Writes atomically. Checks: unique non-empty ids without '/', spectra of grid length and finite.
void write_optimate_dataset(const std::filesystem::path& path, const OptimateDataset& data);
// Reads and validates (format attribute, version, shapes, finiteness); errors name the file and material.
OptimateDataset read_optimate_dataset(const std::filesystem::path& path);

// A content fingerprint of a file ("fnv1a64:<16 hex digits>"), stored in model files as the
// training data set's identity.
std::string file_fingerprint(const std::filesystem::path& path);

}  // namespace rung
