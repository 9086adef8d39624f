#include "io/yambo/netcdf.hpp"

#include "core/error.hpp"
#include "io/hdf5_errors.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <fmt/format.h>
#include <netcdf.h>

namespace rung::yambo {
namespace {

// A declared variable may not be larger than this many times the file (YAMBO databases are not
// compressed), so a corrupted header cannot make us allocate gigabytes; 1 MiB slack for tiny files.
constexpr std::uintmax_t max_expansion = 64;
constexpr std::uintmax_t slack_bytes = 1u << 20;

// netCDF-C allocates whatever a classic (CDF-1/2/5) header declares — names, attribute arrays,
// dimension lists — before checking it against the file, so a corrupted header can make nc_open
// allocate gigabytes (found by fuzz_netcdf). Walk the header first (format: netCDF classic spec)
// and refuse any count or length that does not fit in the bytes that are left.
class ClassicHeaderCheck {
public:
  // `bytes`: the start of a file of `file_size` bytes, or all of it. When it is only the start, running past it is
  // not an error (the rest of the header goes unchecked), but a count is still checked against what the whole file
  // could hold, and a header that ends inside it has its variables' extents checked against the whole file.
  ClassicHeaderCheck(const std::string& bytes, int version, std::uint64_t file_size)
      : b_(bytes), wide_(version == 5), off64_(version >= 2), partial_(bytes.size() < file_size), size_(file_size) {}

  // Returns an empty string when the header is consistent, else what is wrong. A file cut short is one: netCDF-C
  // reads a classic file's missing bytes as zeros, so every variable's data must lie inside the file.
  std::string run() {
    try {
      pos_ = 4;
      const std::uint64_t numrecs = count();  // (or STREAMING)
      std::vector<std::uint64_t> dim_len;
      list(0x0A, [&] {
        name();
        dim_len.push_back(count());
      });  // dimensions (0: the record one)
      ndims_ = last_list_size_;
      list(0x0C, [&] { attribute(); });                                         // global attributes
      struct Var {
        bool record = false;
        std::uint64_t bytes = 0, begin = 0;  // fixed: all of it; record: one record's
      };
      std::vector<Var> vars;
      list(0x0B, [&] {  // variables
        name();
        const std::uint64_t nd = count();
        need(nd, wide_ ? 8 : 4);
        Var v;
        v.bytes = 1;
        for (std::uint64_t i = 0; i < nd; ++i) {
          const std::uint64_t d = count();
          if (d >= ndims_) throw std::string("variable refers to an undefined dimension");
          if (i == 0 && dim_len[d] == 0) v.record = true;
          else
            v.bytes = dim_len[d] != 0 && v.bytes > (std::uint64_t(1) << 62) / dim_len[d] ? (std::uint64_t(1) << 62)
                                                                                         : v.bytes * dim_len[d];
        }
        list(0x0C, [&] { attribute(); });
        v.bytes *= std::uint64_t(size_of[type()]);
        count();  // vsize (rounded up to 4 bytes, or clipped for a huge variable: the size is computed instead)
        v.begin = be(off64_ ? 8 : 4);
        vars.push_back(v);
      });
      // one record holds every record variable's slab, each padded to 4 bytes unless it is the only one
      std::uint64_t record_size = 0, n_record_vars = 0;
      for (const auto& v : vars)
        if (v.record) record_size += (v.bytes + 3) / 4 * 4, ++n_record_vars;
      if (n_record_vars == 1)
        for (const auto& v : vars)
          if (v.record) record_size = v.bytes;
      const bool streaming = numrecs == (wide_ ? ~std::uint64_t(0) : 0xFFFFFFFFull);
      for (const auto& v : vars) {
        std::uint64_t end = v.begin + v.bytes;
        if (v.record) end = numrecs == 0 || streaming ? v.begin : v.begin + (numrecs - 1) * record_size + v.bytes;
        if (end > size_)
          throw fmt::format("the file is cut short: a variable's data end at byte {}, the file has {}", end, size_);
      }
    } catch (const std::string& what) {
      return what;
    }
    return {};
  }

private:
  std::uint64_t be(std::size_t n) {
    if (pos_ + n > b_.size()) throw partial_ ? std::string() : std::string("header runs past the end of the file");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_ + i]);
    pos_ += n;
    return v;
  }
  std::uint64_t count() { return be(wide_ ? 8 : 4); }
  void need(std::uint64_t n, std::uint64_t each) {
    if (n > (size_ - std::min<std::uint64_t>(pos_, size_)) / each)
      throw std::string("header declares ") + std::to_string(n) + " items, more than the file holds";
  }
  void name() {
    const std::uint64_t n = count();
    need(n, 1);
    if (n == 0 || n > 256) throw std::string("invalid name length ") + std::to_string(n);
    pos_ += (n + 3) / 4 * 4;
    if (pos_ > b_.size()) throw partial_ ? std::string() : std::string("header ends inside a name");
  }
  static constexpr int size_of[] = {0, 1, 1, 2, 4, 4, 8, 1, 2, 4, 8, 8};
  int type() {
    const auto t = be(4);
    if (t < 1 || t > (wide_ ? 11u : 6u)) throw std::string("invalid type code ") + std::to_string(t);
    return int(t);
  }
  void attribute() {
    name();
    const int t = type();
    const std::uint64_t n = count();
    need(n, std::uint64_t(size_of[t]));
    pos_ += (n * std::uint64_t(size_of[t]) + 3) / 4 * 4;
    if (pos_ > b_.size()) throw partial_ ? std::string() : std::string("header ends inside an attribute");
  }
  template <class F>
  void list(std::uint64_t tag, F&& item) {
    const std::uint64_t t = be(4);
    const std::uint64_t n = count();
    last_list_size_ = 0;
    if (t == 0 && n == 0) return;  // ABSENT
    if (t != tag) throw std::string("unexpected list tag ") + std::to_string(t);
    need(n, 8);  // every item takes at least 8 bytes
    last_list_size_ = n;
    for (std::uint64_t i = 0; i < n; ++i) item();
  }

