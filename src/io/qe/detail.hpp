#pragma once
// Internals of the QE reader, exposed for the tests and the fuzz targets (tests/fuzz/): the parsers
// work on in-memory data and never touch the file system.
#include "io/qe/save.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <istream>
#include <optional>
#include <string_view>

namespace rung::qe::detail {

// Parses the text of a data-file-schema.xml. Fills everything but `dir`/`xml` and the pseudopotential
// paths and kinds (Save::read resolves those). Errors: rung::Error (input) naming `origin`.
Save parse_schema(std::string_view xml_text, const std::filesystem::path& origin);

// What the caller knows about a wfc file beforehand (from the XML); unset fields are not checked.
struct WfcExpect {
  int ik = -1;                             // 0-based k index (header stores ik+1 ... see qe-reader.md)
  std::optional<Eigen::Vector3d> k_cart;   // Bohr^-1
  int nbnd = -1;
  int npw = -1;
  std::array<int, 3> fft_grid{0, 0, 0};    // Miller indices must satisfy |m_i| <= n_i/2
  int ispin = 0;                           // the header's spin index (1 or 2) for lsda files; 0: not checked
  int gamma_only = -1;  // 0 or 1: the header's flag must say the same as data-file-schema.xml; -1: not checked
  int npol = 0;         // 1, or 2 for spinors (noncolin); 0: not checked
};

// Reads one wfcN.dat (Fortran sequential unformatted, 4-byte record markers, little endian) of
// `size` bytes from `in`: one read per record, coefficients land directly in the result matrix.
Wavefunction parse_wfc(std::istream& in, std::uint64_t size, const std::filesystem::path& origin,
                       const WfcExpect& expect);

}  // namespace rung::qe::detail
