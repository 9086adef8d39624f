#pragma once
// A small RAII wrapper over the HDF5 C API: the one place rung touches HDF5. Used for rung's spectrum
// outputs, model files and data sets. Complex numbers are stored as the compound {r, i} that h5py
// reads as numpy complex. Strings are variable-length UTF-8 attributes.
#include <complex>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rung::h5 {

using Dims = std::vector<std::uint64_t>;

// Whether the HDF5 library rung runs with was built thread-safe (Debian's is): only then may two threads of a host
// call rung's HDF5 readers and writers at the same time.
bool library_is_thread_safe();
// True when `path` starts with the 8-byte HDF5 signature (netCDF-4 files do too); no HDF5 call, no throw.
bool has_hdf5_signature(const std::filesystem::path& path);
// Whether `path` is an HDF5 file whose root "format" attribute is `format` (false for anything else,
// unreadable files included): how a command tells rung's file kinds apart before reading one.
bool has_format(const std::filesystem::path& path, const std::string& format);

class File {
public:
  // Create (truncate) a file for writing.
  static File create(const std::filesystem::path& path);
  // Open an existing file; a missing or non-HDF5 file is a fail_input naming it.
  static File open(const std::filesystem::path& path, bool writable = false);
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  const std::filesystem::path& path() const { return path_; }
  void flush();  // fail() when HDF5 cannot write (a full disk)
  // Flushes and closes the file; fail() when HDF5 cannot finish writing it. A writer calls it before committing an
  // AtomicOutput (the destructor closes too, but cannot report a failure). The File is unusable afterwards.
  void close();

  // Groups are created on demand for dataset names like "a/b/c".
  bool exists(const std::string& name) const;  // dataset or group
  std::vector<std::string> list(const std::string& group = "/") const;
  void create_group(const std::string& name);

  // Datasets (`dims` empty = 1-D of data.size()). compress = gzip level 4 with chunking.
  void write(const std::string& name, const std::vector<double>& data, Dims dims = {}, bool compress = false);
  void write(const std::string& name, const std::vector<float>& data, Dims dims = {}, bool compress = false);
  void write(const std::string& name, const std::vector<std::int64_t>& data, Dims dims = {}, bool compress = false);
  void write(const std::string& name, const std::vector<std::int32_t>& data, Dims dims = {}, bool compress = false);
  void write(const std::string& name, const std::vector<std::uint16_t>& data, Dims dims = {}, bool compress = false);
  void write(const std::string& name, const std::vector<std::complex<double>>& data, Dims dims = {},
             bool compress = false);
  // IEEE 754 half precision (binary16, little-endian; h5py reads it as float16), given as bit patterns:
  // the caller rounds (HDF5 1.10's own float -> half conversion mis-rounds some values). Reading it with
  // read_float/read_double widens exactly.
  void write_float16_bits(const std::string& name, const std::vector<std::uint16_t>& bits, Dims dims = {},
                          bool compress = false);
  void write_strings(const std::string& name, const std::vector<std::string>& data);

  // Reading converts from whatever numeric type is stored. `dims` (optional) receives the shape.
  std::vector<double> read_double(const std::string& name, Dims* dims = nullptr) const;
  std::vector<float> read_float(const std::string& name, Dims* dims = nullptr) const;
  std::vector<std::int64_t> read_int(const std::string& name, Dims* dims = nullptr) const;
  std::vector<std::complex<double>> read_complex(const std::string& name, Dims* dims = nullptr) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  Dims shape(const std::string& name) const;

  // Attributes on a dataset or group ("/" = the file).
  void set_attr(const std::string& object, const std::string& key, const std::string& value);
  void set_attr(const std::string& object, const std::string& key, double value);
  void set_attr(const std::string& object, const std::string& key, std::int64_t value);
  bool has_attr(const std::string& object, const std::string& key) const;
  std::string attr_string(const std::string& object, const std::string& key) const;
  double attr_double(const std::string& object, const std::string& key) const;
  std::int64_t attr_int(const std::string& object, const std::string& key) const;

  // rung's own file kinds carry root attributes "format" and "format_version". Fails (input error naming
  // the file) unless format == `format` and 1 <= version <= `max_version`; `what` names the kind in the
  // message ("rung model file"). Returns the version.
  std::int64_t require_format(const std::string& format, std::int64_t max_version, const std::string& what) const;

private:
  File(std::filesystem::path p, std::int64_t id) : path_(std::move(p)), id_(id) {}
  void ensure_parent_groups(const std::string& name);
  std::filesystem::path path_;
  std::int64_t id_ = -1;
};

}  // namespace rung::h5
