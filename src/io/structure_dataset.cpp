#include "io/structure_dataset.hpp"
#include "core/timestamp.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "io/hdf5_file.hpp"

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

}  // namespace

void write_optimate_dataset(const std::filesystem::path& path, const OptimateDataset& data) {
  data.grid.validate();
  std::set<std::string> seen;
  for (const auto& m : data.materials) {
    if (m.id.empty() || m.id.find('/') != std::string::npos || m.id == ".")
      fail(fmt::format("data set: material id '{}' is empty or contains '/'", m.id));
    if (!seen.insert(m.id).second) fail(fmt::format("data set: duplicate material id '{}'", m.id));
    for (const auto* v : {&m.eps_imag_ipa, &m.eps_imag_rpa})
      if (!v->empty() && (v->size() != data.grid.size() || !all_finite(*v)))
        fail(fmt::format("data set: material {} has a spectrum of {} points (grid {}) or non-finite values", m.id,
                         v->size(), data.grid.size()));
    if (m.structure.size() == 0 || m.structure.frac.size() != m.structure.size())
      fail(fmt::format("data set: material {} has no atoms", m.id));
  }
  AtomicOutput out(path);
  {
    auto f = h5::File::create(out.temp_path());
    f.set_attr("/", "format", optimate_dataset_format);
    f.set_attr("/", "format_version", std::int64_t(optimate_dataset_format_version));
    f.set_attr("/", "rung_version", version_string);
    f.set_attr("/", "created", rung::utc_now_iso8601());
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
      if (!m.eps_imag_ipa.empty()) f.write(g + "/eps_imag_ipa", m.eps_imag_ipa);
      if (!m.eps_imag_rpa.empty()) f.write(g + "/eps_imag_rpa", m.eps_imag_rpa);
      if (m.sc_ipa_rpa) f.set_attr(g, "sc_ipa_rpa", *m.sc_ipa_rpa);
      if (m.gap_eV) f.set_attr(g, "gap_eV", *m.gap_eV);
      f.set_attr(g, "provenance", m.provenance.empty() ? std::string("{}") : m.provenance);
    }
    f.flush();
  }
  out.commit();
}

OptimateDataset read_optimate_dataset(const std::filesystem::path& path) {
  auto f = h5::File::open(path);
  f.require_format(optimate_dataset_format, optimate_dataset_format_version, "rung OPTIMATE data set");
  OptimateDataset d;
  d.rung_version = f.has_attr("/", "rung_version") ? f.attr_string("/", "rung_version") : "";
  d.created = f.has_attr("/", "created") ? f.attr_string("/", "created") : "";
  const auto energy = f.read_double("/energy_eV");
  if (energy.size() < 2) fail_input(path, "energy_eV has fewer than 2 points");
  d.grid = {energy.front(), energy.back(), energy.size()};
  for (std::size_t i = 0; i < energy.size(); ++i)
    if (std::abs(energy[i] - d.grid[i]) > 1e-6)
      fail_input(path, "energy_eV is not a uniform grid");
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
    for (auto [name, dst] : {std::pair{"eps_imag_ipa", &m.eps_imag_ipa}, std::pair{"eps_imag_rpa", &m.eps_imag_rpa}}) {
      if (!f.exists(g + "/" + name)) continue;
      *dst = f.read_float(g + "/" + name);
      if (dst->size() != energy.size())
        fail_input(path, fmt::format("{}/{} has {} points, the grid {}", g, name, dst->size(), energy.size()));
      if (!all_finite(*dst)) fail_input(path, fmt::format("{}/{} contains NaN or Inf", g, name));
    }
    if (f.has_attr(g, "sc_ipa_rpa")) {
      m.sc_ipa_rpa = f.attr_double(g, "sc_ipa_rpa");
      if (!std::isfinite(*m.sc_ipa_rpa)) fail_input(path, fmt::format("{}: sc_ipa_rpa is not finite", g));
    }
    if (f.has_attr(g, "gap_eV")) m.gap_eV = f.attr_double(g, "gap_eV");
    if (f.has_attr(g, "provenance")) m.provenance = f.attr_string(g, "provenance");
    d.materials.push_back(std::move(m));
  }
  return d;
}

std::string file_fingerprint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(path, "cannot open");
  std::uint64_t h = 14695981039346656037ull;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

}  // namespace rung
