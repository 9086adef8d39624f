#include "io/hdf5_file.hpp"

#include "core/error.hpp"
#include "io/hdf5_errors.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>
#include <hdf5.h>

#include <cstring>
#include <fstream>
#include <utility>

namespace rung::h5 {
namespace {

struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Handle() {
    if (id >= 0) close(id);
  }
  Handle(const Handle&) = delete;
  operator hid_t() const { return id; }
};

hid_t complex_type() {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(double) * 2);
  H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "i", sizeof(double), H5T_NATIVE_DOUBLE);
  return t;
}

std::vector<hsize_t> to_hsize(const Dims& d) { return {d.begin(), d.end()}; }

std::uint64_t product(const Dims& d) {
  std::uint64_t p = 1;
  for (auto x : d) p *= x;
  return p;
}

}  // namespace

File File::create(const std::filesystem::path& path) {
  const QuietErrors quiet;
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) fail(fmt::format("{}: cannot create HDF5 file", path.string()));
  return File(path, id);
}

File File::open(const std::filesystem::path& path, bool writable) {
  const QuietErrors quiet;
  require_exists(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) fail_input(path, "not an HDF5 file (or truncated)");
  hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail_input(path, "cannot open HDF5 file (corrupted or truncated?)");
  return File(path, id);
}

