// UPF v1 (tagged free text) and v2 (XML-like) pseudopotential reader. A small tag scanner handles both:
// UPF v1 is not XML at all, and many v2 files are not well-formed XML either ('&' and '<' in PP_INFO).
#include "io/qe/upf.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace fs = std::filesystem;

namespace rung::upf {

namespace {

struct Tag {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::size_t body_begin = 0, body_end = 0, end = 0;  // body is [body_begin, body_end); `end` is past the tag
};

class Scanner {
public:
  Scanner(const std::string& text, const fs::path& file) : t_(text), file_(file) {}

  [[noreturn]] void bad(const std::string& what) const { fail_input(file_, what); }

  // Finds <name ...> (name followed by whitespace, '>' or '/') at or after `from`, within [from, limit).
  std::optional<Tag> find(const std::string& name, std::size_t from = 0, std::size_t limit = std::string::npos) const {
    limit = std::min(limit, t_.size());
    const std::string open = "<" + name;
    std::size_t p = from;
    while (true) {
      p = t_.find(open, p);
      if (p == std::string::npos || p >= limit) return std::nullopt;
      const std::size_t after = p + open.size();
      if (after < t_.size()) {
        const char c = t_[after];
        if (std::isspace(static_cast<unsigned char>(c)) || c == '>' || c == '/') break;
      }
      p = after;
    }
    Tag tag;
    tag.name = name;
    // Opening tag ends at the first '>' outside quotes.
    std::size_t q = p + open.size();
    char quote = 0;
    for (; q < t_.size(); ++q) {
      const char c = t_[q];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (q >= t_.size()) bad(fmt::format("unterminated <{}> tag (truncated file?)", name));
    const bool self_closing = q > 0 && t_[q - 1] == '/';
    parse_attrs(std::string_view(t_).substr(p + open.size(), q - (p + open.size()) - (self_closing ? 1 : 0)), tag);
    if (self_closing) {
      tag.body_begin = tag.body_end = q + 1;
      tag.end = q + 1;
      return tag;
    }
    tag.body_begin = q + 1;
    const std::string close = "</" + name;
    std::size_t c = t_.find(close, tag.body_begin);
    while (c != std::string::npos) {
      const std::size_t after = c + close.size();
      if (after < t_.size() && (t_[after] == '>' || std::isspace(static_cast<unsigned char>(t_[after])))) break;
      c = t_.find(close, after);
    }
    if (c == std::string::npos) bad(fmt::format("<{}> is never closed (truncated file?)", name));
    tag.body_end = c;
    const std::size_t gt = t_.find('>', c);
    tag.end = gt == std::string::npos ? t_.size() : gt + 1;
    return tag;
  }

  Tag require(const std::string& name, std::size_t from = 0, std::size_t limit = std::string::npos) const {
    auto t = find(name, from, limit);
    if (!t) bad(fmt::format("missing <{}>", name));
    return *t;
  }

  std::string_view body(const Tag& t) const { return std::string_view(t_).substr(t.body_begin, t.body_end - t.body_begin); }

  // Whitespace-separated numbers (Fortran 'D' exponents accepted).
  std::vector<double> numbers(std::string_view s, const std::string& what, std::size_t max_count = std::string::npos) const {
    std::vector<double> v;
    std::size_t i = 0;
    std::string tok;
    while (i < s.size() && v.size() < max_count) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      tok.assign(s.substr(i, j - i));
      v.push_back(to_double(tok, what));
      i = j;
    }
    return v;
  }

  // UPF v1 <PP_ADDINFO>: `labelled` lines "label n l j occ" (the label dropped), then plain numbers.
  std::vector<double> numbers_after_labels(std::string_view s, const std::string& what, int labelled) const {
    std::vector<double> v;
    std::istringstream in{std::string(s)};
    std::string line;
    int seen = 0;
    while (std::getline(in, line)) {
      const auto tok = split_words(line);
      if (tok.empty()) continue;
      std::size_t first = 0;
      if (seen < labelled) {
        if (tok.size() < 5) bad(fmt::format("<{}>: wavefunction line {} is not 'label n l j occ'", what, seen + 1));
        first = 1;
        ++seen;
      }
      for (std::size_t i = first; i < tok.size(); ++i) v.push_back(to_double(tok[i], what));
    }
    return v;
  }

