#include "io/spectra/text.hpp"
#include "io/spectra/file.hpp"

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "core/optical_constants.hpp"
#include "core/text.hpp"
#include "core/units.hpp"
#include "core/version.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace rung {
namespace {

// `complete`: the file must end with a newline. Formats without a footer (QE's epsilon.x, turbo_spectrum.x) show
// a file cut short while it was written only there: its last row would otherwise be read with a number cut.
std::vector<std::string> read_lines(const std::filesystem::path& path, bool complete = false) {
  require_exists(path);
  if (std::filesystem::is_directory(path)) fail_input(path, "is a directory, not a spectrum file");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail_input(path, "cannot be opened for reading");
  std::vector<std::string> lines;
  bool ends_with_newline = true;
  for (std::string line; std::getline(f, line);) {
    if (line.find('\0') != std::string::npos) fail_input(path, "is a binary file, not a text spectrum");
    ends_with_newline = !f.eof();  // getline stopped at a newline, not at the end of the file
    lines.push_back(std::move(line));
  }
  if (complete && !ends_with_newline)
    fail_input(path, "ends inside a line (no final newline): cut short while it was written?");
  return lines;
}

std::vector<std::vector<double>> columns_from_lines(const std::filesystem::path& path,
                                                    const std::vector<std::string>& lines,
                                                    std::size_t min_columns) {
  std::vector<std::vector<double>> cols;
  std::size_t width = 0;
  for (std::size_t ln = 0; ln < lines.size(); ++ln) {
    const std::string t = trim(lines[ln]);
    if (t.empty() || t[0] == '#') continue;
    const auto fields = split_words(t);
    if (width == 0) {
      width = fields.size();
      if (width < min_columns)
        fail_input(path, fmt::format("line {}: {} columns, expected at least {}", ln + 1, width, min_columns));
      cols.assign(width, {});
    } else if (fields.size() != width) {
      fail_input(path, fmt::format("line {}: {} columns where the previous rows have {} (file cut or corrupted?)",
                                   ln + 1, fields.size(), width));
    }
    for (std::size_t j = 0; j < width; ++j) {
      double v = 0;
      if (!parse_number(fields[j], v))
        fail_input(path, fmt::format("line {}, column {}: '{}' is not a finite number", ln + 1, j + 1, fields[j]));
      cols[j].push_back(v);
    }
  }
  if (cols.empty() || cols[0].empty()) fail_input(path, "contains no numeric data rows");
  const auto& e = cols[0];
  for (std::size_t i = 1; i < e.size(); ++i)
    if (!(e[i] > e[i - 1]))
      fail_input(path, fmt::format("energies not strictly increasing at data row {} ({} after {})", i + 1, e[i],
                                   e[i - 1]));
  return cols;
}

std::vector<std::complex<double>> make_complex(const std::vector<double>& re, const std::vector<double>& im) {
  std::vector<std::complex<double>> z(re.size());
  for (std::size_t i = 0; i < re.size(); ++i) z[i] = {re[i], im[i]};
  return z;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// "T-ordered" -> 'T', "Retarded" -> 'R', "Resonant" -> 'r', "Antiresonant" -> 'a'.
char ordering_letter(const std::string& gf) {
  const std::string g = lower(gf);
  if (starts_with(g, "t-ordered") || starts_with(g, "t ordered")) return 'T';
  if (starts_with(g, "retarded")) return 'R';
  if (starts_with(g, "resonant")) return 'r';
  if (starts_with(g, "antiresonant") || starts_with(g, "anti-resonant")) return 'a';
  return 0;
}

// The optical-constant columns rung writes after eps in its YAMBO-layout text (n, k, R, alpha, loss).
constexpr std::size_t optical_columns = 5;

std::string fmt_q(const std::array<double, 3>& q) { return fmt::format("{:.8g} {:.8g} {:.8g}", q[0], q[1], q[2]); }

}  // namespace

std::vector<std::vector<double>> read_numeric_columns(const std::filesystem::path& path, std::size_t min_columns,
                                                      bool complete) {
  return columns_from_lines(path, read_lines(path, complete), min_columns);
}

bool looks_like_yambo_output(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  bool version = false, q = false;
  std::string line;
  for (int n = 0; n < 60 && std::getline(f, line); ++n) {
    if (line.empty() || line[0] != '#') {
      if (!trim(line).empty()) break;  // data started
      continue;
    }
    if (line.find("Version") != std::string::npos || line.find("# rung ") == 0) version = true;
    if (line.find("@ Q(") != std::string::npos) q = true;
  }
  return version && q;
}

YamboOutput read_yambo_output(const std::filesystem::path& path) {
  const auto lines = read_lines(path);
  YamboOutput out;
  auto& h = out.header;
  bool data_started = false;
  std::string last_comment_before_data;
  for (const auto& raw : lines) {
    const std::string t = trim(raw);
    if (t.empty()) continue;
    if (t[0] != '#') {
      data_started = true;
      continue;
    }
    std::string body = trim(t.substr(1));
    if (data_started) {
      // Footer: time stamps "[start]"/"[end]", timing, and the input echo "# | NAME= value # comment".
      if (body.find("[end]") != std::string::npos) h.has_footer = true;
      if (starts_with(body, "|")) {
        std::string item = trim(body.substr(1));
        const auto hash = item.find('#');
        if (hash != std::string::npos) item = trim(item.substr(0, hash));
        const auto eq = item.find('=');
        if (eq != std::string::npos) h.input[trim(item.substr(0, eq))] = trim(item.substr(eq + 1));
      }
      continue;
    }
    if (body.empty()) continue;
    if (starts_with(body, "Version ")) {
      const auto w = split_words(body);
      if (w.size() >= 2) h.version = w[1];
      for (std::size_t i = 0; i + 1 < w.size(); ++i)
        if (w[i] == "Revision") h.revision = w[i + 1];
      continue;
    }
    if (starts_with(body, "rung ") && h.version.empty()) {  // rung's own YAMBO-layout files
      const auto w = split_words(body);
      h.version = "rung " + (w.size() >= 2 ? w[1] : std::string());
      continue;
    }
    if (body.size() > 6 && body.compare(body.size() - 6, 6, " Build") == 0) {
      h.build = body;
      continue;
    }
    const auto at = body.find("@ Q(");
    if (at != std::string::npos) {
      const std::string what = trim(body.substr(0, at));
      if (what == "Absorption") h.observable = "eps";
      else if (what == "Electron Energy Loss") h.observable = "eel";
      else if (what == "Polarizability") h.observable = "alpha";
      else h.observable = what;
      const auto close = body.find("):", at);
      if (close == std::string::npos) fail_input(path, "malformed '@ Q(n):' header line: " + body);
      double qi = 0;
      if (!parse_number(trim(body.substr(at + 4, close - at - 4)), qi) || qi < 0 || qi > 1e9 || qi != std::floor(qi))
        fail_input(path, "malformed '@ Q(n):' header line: " + body);
      h.q_index = int(qi);
      const auto w = split_words(body.substr(close + 2));
      std::array<double, 3> q{};
      if (w.size() < 3) fail_input(path, "malformed '@ Q(n):' header line: " + body);
      for (int i = 0; i < 3; ++i)
        if (!parse_number(w[i], q[i])) fail_input(path, "malformed q vector in header: " + body);
      h.q = q;
      h.q_is_direction = body.find("q->0") != std::string::npos;
      continue;
    }
    const auto colon = body.find(" : ");
    if (colon != std::string::npos || (body.find(':') != std::string::npos && body.find('[') == 0)) {
      const auto c = colon != std::string::npos ? colon : body.find(':');
      const std::string key = trim(body.substr(0, c));
      const std::string value = trim(body.substr(c + (colon != std::string::npos ? 3 : 1)));
      h.fields[key] = value;
      if (key == "[ X ] Hartree size") {
        double v = 0;
        if (!parse_number(value, v) || v < 1 || v > 1e9 || v != std::floor(v))
          fail_input(path, "malformed Hartree size in header: " + value);
        h.hartree_size = int(v);
      } else if (key == "[GEN] Green`s Function" || key == "[GEN] Green's Function") {
        h.green_function = value;
        h.ordering = ordering_letter(value);
      } else if (key == "[GEN] [r,Vnl] included" || (key == "[r,Vnl] included" && !h.vnl_included)) {
        h.vnl_included = value == "yes";
      } else if (key == "[GEN] Gauge") {
        h.gauge = value;
      } else if (key == "[GEN] GF Energies") {
        h.gf_energies = value;
      }
      continue;
    }
    last_comment_before_data = body;  // the column-title line is the last one before the data
  }
  const auto titles = split_words(last_comment_before_data);
  // Titles are "E[1] [eV]  Im(eps) ..." (5.2+) or "E/ev[1]  EPS-Im[2] ..." (older): merge "[eV]" into E.
  for (const auto& w : titles) {
    if (w == "[eV]" && !h.column_titles.empty()) h.column_titles.back() += " [eV]";
    else h.column_titles.push_back(w);
  }
  out.columns = columns_from_lines(path, lines, 3);
  if (!h.has_footer)
    fail_input(path, "ends without YAMBO's closing footer ('# ... [end]'): the file is cut or incomplete");
  const auto steps = h.input.find("ETStpsXd");
  if (steps != h.input.end() && h.input.find("EMStpsXd") == h.input.end()) {
    double n = 0;
    const auto w = split_words(steps->second);
    if (!w.empty() && parse_number(w[0], n) && n >= 1 && n < 1e12 && std::size_t(n) != out.rows())
      fail_input(path, fmt::format("has {} data rows but its input echo says ETStpsXd = {} (file cut?)",
                                   out.rows(), w[0]));
  }
  return out;
}

Spectrum yambo_output_spectrum(const std::filesystem::path& path, const YamboOutput& out) {
  auto c = out.columns;
  const auto& h = out.header;
  // rung's own files carry the five optical constants after the eps columns (write_yambo_text): derived
  // from eps, so the spectrum is the first 3 (IP) or 5 (RPA) columns.
  const bool rung_file = h.version.rfind("rung ", 0) == 0;
  if (rung_file && (c.size() == 3 + optical_columns || c.size() == 5 + optical_columns)) c.resize(c.size() - optical_columns);
  if (c.size() != 3 && c.size() != 5)
    fail_input(path, fmt::format("{} columns; a YAMBO eps/eel file has 3 (IP) or 5 (RPA)", c.size()));
  Spectrum s;
  s.energy_eV = c[0];
  s.eps = make_complex(c[2], c[1]);
  if (c.size() == 5) s.eps_nolf = make_complex(c[4], c[3]);
  s.label = path.string();
  s.metadata["format"] = "yambo";
  s.metadata["observable"] = h.observable;
  if (!h.version.empty()) s.metadata["version"] = h.version;
  if (h.q) s.metadata[h.q_is_direction ? "q_direction" : "q_finite_iku"] = fmt_q(*h.q);  // (a finite q: no direction)
  // (rung's own files name their component: the trace's Q(1) line reads 1 0 0 like x's)
  if (const auto it = h.fields.find("component"); rung_file && it != h.fields.end() && !it->second.empty())
    s.metadata["component"] = it->second;
  if (h.ordering) s.metadata["ordering"] = std::string(1, h.ordering);
  if (!h.green_function.empty()) s.metadata["green_function"] = h.green_function;
  if (h.hartree_size) s.metadata["hartree_size"] = std::to_string(*h.hartree_size);
  if (h.vnl_included) s.metadata["vnl_included"] = *h.vnl_included ? "yes" : "no";
  s.metadata["theory"] = c.size() == 5 ? "rpa" : "ipa";
  s.validate(path.string());
  return s;
}

Spectrum read_yambo_spectrum(const std::filesystem::path& path) {
  return yambo_output_spectrum(path, read_yambo_output(path));
}

std::filesystem::path qe_epsilon_partner(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  if (starts_with(name, "epsr_")) return file.parent_path() / ("epsi" + name.substr(4));
  if (starts_with(name, "epsi_")) return file.parent_path() / ("epsr" + name.substr(4));
  return {};
}

Spectrum read_qe_epsilon(const std::filesystem::path& either_file, const std::string& component) {
  const auto partner = qe_epsilon_partner(either_file);
  if (partner.empty())
    fail_input(either_file, "is not named epsr_*/epsi_* (QE epsilon.x output), cannot find its partner file");
  const bool given_real = starts_with(either_file.filename().string(), "epsr_");
  const auto re_path = given_real ? either_file : partner;
  const auto im_path = given_real ? partner : either_file;
  require_exists(re_path);
  require_exists(im_path);
  const auto re = read_numeric_columns(re_path, 4, true);
  const auto im = read_numeric_columns(im_path, 4, true);
  if (re.size() != 4) fail_input(re_path, fmt::format("{} columns, epsilon.x writes 4 (E, x, y, z)", re.size()));
  if (im.size() != 4) fail_input(im_path, fmt::format("{} columns, epsilon.x writes 4 (E, x, y, z)", im.size()));
  if (re[0].size() != im[0].size())
    fail_input(im_path, fmt::format("{} rows but its partner {} has {}", im[0].size(), re_path.string(), re[0].size()));
  for (std::size_t i = 0; i < re[0].size(); ++i)
    if (std::abs(re[0][i] - im[0][i]) > 1e-6 * std::max(1.0, std::abs(re[0][i])))
      fail_input(im_path, fmt::format("energy grid differs from {} at row {}", re_path.string(), i + 1));
  Spectrum s;
  s.energy_eV = re[0];
  const std::size_t n = re[0].size();
  s.eps.resize(n);
  const std::string c = component.empty() ? "trace" : canonical_component(component);  // q_1_0_0 is x
  if (c == "trace") {
    for (std::size_t i = 0; i < n; ++i)
      s.eps[i] = {(re[1][i] + re[2][i] + re[3][i]) / 3.0, (im[1][i] + im[2][i] + im[3][i]) / 3.0};
  } else if (c == "x" || c == "y" || c == "z") {
    const int j = 1 + (c[0] - 'x');
    for (std::size_t i = 0; i < n; ++i) s.eps[i] = {re[j][i], im[j][i]};
  } else {
    fail_input(either_file, "component '" + component + "' not available (epsilon.x has x, y, z and the trace)");
  }
  s.label = either_file.string();
  s.metadata["format"] = "qe-epsilon";
  s.metadata["component"] = c;
  s.metadata["real_file"] = re_path.string();
  s.metadata["imag_file"] = im_path.string();
  s.validate(either_file.string());
  return s;
}

Spectrum read_turbo_plot_eps(const std::filesystem::path& path) {
  const auto lines = read_lines(path, true);
  // The energy column is in the unit turbo_spectrum.x / turbo_eels.x were asked for (`units`), named in the
  // '#' title: "\hbar \omega(Ry)" (units = 0) or "\hbar \omega(eV)" (units = 1). Anything else (nm, or no
  // title at all) is refused rather than read as eV.
  std::string header, unit;
  for (const auto& line : lines) {
    const std::string t = trim(line);
    if (t.empty()) continue;
    if (t[0] != '#') break;  // data started
    const std::string l = lower(t);
    const auto w = l.find("omega");
    if (w == std::string::npos) continue;
    header = t;
    const auto lp = l.find('(', w);
    const auto rp = lp == std::string::npos ? std::string::npos : l.find(')', lp);
    if (rp != std::string::npos) unit = trim(std::string_view(l).substr(lp + 1, rp - lp - 1));
    break;
  }
  double to_eV = 1.0;
  if (unit == "ry") {
    to_eV = units::Ha_to_eV(units::Ry_to_Ha(1.0));  // 13.605693122994
  } else if (unit != "ev") {
    if (header.empty())
      fail_input(path,
                 "has no '# \\hbar \\omega(<unit>) ...' title line naming the energy unit (turbo_spectrum.x "
                 "writes one for units = 0 (Ry) or 1 (eV); only those are read)");
    fail_input(path, "energy unit of the title '" + header +
                         "' is not Ry or eV (turbo_spectrum.x units = 0 or 1; "
                         "wavelengths are not read)");
  }
  auto c = columns_from_lines(path, lines, 5);
  if (c.size() != 5)
    fail_input(path, fmt::format("{} columns, turbo_spectrum.x plot_eps files have 5", c.size()));
  for (double& e : c[0]) e *= to_eV;
  Spectrum s;
  s.energy_eV = c[0];
  s.eps = make_complex(c[3], c[4]);
  s.label = path.string();
  s.metadata["format"] = "qe-turbo-plot-eps";
  s.validate(path.string());
  return s;
}

void write_yambo_text(const std::filesystem::path& path, const Spectrum& s, const TextSpectrumHeader& header) {
  s.validate(path.string());
  const bool rpa = s.eps_nolf.has_value();
  if (rpa && s.eps_nolf->size() != s.size())
    fail(fmt::format("{}: eps_nolf has {} points, eps {}", path.string(), s.eps_nolf->size(), s.size()));
  std::string t;
  t += fmt::format("# rung {}\n", version_string);
  if (!header.title.empty()) t += fmt::format("# {}\n", header.title);
  t += "#\n";
  const auto q = header.q_direction.value_or(std::array<double, 3>{1, 0, 0});
  t += fmt::format("# Absorption @ Q(1): {:15.8f} {:15.8f} {:15.8f}    [q->0 direction]\n", q[0], q[1], q[2]);
  t += "#\n";
  if (!header.component.empty()) t += fmt::format("# {:<47} : {}\n", "component", header.component);
  if (header.hartree_size) t += fmt::format("# {:<47} : {}\n", "[ X ] Hartree size", *header.hartree_size);
  for (const auto& [k, v] : header.fields) t += fmt::format("# {:<47} : {}\n", k, v);
  if (!header.provenance_json.empty()) {
    std::string one_line = header.provenance_json;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    t += fmt::format("# {:<47} : {}\n", "provenance", one_line);
  }
  t += "#\n";
  // The optical constants of eps follow the eps columns (core/optical_constants.hpp), named in the header.
  t += fmt::format("# {:<47} : {}\n", "optical constants of eps",
                   "n, k = Re, Im sqrt(eps); R = normal-incidence reflectivity; alpha = 2 E k / (hbar c) [cm^-1]; "
                   "loss = -Im(1/eps)");
  t += "#\n";
  t += rpa ? "#    E[1] [eV]          Im(eps)            Re(eps)            Im(eps_o)          Re(eps_o)  "
           : "#    E[1] [eV]          Im(eps)            Re(eps)  ";
  t += "         n                  k                  R                  alpha[cm^-1]       -Im(1/eps)\n";
  t += "#\n";
  const auto oc = optical_constants(s.energy_eV, s.eps);
  static_assert(optical_columns == 5);
  for (std::size_t i = 0; i < s.size(); ++i) {
    t += fmt::format("{:18.8g} {:18.8g} {:18.8g}", s.energy_eV[i], s.eps[i].imag(), s.eps[i].real());
    if (rpa) t += fmt::format(" {:18.8g} {:18.8g}", (*s.eps_nolf)[i].imag(), (*s.eps_nolf)[i].real());
    t += fmt::format(" {:18.8g} {:18.8g} {:18.8g} {:18.8g} {:18.8g}\n", oc.n[i], oc.k[i], oc.reflectivity[i],
                     oc.absorption_cm[i], oc.loss[i]);
  }
  t += "#\n# [end]\n";
  write_text_atomically(path, t);
}

}  // namespace rung
