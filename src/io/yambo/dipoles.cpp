#include "io/yambo/dipoles.hpp"

#include "core/error.hpp"
#include "io/yambo/netcdf.hpp"

#include <fmt/format.h>

namespace rung::yambo {
namespace {

const char* kind_name(DipoleKind k) { return k == DipoleKind::iR ? "iR" : (k == DipoleKind::P ? "P" : "v"); }

// Copies one [iv][ic][xyz][2] block (or the whole single-variable array) into `out` at `offset`.
void append_complex(const std::vector<double>& d, std::vector<std::complex<double>>& out, std::size_t offset) {
  for (std::size_t i = 0; i < d.size() / 2; ++i) out[offset + i] = {d[2 * i], d[2 * i + 1]};
}

}  // namespace

Dipoles read_dipoles(const std::filesystem::path& given) {
  std::filesystem::path path = given;
  if (std::filesystem::is_directory(given)) {
    if (std::filesystem::exists(given / "ndb.dipoles")) path = given / "ndb.dipoles";
    else if (std::filesystem::exists(given / "ndb.dip_iR_and_P")) path = given / "ndb.dip_iR_and_P";
    else fail_input(given, "holds neither ndb.dipoles nor ndb.dip_iR_and_P");
  }
  const auto f = NcFile::open(path);
  Dipoles d;
  d.path = path;
  const bool legacy = path.filename().string().rfind("ndb.dip_iR_and_P", 0) == 0;

  const auto latt = f.read_integral("HEAD_R_LATT", {4});
  if (latt[2] < 1 || latt[2] > (1 << 24)) f.fail_var("HEAD_R_LATT", fmt::format("{} irreducible k-points", latt[2]));
  d.nk = int(latt[2]);
  if (f.has("SPIN_VARS")) {
    const auto sv = f.read_integral("SPIN_VARS");
    if (!sv.empty() && (sv[0] < 1 || sv[0] > 2)) f.fail_var("SPIN_VARS", fmt::format("n_sp_pol = {}", sv[0]));
    if (!sv.empty()) d.n_sp_pol = int(sv[0]);
  }
  const auto pars = f.read_double("PARS");
  if (pars.size() < 9) f.fail_var("PARS", fmt::format("{} entries, expected at least 9", pars.size()));
  auto pint = [&](std::size_t one_based) {
    const double v = pars[one_based - 1];
    if (!(v >= -1e6 && v <= 1e6) || v != std::floor(v))
      f.fail_var("PARS", fmt::format("entry {} = {} is not a plausible integer", one_based, v));
    return int(v);
  };
  const int band_min = pint(1), band_max = pint(2), nbm = pint(3), nbf1 = pint(4);
  d.rl_vectors = pint(7);
  d.vnl_included = pint(8) != 0;
  if (band_min < 1 || band_max < band_min || nbm < band_min || nbm > band_max || nbf1 < 1 || nbf1 > band_max + 1)
    f.fail_var("PARS", fmt::format("band range {}..{} with limits {} / {} is inconsistent", band_min, band_max, nbm, nbf1));
  if (f.has("APPROACH")) d.approach = f.read_text("APPROACH");
  if (f.has("KINDS")) d.kinds = f.read_text("KINDS");

  d.v_first = band_min - 1;
  d.v_last = nbm - 1;
  d.c_last = band_max - 1;
  d.c_first = nbf1 - 1;
  const bool single = f.has("DIP_iR");
  d.layout = single ? "single" : (legacy ? "legacy" : "fragments");

  const std::size_t nsp = std::size_t(d.n_sp_pol), nk = std::size_t(d.nk);
  const std::string stem = path.filename().string();
  auto fragment = [&](std::size_t isp, std::size_t ik) {
    return path.parent_path() / fmt::format("{}_fragment_{}", stem, ik + 1 + isp * nk);
  };
  auto var_name = [](DipoleKind kind, std::size_t isp, std::size_t ik) {
    return fmt::format("DIP_{}_k_{:04d}_spin_{:04d}", kind_name(kind), ik + 1, isp + 1);
  };

  // The stored conduction range decides between ordered (c from nbf+1) and unordered (c from the
  // first band) databases; DIP_iR (always present) fixes it for all kinds.
  {
    const bool have_first = single || std::filesystem::exists(fragment(0, 0));
    if (!have_first) fail_input(fragment(0, 0), "missing dipole fragment (database incomplete)");
    const NcFile first = single ? NcFile::open(path) : NcFile::open(fragment(0, 0));
    const std::string var = single ? "DIP_iR" : var_name(DipoleKind::iR, 0, 0);
    const Shape s = first.shape(var);
    if (s.size() != (single ? 6u : 4u)) first.fail_var(var, "shape " + shape_string(s) + " has the wrong rank");
    const std::size_t nv = s[s.size() - 4], nc = s[s.size() - 3];
    if (int(nv) != d.nv())
      first.fail_var(var, fmt::format("{} valence bands stored, PARS says {} ({}..{})", nv, d.nv(), band_min, nbm));
    if (int(nc) != d.nc()) {
      if (int(nc) == band_max - band_min + 1) d.c_first = d.v_first;
      else first.fail_var(var, fmt::format("{} conduction bands stored, PARS says {}..{}", nc, nbf1, band_max));
    }
  }
  const std::size_t block = std::size_t(d.nv()) * std::size_t(d.nc()) * 3;

  for (DipoleKind kind : {DipoleKind::iR, DipoleKind::P, DipoleKind::v}) {
    auto& out = kind == DipoleKind::iR ? d.iR : (kind == DipoleKind::P ? d.P : d.vel);
    if (single) {
      const std::string var = fmt::format("DIP_{}", kind_name(kind));
      if (!f.has(var)) continue;
      const auto raw = f.read_double(var, {nsp, nk, std::size_t(d.nv()), std::size_t(d.nc()), 3, 2});
      out.resize(raw.size() / 2);
      append_complex(raw, out, 0);
      continue;
    }
    for (std::size_t isp = 0; isp < nsp; ++isp)
      for (std::size_t ik = 0; ik < nk; ++ik) {
        const auto frag = fragment(isp, ik);
        if (!std::filesystem::exists(frag)) fail_missing(frag, "missing dipole fragment (database incomplete)");
        const auto ff = NcFile::open(frag);
        const std::string var = var_name(kind, isp, ik);
        if (!ff.has(var)) {
          if (kind == DipoleKind::iR || !out.empty()) ff.fail_var(var, "missing");
          goto next_kind;  // this kind is not stored at all (e.g. DIP_v in 4.x databases)
        }
        // Appended fragment by fragment (they come in [isp][ik] order): memory grows only with data
        // that exist, whatever nk a corrupted header claims.
        const auto raw = ff.read_double(var, {std::size_t(d.nv()), std::size_t(d.nc()), 3, 2});
        const std::size_t at = out.size();
        if (at != (isp * nk + ik) * block) ff.fail_var(var, "fragment out of sequence");
        out.resize(at + block);
        append_complex(raw, out, at);
      }
  next_kind:;
  }
  if (d.iR.empty()) f.fail_var("DIP_iR", "no position dipoles stored");
  return d;
}

}  // namespace rung::yambo