  // A count or index: an integer-valued number within [lo, hi].
  int to_int(const std::string& tok, const std::string& what, int lo, int hi) const {
    const double d = to_double(tok, what);
    if (!(d >= lo && d <= hi) || d != std::floor(d))
      bad(fmt::format("<{}>: '{}' is not an integer in {}..{}", what, tok.substr(0, 24), lo, hi));
    return int(d);
  }

  double to_double(std::string tok, const std::string& what) const {
    for (char& c : tok)
      if (c == 'D' || c == 'd') c = 'e';
    const char* b = tok.data();
    if (!tok.empty() && tok[0] == '+') ++b;
    double x = 0;
    auto [e, ec] = std::from_chars(b, tok.data() + tok.size(), x);
    if (ec != std::errc() || e != tok.data() + tok.size() || !std::isfinite(x))
      bad(fmt::format("<{}>: '{}' is not a number", what, tok.substr(0, 24)));
    return x;
  }

private:
  void parse_attrs(std::string_view s, Tag& tag) const {
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      std::size_t k = i;
      while (k < s.size() && s[k] != '=' && !std::isspace(static_cast<unsigned char>(s[k]))) ++k;
      std::string key(s.substr(i, k - i));
      while (k < s.size() && std::isspace(static_cast<unsigned char>(s[k]))) ++k;
      if (k >= s.size() || s[k] != '=') {  // attribute without value: skip the word
        i = k;
        continue;
      }
      ++k;
      while (k < s.size() && std::isspace(static_cast<unsigned char>(s[k]))) ++k;
      std::string value;
      if (k < s.size() && (s[k] == '"' || s[k] == '\'')) {
        const char q = s[k];
        const std::size_t e = s.find(q, k + 1);
        if (e == std::string_view::npos) bad(fmt::format("<{}>: unterminated attribute {}", tag.name, key));
        value.assign(s.substr(k + 1, e - k - 1));
        i = e + 1;
      } else {
        std::size_t e = k;
        while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e]))) ++e;
        value.assign(s.substr(k, e - k));
        i = e;
      }
      tag.attrs[lower(key)] = value;
    }
  }

  const std::string& t_;
  const fs::path& file_;
};

bool truthy(const std::string& v) {
  const std::string l = lower(trim(v));
  return l == "t" || l == "true" || l == ".true." || l == "1" || l == "yes";
}

std::string read_text(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) fail_missing(file, "pseudopotential file does not exist");
  if (!fs::is_regular_file(file, ec)) fail_input(file, "pseudopotential path is not a regular file");
  const auto size = fs::file_size(file, ec);
  if (ec) fail_input(file, "cannot read pseudopotential file");
  std::ifstream in(file, std::ios::binary);
  std::string text(size, '\0');
  if (!in || (size > 0 && !in.read(text.data(), std::streamsize(size))))
    fail_input(file, "cannot read pseudopotential file");
  if (text.empty()) fail_input(file, "empty pseudopotential file");
  return text;
}

int version_of(const std::string& text, const Scanner& sc) {
  if (auto upf = sc.find("UPF"); upf) return 2;
  if (text.find("<PP_HEADER>") != std::string::npos || text.find("<PP_HEADER ") != std::string::npos) {
    // A v2-style header (attributes) without the <UPF> root is still v2 for our purposes.
    auto h = sc.find("PP_HEADER");
    if (h && !h->attrs.empty()) return 2;
    return 1;
  }
  sc.bad("not a UPF pseudopotential (no <PP_HEADER>)");
}

qe::PseudoKind kind_from_type(const std::string& type) {
  const std::string t = lower(trim(type));
  if (t == "paw") return qe::PseudoKind::paw;
  if (t == "us" || t == "uspp") return qe::PseudoKind::ultrasoft;
  if (t == "nc" || t == "sl" || t == "1/r") return qe::PseudoKind::norm_conserving;
  return qe::PseudoKind::unknown;
}

struct HeaderInfo {
  int mesh = 0;
  int nbeta = 0;
  int nwfc = -1;  // UPF v1: number of pseudo-wavefunctions (lines of PP_ADDINFO before the projectors)
};

