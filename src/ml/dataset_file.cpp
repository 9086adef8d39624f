#include "ml/dataset_file.hpp"
#include "core/timestamp.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <set>

namespace rung {
namespace {

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

constexpr const char* spectrum_names[] = {"eps_imag_ipa", "eps_imag_rpa", "eps_imag_ipa_xyz", "eps_imag_rpa_xyz",
                                          "eps_imag_lite"};

std::vector<float>* spectrum_field(DatasetMaterial& m, int i) {
  std::vector<float>* f[] = {&m.eps_imag_ipa, &m.eps_imag_rpa, &m.eps_imag_ipa_xyz, &m.eps_imag_rpa_xyz,
                             &m.eps_imag_lite};
  return f[i];
}
const std::vector<float>& spectrum_field(const DatasetMaterial& m, int i) {
  return *spectrum_field(const_cast<DatasetMaterial&>(m), i);
}
bool is_xyz(int i) { return i == 2 || i == 3; }

}  // namespace

std::vector<float> ScaledSpectrum::decode() const {
  std::vector<float> v(stored.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(offset + scale * double(stored[i]));
  return v;
}

ScaledSpectrum encode_spectrum(const std::vector<float>& values) {
  ScaledSpectrum s;
  if (values.empty()) return s;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.offset = *lo;
  s.scale = (double(*hi) - double(*lo)) / 65535.0;
  s.stored.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    s.stored[i] = s.scale > 0 ? static_cast<std::uint16_t>(std::lround((double(values[i]) - s.offset) / s.scale)) : 0;
  return s;
}

void write_optimate_dataset(const std::filesystem::path& path, const OptimateDataset& data) {
  data.grid.validate();
  std::set<std::string> seen;
  for (const auto& m : data.materials) {
    if (m.id.empty() || m.id.find('/') != std::string::npos || m.id == ".")
      fail(fmt::format("data set: material id '{}' is empty or contains '/'", m.id));
    if (!seen.insert(m.id).second) fail(fmt::format("data set: duplicate material id '{}'", m.id));
    for (int i = 0; i < 5; ++i) {
      const auto& v = spectrum_field(m, i);
      const std::size_t want = (is_xyz(i) ? 3 : 1) * data.grid.size();
      if (!v.empty() && (v.size() != want || !all_finite(v)))
        fail(fmt::format("data set: material {} has a {} of {} values ({} expected) or non-finite values", m.id,
                         spectrum_names[i], v.size(), want));
    }
    m.structure.validate(fmt::format("data set material {}", m.id));
    if ((m.gap_eV && !std::isfinite(*m.gap_eV)) || (m.sc_ipa_rpa && !std::isfinite(*m.sc_ipa_rpa)))
      fail(fmt::format("data set: material {} has a non-finite gap or SC(IPA, RPA)", m.id));
  }
  AtomicOutput out(path);
  {
    auto f = h5::File::create(out.temp_path());
    f.set_attr("/", "format", optimate_dataset_format);
    f.set_attr("/", "format_version", std::int64_t(optimate_dataset_format_version));
    f.set_attr("/", "rung_version", version_string);
    f.set_attr("/", "created", rung::utc_now_iso8601());
    if (!data.provenance.empty()) f.set_attr("/", "provenance", data.provenance);
    f.write("/energy_eV", data.grid.values_eV());
    f.create_group("/materials");
    for (const auto& m : data.materials) {
      const std::string g = "/materials/" + m.id;
      f.create_group(g);
      std::vector<double> lat(9), frac;
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) lat[r * 3 + c] = units::Bohr_to_Ang(m.structure.lattice(r, c));
      for (const auto& x : m.structure.frac) frac.insert(frac.end(), {x[0], x[1], x[2]});
      f.write(g + "/lattice_angstrom", lat, {3, 3});
      f.write(g + "/frac_coords", frac, {m.structure.size(), 3});
      f.write(g + "/numbers", std::vector<std::int32_t>(m.structure.numbers.begin(), m.structure.numbers.end()));
      for (int i = 0; i < 5; ++i) {
        const auto& v = spectrum_field(m, i);
        if (v.empty()) continue;
        const std::string name = g + "/" + spectrum_names[i];
        const ScaledSpectrum e = encode_spectrum(v);
        f.write(name, e.stored, is_xyz(i) ? h5::Dims{3, data.grid.size()} : h5::Dims{}, true);
        f.set_attr(name, "offset", e.offset);
        f.set_attr(name, "scale", e.scale);
        f.set_attr(name, "fidelity", std::string(i == 4 ? "lite" : "full"));
      }
      if (m.sc_ipa_rpa) f.set_attr(g, "sc_ipa_rpa", *m.sc_ipa_rpa);
      if (m.gap_eV) f.set_attr(g, "gap_eV", *m.gap_eV);
      f.set_attr(g, "provenance", m.provenance.empty() ? std::string("{}") : m.provenance);
    }
    f.close();  // a write error shows here, before the commit
  }
  out.commit();
}

EnergyGrid uniform_energy_grid(const std::vector<double>& energy, const std::filesystem::path& file) {
  if (energy.size() < 2) fail_input(file, "energy_eV has fewer than 2 points");
  const EnergyGrid grid = {energy.front(), energy.back(), energy.size()};
  for (std::size_t i = 0; i < energy.size(); ++i)
    if (!(std::abs(energy[i] - grid[i]) <= 1e-6))  // NaN included
      fail_input(file, "energy_eV is not a uniform grid");
  return grid;
}

OptimateDataset read_optimate_dataset(const std::filesystem::path& path) {
  auto f = h5::File::open(path);
  const auto version = f.require_format(optimate_dataset_format, optimate_dataset_format_version, "rung OPTIMATE data set");
  OptimateDataset d;
  d.format_version = static_cast<int>(version);
  d.rung_version = f.has_attr("/", "rung_version") ? f.attr_string("/", "rung_version") : "";
  d.created = f.has_attr("/", "created") ? f.attr_string("/", "created") : "";
  d.provenance = f.has_attr("/", "provenance") ? f.attr_string("/", "provenance") : "";
  const auto energy = f.read_double("/energy_eV");
  d.grid = uniform_energy_grid(energy, path);
  if (!f.exists("/materials")) fail_input(path, "no /materials group");
  for (const std::string& id : f.list("/materials")) {
    const std::string g = "/materials/" + id;
    DatasetMaterial m;
    m.id = id;
    h5::Dims dl, df;
    const auto lat = f.read_double(g + "/lattice_angstrom", &dl);
    const auto frac = f.read_double(g + "/frac_coords", &df);
    const auto z = f.read_int(g + "/numbers");
    if (lat.size() != 9) fail_input(path, fmt::format("{}: lattice_angstrom is not 3x3", g));
    if (df.size() != 2 || df[1] != 3 || df[0] != z.size())
      fail_input(path, fmt::format("{}: frac_coords shape does not match {} atoms", g, z.size()));
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) m.structure.lattice(r, c) = units::Ang_to_Bohr(lat[r * 3 + c]);
    for (std::size_t i = 0; i < z.size(); ++i) {
      m.structure.frac.emplace_back(frac[3 * i], frac[3 * i + 1], frac[3 * i + 2]);
      m.structure.numbers.push_back(int(z[i]));
    }
    m.structure.id = id;
    m.structure.validate(fmt::format("{} (material {})", path.string(), id));
    for (int i = 0; i < 5; ++i) {
      const std::string name = g + "/" + spectrum_names[i];
      if (!f.exists(name)) continue;
      auto* dst = spectrum_field(m, i);
      if (version >= 2) {
        if (!f.has_attr(name, "scale") || !f.has_attr(name, "offset"))
          fail_input(path, fmt::format("{} lacks its scale/offset attributes", name));
        ScaledSpectrum e;
        const auto q = f.read_int(name);
        for (const std::int64_t v : q)
          if (v < 0 || v > 65535)
            fail_input(path, fmt::format("{} holds {}, outside the 16-bit range 0..65535 of its encoding", name, v));
        e.stored.assign(q.begin(), q.end());
        e.offset = f.attr_double(name, "offset");
        e.scale = f.attr_double(name, "scale");
        *dst = e.decode();
      } else {
        *dst = f.read_float(name);
      }
      const std::size_t want = (is_xyz(i) ? 3 : 1) * energy.size();
      if (dst->size() != want)
        fail_input(path, fmt::format("{} has {} values, {} expected for the grid", name, dst->size(), want));
      if (!all_finite(*dst)) fail_input(path, fmt::format("{} contains NaN or Inf", name));
    }
    if (f.has_attr(g, "sc_ipa_rpa")) {
      m.sc_ipa_rpa = f.attr_double(g, "sc_ipa_rpa");
      if (!std::isfinite(*m.sc_ipa_rpa)) fail_input(path, fmt::format("{}: sc_ipa_rpa is not finite", g));
    }
    if (f.has_attr(g, "gap_eV")) {
      m.gap_eV = f.attr_double(g, "gap_eV");
      if (!std::isfinite(*m.gap_eV)) fail_input(path, fmt::format("{}: gap_eV is not finite", g));
    }
    if (f.has_attr(g, "provenance")) m.provenance = f.attr_string(g, "provenance");
    d.materials.push_back(std::move(m));
  }
  return d;
}

std::string file_fingerprint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(path, "cannot open");
  std::uint64_t h = fnv1a_offset_basis;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h = fnv1a(std::string_view(buf, std::size_t(in.gcount())), h);
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

}  // namespace rung