  const std::string& b_;
  bool wide_, off64_, partial_;
  std::uint64_t size_;  // the bytes a count may claim: the whole file's
  std::size_t pos_ = 0;
  std::uint64_t ndims_ = 0, last_list_size_ = 0;
};

}  // namespace

std::string shape_string(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

NcFile NcFile::open(const std::filesystem::path& path) {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  require_exists(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail_input(path, "is not a regular file");
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec) fail_input(path, "cannot determine the file size");
  if (bytes < 4) fail_input(path, "is empty or truncated (not a netCDF file)");
  {
    std::ifstream in(path, std::ios::binary);
    std::string head(4, '\0');
    in.read(head.data(), 4);
    if (head.compare(0, 3, "CDF") == 0 && (head[3] == 1 || head[3] == 2 || head[3] == 5)) {
      // YAMBO's classic headers are a few kB; the first 4 MiB hold any realistic header.
      in.seekg(0);
      constexpr std::uintmax_t window = 4u << 20;
      std::string all(static_cast<std::size_t>(std::min(bytes, window)), '\0');
      in.read(all.data(), std::streamsize(all.size()));
      const std::string problem = ClassicHeaderCheck(all, head[3], bytes).run();
      if (!problem.empty()) fail_input(path, "corrupted classic netCDF header: " + problem);
    }
  }
  int id = -1;
  const int rc = nc_open(path.c_str(), NC_NOWRITE, &id);
  if (rc != NC_NOERR)
    fail_input(path, fmt::format("cannot open as netCDF ({}): not a YAMBO database, or truncated/corrupted",
                                 nc_strerror(rc)));
  NcFile f(path, id);
  f.file_bytes_ = bytes;
  return f;
}

NcFile::NcFile(NcFile&& o) noexcept : path_(std::move(o.path_)), id_(o.id_), file_bytes_(o.file_bytes_) {
  o.id_ = -1;
}
NcFile& NcFile::operator=(NcFile&& o) noexcept {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  if (this != &o) {
    if (id_ >= 0) nc_close(id_);
    path_ = std::move(o.path_);
    id_ = o.id_;
    file_bytes_ = o.file_bytes_;
    o.id_ = -1;
  }
  return *this;
}
NcFile::~NcFile() {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  if (id_ >= 0) nc_close(id_);
}

void NcFile::fail_var(const std::string& var, const std::string& what) const {
  fail_input(path_, fmt::format("variable '{}': {}", var, what));
}

std::string NcFile::format() const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  int fmt_ = 0;
  nc_inq_format(id_, &fmt_);
  switch (fmt_) {
    case NC_FORMAT_CLASSIC: return "classic";
    case NC_FORMAT_64BIT_OFFSET: return "64-bit offset";
    case NC_FORMAT_CDF5: return "CDF-5";
    case NC_FORMAT_NETCDF4: return "netCDF-4";
    case NC_FORMAT_NETCDF4_CLASSIC: return "netCDF-4 classic model";
    default: return "unknown";
  }
}

std::vector<std::string> NcFile::variables() const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  int n = 0;
  if (nc_inq_nvars(id_, &n) != NC_NOERR) fail_input(path_, "cannot list variables (corrupted file?)");
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    char name[NC_MAX_NAME + 1] = {};
    if (nc_inq_varname(id_, i, name) == NC_NOERR) names.emplace_back(name);
  }
  return names;
}

int NcFile::varid(const std::string& var) const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  int v = -1;
  const int rc = nc_inq_varid(id_, var.c_str(), &v);
  if (rc == NC_ENOTVAR) fail_var(var, "missing (not a database of the expected kind or version?)");
  if (rc != NC_NOERR) fail_var(var, fmt::format("cannot be inquired ({})", nc_strerror(rc)));
  return v;
}