HeaderInfo parse_header(const std::string& text, const Scanner& sc, int version, Pseudopotential& pp) {
  HeaderInfo h;
  const Tag hdr = sc.require("PP_HEADER");
  if (version == 2) {
    auto get = [&](const char* k) -> std::string {
      auto it = hdr.attrs.find(k);
      return it == hdr.attrs.end() ? std::string() : trim(it->second);
    };
    pp.element = get("element");
    pp.functional = get("functional");
    if (get("is_paw") != "" && truthy(get("is_paw"))) pp.kind = qe::PseudoKind::paw;
    else if (get("is_ultrasoft") != "" && truthy(get("is_ultrasoft"))) pp.kind = qe::PseudoKind::ultrasoft;
    else pp.kind = kind_from_type(get("pseudo_type"));
    if (pp.kind == qe::PseudoKind::unknown && get("pseudo_type").empty() && !get("is_ultrasoft").empty())
      pp.kind = qe::PseudoKind::norm_conserving;
    if (auto z = get("z_valence"); !z.empty()) pp.z_valence = sc.to_double(z, "PP_HEADER z_valence");
    pp.relativistic_spin_orbit = truthy(get("has_so"));
    auto to_int = [&](const char* k) {
      const std::string v = get(k);
      if (v.empty()) return -1;
      const double d = sc.to_double(v, std::string("PP_HEADER ") + k);
      if (d < 0 || d > 1e7 || d != std::floor(d)) sc.bad(fmt::format("<PP_HEADER> {}='{}' is not a valid count", k, v));
      return int(d);
    };
    h.mesh = to_int("mesh_size");
    h.nbeta = to_int("number_of_proj");
  } else {
    // Positional v1 header: version, element, type, nlcc, functional, Z valence, etot, cutoffs, lmax,
    // mesh, "nwfc nbeta", ...
    const auto lines = word_lines(sc.body(hdr));
    if (lines.size() < 11) sc.bad("<PP_HEADER> (UPF v1) is too short");
    pp.element = lines[1][0];
    pp.kind = kind_from_type(lines[2][0]);
    std::string func;
    for (std::size_t i = 0; i < std::min<std::size_t>(4, lines[4].size()); ++i) func += (i ? " " : "") + lines[4][i];
    pp.functional = func;
    pp.z_valence = sc.to_double(lines[5][0], "PP_HEADER Z valence");
    const double mesh = sc.to_double(lines[9][0], "PP_HEADER mesh");
    if (lines[10].size() < 2) sc.bad("<PP_HEADER> (UPF v1): no 'nwfc nbeta' line");
    const double nbeta = sc.to_double(lines[10][1], "PP_HEADER nbeta");
    if (mesh < 1 || mesh > 1e7 || nbeta < 0 || nbeta > 1000) sc.bad("<PP_HEADER> (UPF v1): mesh or nbeta out of range");
    h.mesh = int(mesh);
    h.nbeta = int(nbeta);
    const double nwfc = sc.to_double(lines[10][0], "PP_HEADER nwfc");
    if (nwfc < 0 || nwfc > 1000 || nwfc != std::floor(nwfc)) sc.bad("<PP_HEADER> (UPF v1): nwfc out of range");
    h.nwfc = int(nwfc);
    pp.relativistic_spin_orbit = text.find("<PP_ADDINFO>") != std::string::npos;
  }
  if (pp.element.empty()) sc.bad("<PP_HEADER> names no element");
  if (pp.kind == qe::PseudoKind::unknown) sc.bad("<PP_HEADER>: unrecognised pseudopotential type");
  return h;
}

