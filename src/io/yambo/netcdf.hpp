#pragma once
// Read-only access to YAMBO's netCDF databases by variable name (YAMBO's dimension names are
// synthetic, "D_0000000018", so variables are found by name and checked by shape). Works for
// netCDF-4/HDF5 files (YAMBO's default) and classic CDF-1 / 64-bit-offset CDF-2 files (non-HDF5
// builds, 4.x databases). Every failure — missing file, not netCDF, truncated, missing variable,
// wrong shape or type — is fail_input naming the file and the variable.
// netCDF-C is not thread-safe: use one NcFile per thread at most, and not concurrently.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rung::yambo {

using Shape = std::vector<std::size_t>;  // C order (YAMBO's Fortran order reversed)

class NcFile {
public:
  // Opens `path` read-only; fail_input if it is missing, not netCDF or unreadable.
  static NcFile open(const std::filesystem::path& path);
  NcFile(NcFile&&) noexcept;
  NcFile& operator=(NcFile&&) noexcept;
  NcFile(const NcFile&) = delete;
  NcFile& operator=(const NcFile&) = delete;
  ~NcFile();

  const std::filesystem::path& path() const { return path_; }
  // "netCDF-4", "classic", "64-bit offset", "CDF-5" or "netCDF-4 classic model".
  std::string format() const;
  std::vector<std::string> variables() const;
  bool has(const std::string& var) const;
  Shape shape(const std::string& var) const;
  std::size_t size(const std::string& var) const;  // product of the shape
  // The most bytes of data this file's variables may declare (a multiple of the file's size, plus slack): the bound
  // read_double applies, for callers that allocate from sizes read elsewhere before reading.
  std::uintmax_t max_data_bytes() const;

  // Numeric variables of any numeric type, converted. `expected` (optional) is checked against the
  // stored shape; an empty `expected` accepts any shape. Non-finite values are rejected unless
  // `allow_nonfinite` (the caller then deals with them: YAMBO writes NaN where a table is undefined).
  std::vector<double> read_double(const std::string& var, const Shape& expected = {},
                                  bool allow_nonfinite = false) const;
  std::vector<float> read_float(const std::string& var, const Shape& expected = {}) const;
  // Values that YAMBO stores as floats but mean integers (dimensions, indices): must be integral.
  std::vector<long long> read_integral(const std::string& var, const Shape& expected = {}) const;
  // A char variable (YAMBO stores strings as char(1, 100)): the text, trailing blanks/NULs trimmed.
  std::string read_text(const std::string& var) const;

  // Raises fail_input("<file>: variable 'var': <what>").
  [[noreturn]] void fail_var(const std::string& var, const std::string& what) const;

private:
  NcFile(std::filesystem::path p, int id) : path_(std::move(p)), id_(id) {}
  int varid(const std::string& var) const;
  void check_shape(const std::string& var, const Shape& got, const Shape& expected) const;
  std::filesystem::path path_;
  int id_ = -1;
  std::uintmax_t file_bytes_ = 0;
};

std::string shape_string(const Shape& s);  // "(29, 16)"

}  // namespace rung::yambo