File::File(File&& o) noexcept : path_(std::move(o.path_)), id_(o.id_) { o.id_ = -1; }
File& File::operator=(File&& o) noexcept {
  const QuietErrors quiet;
  if (this != &o) {
    if (id_ >= 0) H5Fclose(hid_t(id_));
    path_ = std::move(o.path_);
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}
File::~File() {
  const QuietErrors quiet;
  if (id_ >= 0) H5Fclose(hid_t(id_));
}

void File::flush() {
  const QuietErrors quiet;
  // HDF5 writes much of a file (its metadata, small raw data) only now: a full disk shows here, before an
  // AtomicOutput would move a broken file into place
  if (H5Fflush(hid_t(id_), H5F_SCOPE_GLOBAL) < 0)
    fail(fmt::format("{}: writing the HDF5 file failed (disk full?)", path_.string()));
}

void File::close() {
  const QuietErrors quiet;
  if (id_ < 0) return;
  flush();
  const herr_t rc = H5Fclose(hid_t(id_));
  id_ = -1;
  if (rc < 0) fail(fmt::format("{}: closing the HDF5 file failed (disk full?)", path_.string()));
}

bool File::exists(const std::string& name) const {
  const QuietErrors quiet;
  if (name == "/" || name.empty()) return true;
  // Check each path component so that missing intermediate groups do not raise.
  std::string partial;
  std::size_t pos = name[0] == '/' ? 1 : 0;
  while (true) {
    std::size_t next = name.find('/', pos);
    partial = name.substr(0, next);
    if (partial.empty() || partial == "/") {
      if (next == std::string::npos) return true;
      pos = next + 1;
      continue;
    }
    if (H5Lexists(hid_t(id_), partial.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

std::vector<std::string> File::list(const std::string& group) const {
  const QuietErrors quiet;
  std::vector<std::string> names;
  Handle g(H5Gopen2(hid_t(id_), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (g.id < 0) fail_input(path_, fmt::format("no group '{}'", group));
  H5G_info_t info;
  if (H5Gget_info(g, &info) < 0) fail_input(path_, fmt::format("group '{}' cannot be read (corrupted file?)", group));
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    std::string s(std::size_t(std::max<ssize_t>(n, 0)), '\0');
    if (n < 0 || H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size() + 1, H5P_DEFAULT) != n)
      fail_input(path_,
                 fmt::format("group '{}': the name of member {} cannot be read (corrupted file?)", group, i + 1));
    names.push_back(s);
  }
  return names;
}

void File::create_group(const std::string& name) {
  const QuietErrors quiet;
  if (exists(name)) return;
  ensure_parent_groups(name);
  Handle g(H5Gcreate2(hid_t(id_), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (g.id < 0) fail(fmt::format("{}: cannot create group '{}'", path_.string(), name));
}

void File::ensure_parent_groups(const std::string& name) {
  const QuietErrors quiet;
  auto slash = name.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  create_group(name.substr(0, slash));
}

namespace {

void write_raw(hid_t file, const std::filesystem::path& path, const std::string& name, hid_t memtype, hid_t filetype,
               const void* data, std::uint64_t count, Dims dims, bool compress) {
  if (dims.empty()) dims = {count};
  if (product(dims) != count)
    fail(fmt::format("{}: dataset '{}' has {} values but shape product {}", path.string(), name, count, product(dims)));
  auto hd = to_hsize(dims);
  Handle space(H5Screate_simple(int(hd.size()), hd.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (compress && count > 0) {
    std::vector<hsize_t> chunk = hd;
    // Chunk along the first axis so rows can be read independently, ~1 MiB per chunk at most.
    hsize_t row = 1;
    for (std::size_t i = 1; i < chunk.size(); ++i) row *= chunk[i];
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(hd[0], (1u << 17) / std::max<hsize_t>(row, 1)));
    H5Pset_chunk(dcpl, int(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
  }
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  Handle ds(H5Dcreate2(file, name.c_str(), filetype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) fail(fmt::format("{}: cannot create dataset '{}'", path.string(), name));
  if (count > 0 && H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail(fmt::format("{}: cannot write dataset '{}'", path.string(), name));
}

template <typename T>
std::vector<T> read_raw(hid_t file, const std::filesystem::path& path, const std::string& name, hid_t memtype,
                        Dims* dims) {
  Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) fail_input(path, fmt::format("no dataset '{}'", name));
  Handle space(H5Dget_space(ds), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> hd(std::size_t(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, hd.data(), nullptr);
  Dims d(hd.begin(), hd.end());
  if (dims) *dims = d;
  // The sizes come from the file: a corrupted or hostile one may declare far more than it could hold. Compressed
  // data (deflate of shuffled numbers, or of constant ones) stays well within 1024 times the file's size.
  std::uintmax_t n = 1;
  for (hsize_t x : hd)
    if (x != 0 && n > std::numeric_limits<std::uintmax_t>::max() / sizeof(T) / x)
      fail_input(path, fmt::format("dataset '{}' declares more elements than memory can address", name));
    else n *= x;
  if (n * sizeof(T) > (std::uintmax_t(256) << 20)) {  // the file's size is looked at only for a large dataset
    std::error_code ec;
    const std::uintmax_t file_bytes = std::filesystem::file_size(path, ec);
    if (ec || n * sizeof(T) > file_bytes * 1024)
      fail_input(
          path, fmt::format("dataset '{}' declares {} elements ({} bytes), more than a file of {} bytes can hold", name,
                            n, n * sizeof(T), ec ? 0 : file_bytes));
  }
  std::vector<T> out(static_cast<std::size_t>(n));  // n: the checked product of the dims above
  if (!out.empty() && H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
    fail_input(path, fmt::format("cannot read dataset '{}' (wrong type or corrupted)", name));
  return out;
}

}  // namespace

void File::write(const std::string& name, const std::vector<double>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  write_raw(hid_t(id_), path_, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, d.data(), d.size(), std::move(dims), compress);
}
void File::write(const std::string& name, const std::vector<float>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  write_raw(hid_t(id_), path_, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, d.data(), d.size(), std::move(dims), compress);
}
void File::write(const std::string& name, const std::vector<std::int64_t>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  write_raw(hid_t(id_), path_, name, H5T_NATIVE_INT64, H5T_STD_I64LE, d.data(), d.size(), std::move(dims), compress);
}
void File::write(const std::string& name, const std::vector<std::int32_t>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  write_raw(hid_t(id_), path_, name, H5T_NATIVE_INT32, H5T_STD_I32LE, d.data(), d.size(), std::move(dims), compress);
}
void File::write(const std::string& name, const std::vector<std::uint16_t>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  write_raw(hid_t(id_), path_, name, H5T_NATIVE_UINT16, H5T_STD_U16LE, d.data(), d.size(), std::move(dims), compress);
}
void File::write_float16_bits(const std::string& name, const std::vector<std::uint16_t>& d, Dims dims, bool compress) {
  ensure_parent_groups(name);
  // binary16 as h5py defines it: sign bit 15, exponent bits 10..14 (bias 15), mantissa bits 0..9.
  Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  H5Tset_precision(t, 16);
  write_raw(hid_t(id_), path_, name, t, t, d.data(), d.size(), std::move(dims), compress);
}
void File::write(const std::string& name, const std::vector<std::complex<double>>& d, Dims dims, bool compress) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  Handle t(complex_type(), H5Tclose);
  write_raw(hid_t(id_), path_, name, t, t, d.data(), d.size(), std::move(dims), compress);
}

void File::write_strings(const std::string& name, const std::vector<std::string>& data) {
  const QuietErrors quiet;
  ensure_parent_groups(name);
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  std::vector<const char*> ptrs;
  for (auto& s : data) ptrs.push_back(s.c_str());
  write_raw(hid_t(id_), path_, name, t, t, ptrs.data(), ptrs.size(), {}, false);
}

std::vector<double> File::read_double(const std::string& name, Dims* dims) const {
  const QuietErrors quiet;
  return read_raw<double>(hid_t(id_), path_, name, H5T_NATIVE_DOUBLE, dims);
}
std::vector<float> File::read_float(const std::string& name, Dims* dims) const {
  const QuietErrors quiet;
  return read_raw<float>(hid_t(id_), path_, name, H5T_NATIVE_FLOAT, dims);
}
std::vector<std::int64_t> File::read_int(const std::string& name, Dims* dims) const {
  const QuietErrors quiet;
  return read_raw<std::int64_t>(hid_t(id_), path_, name, H5T_NATIVE_INT64, dims);
}
std::vector<std::complex<double>> File::read_complex(const std::string& name, Dims* dims) const {
  const QuietErrors quiet;
  Handle t(complex_type(), H5Tclose);
  return read_raw<std::complex<double>>(hid_t(id_), path_, name, t, dims);
}
std::vector<std::string> File::read_strings(const std::string& name) const {
  const QuietErrors quiet;
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  {  // HDF5 does not convert between ASCII and UTF-8: read with the stored character set.
    Handle ds(H5Dopen2(hid_t(id_), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (ds.id < 0) fail_input(path_, fmt::format("no dataset '{}'", name));
    Handle ft(H5Dget_type(ds), H5Tclose);
    if (H5Tget_class(ft) != H5T_STRING) fail_input(path_, fmt::format("dataset '{}' is not a string array", name));
    H5Tset_cset(t, H5Tget_cset(ft));
  }
  Dims d;
  auto ptrs = read_raw<char*>(hid_t(id_), path_, name, t, &d);
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  // Variable-length strings are allocated by HDF5; release them.
  Handle space(H5Screate_simple(1, std::vector<hsize_t>{ptrs.size()}.data(), nullptr), H5Sclose);
  if (!ptrs.empty()) H5Dvlen_reclaim(t, space, H5P_DEFAULT, ptrs.data());
  return out;
}

Dims File::shape(const std::string& name) const {
  const QuietErrors quiet;
  Handle ds(H5Dopen2(hid_t(id_), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (ds.id < 0) fail_input(path_, fmt::format("no dataset '{}'", name));
  Handle space(H5Dget_space(ds), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> hd(std::size_t(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, hd.data(), nullptr);
  return Dims(hd.begin(), hd.end());
}

namespace {
void write_attr(hid_t file, const std::filesystem::path& path, const std::string& object, const std::string& key,
                hid_t type, const void* value) {
  if (H5Aexists_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT) > 0)
    H5Adelete_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate_by_name(file, object.c_str(), key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  if (a.id < 0 || H5Awrite(a, type, value) < 0)
    fail(fmt::format("{}: cannot write attribute '{}' on '{}'", path.string(), key, object));
}
Handle open_attr(hid_t file, const std::filesystem::path& path, const std::string& object, const std::string& key) {
  Handle a(H5Aopen_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (a.id < 0) fail_input(path, fmt::format("missing attribute '{}' on '{}'", key, object));
  // The readers read one value into a scalar: an array (or empty) attribute would overflow it.
  {
    Handle space(H5Aget_space(a), H5Sclose);
    const hssize_t n = space.id < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    if (n < 0) fail_input(path, fmt::format("attribute '{}' on '{}' has an unreadable dataspace", key, object));
    if (n != 1)
      fail_input(path, fmt::format("attribute '{}' on '{}' holds {} values where one is expected", key, object, n));
  }
  return Handle(std::exchange(a.id, -1), H5Aclose);
}
}  // namespace

void File::set_attr(const std::string& object, const std::string& key, const std::string& value) {
  const QuietErrors quiet;
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  const char* p = value.c_str();
  write_attr(hid_t(id_), path_, object, key, t, &p);
}
void File::set_attr(const std::string& object, const std::string& key, double value) {
  const QuietErrors quiet;
  write_attr(hid_t(id_), path_, object, key, H5T_NATIVE_DOUBLE, &value);
}
void File::set_attr(const std::string& object, const std::string& key, std::int64_t value) {
  const QuietErrors quiet;
  write_attr(hid_t(id_), path_, object, key, H5T_NATIVE_INT64, &value);
}
bool File::has_attr(const std::string& object, const std::string& key) const {
  const QuietErrors quiet;
  if (!exists(object)) return false;
  return H5Aexists_by_name(hid_t(id_), object.c_str(), key.c_str(), H5P_DEFAULT) > 0;
}
std::string File::attr_string(const std::string& object, const std::string& key) const {
  const QuietErrors quiet;
  Handle a = open_attr(hid_t(id_), path_, object, key);
  Handle ft(H5Aget_type(a), H5Tclose);
  if (H5Tget_class(ft) != H5T_STRING) fail_input(path_, fmt::format("attribute '{}' on '{}' is not a string", key, object));
  if (H5Tis_variable_str(ft) > 0) {
    Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5Tget_cset(ft));
    char* p = nullptr;
    if (H5Aread(a, t, &p) < 0) fail_input(path_, fmt::format("cannot read attribute '{}'", key));
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  std::size_t n = H5Tget_size(ft);
  std::string s(n, '\0');
  if (H5Aread(a, ft, s.data()) < 0) fail_input(path_, fmt::format("cannot read attribute '{}'", key));
  s.resize(std::strlen(s.c_str()));
  return s;
}
double File::attr_double(const std::string& object, const std::string& key) const {
  const QuietErrors quiet;
  Handle a = open_attr(hid_t(id_), path_, object, key);
  double v = 0;
  if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) fail_input(path_, fmt::format("attribute '{}' is not numeric", key));
  return v;
}
std::int64_t File::attr_int(const std::string& object, const std::string& key) const {
  const QuietErrors quiet;
  Handle a = open_attr(hid_t(id_), path_, object, key);
  std::int64_t v = 0;
  if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0) fail_input(path_, fmt::format("attribute '{}' is not an integer", key));
  return v;
}

std::int64_t File::require_format(const std::string& format, std::int64_t max_version, const std::string& what) const {
  const QuietErrors quiet;
  if (!has_attr("/", "format") || attr_string("/", "format") != format)
    fail_input(path_, fmt::format("not a {} (format attribute is not '{}')", what, format));
  const auto version = attr_int("/", "format_version");
  if (version < 1 || version > max_version)
    fail_input(path_, fmt::format("{} format version {} not supported (this rung reads 1..{})", what, version, max_version));
  return version;
}

bool library_is_thread_safe() {
  hbool_t safe = 0;
  return H5is_library_threadsafe(&safe) >= 0 && safe;
}

bool has_hdf5_signature(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  char sig[8] = {};
  f.read(sig, 8);
  return f.gcount() == 8 && std::string(sig, 8) == "\x89HDF\r\n\x1a\n";
}

bool has_format(const std::filesystem::path& path, const std::string& format) {
  const QuietErrors quiet;
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    const auto f = File::open(path);
    return f.has_attr("/", "format") && f.attr_string("/", "format") == format;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace rung::h5