bool NcFile::has(const std::string& var) const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  int v = -1;
  return nc_inq_varid(id_, var.c_str(), &v) == NC_NOERR;
}

Shape NcFile::shape(const std::string& var) const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  const int v = varid(var);
  int nd = 0;
  if (nc_inq_varndims(id_, v, &nd) != NC_NOERR || nd < 0 || nd > NC_MAX_VAR_DIMS) fail_var(var, "corrupted dimensions");
  std::vector<int> dimids(std::size_t(nd) + 1);
  if (nc_inq_vardimid(id_, v, dimids.data()) != NC_NOERR) fail_var(var, "corrupted dimensions");
  Shape s(std::size_t(nd), 0);
  for (int i = 0; i < nd; ++i) {
    std::size_t len = 0;
    if (nc_inq_dimlen(id_, dimids[std::size_t(i)], &len) != NC_NOERR) fail_var(var, "corrupted dimension length");
    s[std::size_t(i)] = len;
  }
  return s;
}

std::uintmax_t NcFile::max_data_bytes() const { return max_expansion * file_bytes_ + slack_bytes; }

std::size_t NcFile::size(const std::string& var) const {
  const Shape s = shape(var);
  std::uintmax_t n = 1;
  for (auto d : s) {
    if (d != 0 && n > (std::uintmax_t(1) << 40) / d) fail_var(var, "declared size " + shape_string(s) + " is absurd");
    n *= d;
  }
  return std::size_t(n);
}

void NcFile::check_shape(const std::string& var, const Shape& got, const Shape& expected) const {
  if (!expected.empty() && got != expected)
    fail_var(var, fmt::format("shape {} where {} was expected", shape_string(got), shape_string(expected)));
}

std::vector<double> NcFile::read_double(const std::string& var, const Shape& expected, bool allow_nonfinite) const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  const int v = varid(var);
  check_shape(var, shape(var), expected);
  const std::size_t n = size(var);
  nc_type t{};
  if (nc_inq_vartype(id_, v, &t) != NC_NOERR) fail_var(var, "cannot read its type");
  if (t == NC_CHAR || t == NC_STRING || t > NC_MAX_ATOMIC_TYPE) fail_var(var, "is not numeric");
  if (std::uintmax_t(n) * sizeof(float) > max_data_bytes())
    fail_var(var, fmt::format("declares {} values, more than a {}-byte file can hold (corrupted header?)", n,
                              file_bytes_));
  std::vector<double> out(n);
  if (n == 0) return out;
  const int rc = nc_get_var_double(id_, v, out.data());
  if (rc != NC_NOERR) fail_var(var, fmt::format("cannot be read ({}): truncated or corrupted file?", nc_strerror(rc)));
  for (std::size_t i = 0; i < n && !allow_nonfinite; ++i)
    if (!std::isfinite(out[i])) fail_var(var, fmt::format("non-finite value at flat index {}", i));
  return out;
}

std::vector<float> NcFile::read_float(const std::string& var, const Shape& expected) const {
  const auto d = read_double(var, expected);
  return std::vector<float>(d.begin(), d.end());
}

std::vector<long long> NcFile::read_integral(const std::string& var, const Shape& expected) const {
  const auto d = read_double(var, expected);
  std::vector<long long> out(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double r = std::round(d[i]);
    // Integers YAMBO stores as floats are exact (every float above 2^24 is an integer): only rounding noise passes.
    if (std::abs(d[i] - r) > 1e-6 * std::max(1.0, std::abs(r)) || std::abs(r) > 9.0e15)
      fail_var(var, fmt::format("value {} at index {} should be an integer", d[i], i));
    out[i] = static_cast<long long>(r);
  }
  return out;
}

std::string NcFile::read_text(const std::string& var) const {
  const h5::QuietErrors quiet;  // netCDF-4 runs on HDF5 (io/hdf5_errors.hpp)
  const int v = varid(var);
  nc_type t{};
  if (nc_inq_vartype(id_, v, &t) != NC_NOERR || t != NC_CHAR) fail_var(var, "is not a character variable");
  const std::size_t n = size(var);
  if (n > max_expansion * file_bytes_ + slack_bytes) fail_var(var, "declared size is absurd (corrupted header?)");
  std::string s(n, '\0');
  if (n && nc_get_var_text(id_, v, s.data()) != NC_NOERR) fail_var(var, "cannot be read (truncated file?)");
  const auto end = s.find_last_not_of(std::string(" \0", 2));
  s = end == std::string::npos ? std::string() : s.substr(0, end + 1);
  const auto nul = s.find('\0');
  if (nul != std::string::npos) s.resize(nul);
  return s;
}

}  // namespace rung::yambo