// The total angular momentum j of every projector of a fully relativistic file: UPF v2 <PP_SPIN_ORB> with
// <PP_RELBETA.i lll=".." jjj="..">, UPF v1 <PP_ADDINFO> (nwfc lines "label n l j occ", then nbeta lines "l j").
// Each j must be l ± 1/2 (l = 0: 1/2) and its l must be the projector's.
void read_projector_j(const Scanner& sc, int version, const HeaderInfo& h, Pseudopotential& pp) {
  const std::size_t nb = pp.projectors.size();
  std::vector<std::pair<int, double>> lj;
  if (version == 2) {
    const Tag so = sc.require("PP_SPIN_ORB");
    for (std::size_t ib = 0; ib < nb; ++ib) {
      const std::string name = fmt::format("PP_RELBETA.{}", ib + 1);
      const Tag b = sc.require(name, so.body_begin, so.body_end);
      auto get = [&](const char* k) -> std::string {
        auto it = b.attrs.find(k);
        if (it == b.attrs.end()) sc.bad(fmt::format("<{}> has no {}", name, k));
        return trim(it->second);
      };
      lj.push_back({sc.to_int(get("lll"), name + " lll", 0, 5), sc.to_double(get("jjj"), name + " jjj")});
    }
  } else {
    const Tag add = sc.require("PP_ADDINFO");
    const auto v = sc.numbers_after_labels(sc.body(add), "PP_ADDINFO", h.nwfc);
    if (v.size() < std::size_t(h.nwfc) * 4 + nb * 2)
      sc.bad(
          fmt::format("<PP_ADDINFO> (UPF v1) has too few values for {} wavefunctions and {} projectors", h.nwfc, nb));
    for (std::size_t ib = 0; ib < nb; ++ib) {
      const double l = v[std::size_t(h.nwfc) * 4 + 2 * ib], j = v[std::size_t(h.nwfc) * 4 + 2 * ib + 1];
      if (l != std::floor(l) || l < 0 || l > 5) sc.bad("<PP_ADDINFO> (UPF v1): projector l out of range");
      lj.push_back({int(l), j});
    }
  }
  for (std::size_t ib = 0; ib < nb; ++ib) {
    auto& p = pp.projectors[ib];
    const auto [l, j] = lj[ib];
    if (l != p.l) sc.bad(fmt::format("projector {}: l = {} in the spin-orbit data, {} in PP_BETA", ib + 1, l, p.l));
    const bool ok = std::abs(j - (l + 0.5)) < 1e-6 || (l > 0 && std::abs(j - (l - 0.5)) < 1e-6);
    if (!ok) sc.bad(fmt::format("projector {}: j = {} is not l ± 1/2 for l = {}", ib + 1, j, l));
    p.j = std::round(2 * j) / 2;
  }
}

}  // namespace

Pseudopotential Pseudopotential::read_header(const fs::path& file) { return parse(read_text(file), file, true); }

Pseudopotential Pseudopotential::read(const fs::path& file) { return parse(read_text(file), file, false); }

Pseudopotential Pseudopotential::parse(const std::string& text, const fs::path& file, bool header_only) {
  if (text.empty()) fail_input(file, "empty pseudopotential file");
  Scanner sc(text, file);
  Pseudopotential pp;
  pp.file = file;
  const int version = version_of(text, sc);
  const HeaderInfo h = parse_header(text, sc, version, pp);
  if (header_only) return pp;

  // Radial mesh.
  const Tag mesh = sc.require("PP_MESH");
  const Tag r = sc.require("PP_R", mesh.body_begin, mesh.body_end);
  const Tag rab = sc.require("PP_RAB", mesh.body_begin, mesh.body_end);
  pp.r = sc.numbers(sc.body(r), "PP_R");
  pp.rab = sc.numbers(sc.body(rab), "PP_RAB");
  if (pp.r.empty()) sc.bad("<PP_R> is empty");
  if (h.mesh > 0 && int(pp.r.size()) < h.mesh)
    sc.bad(fmt::format("<PP_R> has {} points, the header says {}", pp.r.size(), h.mesh));
  if (h.mesh > 0) pp.r.resize(std::size_t(h.mesh));
  if (pp.rab.size() < pp.r.size()) sc.bad(fmt::format("<PP_RAB> has {} points, expected {}", pp.rab.size(), pp.r.size()));
  pp.rab.resize(pp.r.size());
  const std::size_t n = pp.r.size();

  if (h.nbeta == 0) return pp;  // local-only pseudopotential
  const Tag nl = sc.require("PP_NONLOCAL");
  std::size_t from = nl.body_begin;
  for (int ib = 0; ib < h.nbeta; ++ib) {
    Projector p;
    if (version == 2) {
      const std::string name = fmt::format("PP_BETA.{}", ib + 1);
      const Tag b = sc.require(name, nl.body_begin, nl.body_end);
      auto get = [&](const char* k) -> std::string {
        auto it = b.attrs.find(k);
        return it == b.attrs.end() ? std::string() : trim(it->second);
      };
      const std::string l = get("angular_momentum");
      if (l.empty()) sc.bad(fmt::format("<{}> has no angular_momentum", name));
      p.l = sc.to_int(l, name + " angular_momentum", 0, 5);
      const std::string ci = get("cutoff_radius_index");
      auto values = sc.numbers(sc.body(b), name);
      p.cutoff_index = ci.empty() ? int(n) : sc.to_int(ci, name + " cutoff_radius_index", 0, int(n));
      if (p.cutoff_index <= 0) p.cutoff_index = int(std::min(values.size(), n));
      if (p.cutoff_index > int(n) || std::size_t(p.cutoff_index) > values.size())
        sc.bad(fmt::format("<{}>: cutoff index {} beyond the {} values", name, p.cutoff_index, values.size()));
      values.resize(std::size_t(p.cutoff_index));
      p.rbeta = std::move(values);
    } else {
      const Tag b = sc.require("PP_BETA", from, nl.body_end);
      from = b.end;
      // "i l  Beta L" / kkbeta / kkbeta values / (optional rcut, rcutus)
      std::istringstream in{std::string(sc.body(b))};
      std::string line;
      std::vector<std::string> first, second;
      auto next_tokens = [&](std::vector<std::string>& tok) {
        while (std::getline(in, line)) {
          tok = split_words(line);
          if (!tok.empty()) return true;
        }
        return false;
      };
      if (!next_tokens(first) || first.size() < 2 || !next_tokens(second))
        sc.bad(fmt::format("<PP_BETA> #{} (UPF v1) has no 'index l' and size lines", ib + 1));
      p.l = sc.to_int(first[1], "PP_BETA l", 0, 5);
      p.cutoff_index = sc.to_int(second[0], "PP_BETA kkbeta", 1, int(n));
      std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      p.rbeta = sc.numbers(rest, "PP_BETA", std::size_t(p.cutoff_index));
      if (int(p.rbeta.size()) != p.cutoff_index)
        sc.bad(fmt::format("<PP_BETA> #{}: {} values, expected {}", ib + 1, p.rbeta.size(), p.cutoff_index));
    }
    if (p.l < 0 || p.l > 5) sc.bad(fmt::format("projector {}: angular momentum {} out of range", ib + 1, p.l));
    pp.projectors.push_back(std::move(p));
  }

  const std::size_t nb = std::size_t(h.nbeta);
  pp.dij.assign(nb * nb, 0.0);
  const Tag dij = sc.require("PP_DIJ", nl.body_begin, nl.body_end);
  if (version == 2) {
    const auto v = sc.numbers(sc.body(dij), "PP_DIJ");
    if (v.size() != nb * nb) sc.bad(fmt::format("<PP_DIJ> has {} values, expected {}", v.size(), nb * nb));
    pp.dij = v;
  } else {
    // "nnz   Number of nonzero Dij" then nnz lines "i j D".
    const auto rows = word_lines(sc.body(dij));
    if (rows.empty()) sc.bad("<PP_DIJ> is empty");
    const double nnz = sc.to_double(rows[0][0], "PP_DIJ count");
    if (nnz < 0 || nnz > double(nb * nb) || nnz != std::floor(nnz) || rows.size() < 1 + std::size_t(nnz))
      sc.bad(fmt::format("<PP_DIJ> (UPF v1): announces {} entries, has {} lines", nnz, rows.size() - 1));
    for (std::size_t t = 0; t < std::size_t(nnz); ++t) {
      const auto& r = rows[1 + t];
      if (r.size() < 3) sc.bad(fmt::format("<PP_DIJ> (UPF v1): line {} is not 'i j D'", t + 2));
      const double i = sc.to_double(r[0], "PP_DIJ i"), j = sc.to_double(r[1], "PP_DIJ j");
      if (i < 1 || j < 1 || i > double(nb) || j > double(nb) || i != std::floor(i) || j != std::floor(j))
        sc.bad(fmt::format("<PP_DIJ> (UPF v1): index pair ({}, {}) out of range", i, j));
      const std::size_t a = std::size_t(i) - 1, b = std::size_t(j) - 1;
      pp.dij[a * nb + b] = pp.dij[b * nb + a] = sc.to_double(r[2], "PP_DIJ value");
    }
  }
  if (pp.relativistic_spin_orbit) read_projector_j(sc, version, h, pp);
  return pp;
}

}  // namespace rung::upf
