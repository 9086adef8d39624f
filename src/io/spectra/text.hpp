#pragma once
// Text spectrum formats other codes write, and the YAMBO-layout text file rung writes:
//   YAMBO  o-<job>.eps_q<iq>_* / o-<job>.eel_q<iq>_* (and the paper workflow's epsilon_* files, which
//          are renamed YAMBO eps files): '#' header, columns E [eV], Im, Re (, Im_o, Re_o), '#' footer;
//   QE     epsilon.x epsr_<prefix>.dat / epsi_<prefix>.dat: E [eV], x, y, z (real resp. imaginary part);
//   QE     turbo_spectrum.x <prefix>.plot_eps.dat: E [eV or Ry], Re(1/eps), -Im(1/eps), Re eps, Im eps.
// Every reader validates what it returns (strictly increasing grid, finite numbers, a consistent
// column count) and reports anything else as fail_input naming the file.
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/spectrum.hpp"

namespace rung {

// The '#' header (and footer) of a YAMBO optics output file. Fields absent from a file stay empty.
struct YamboOutputHeader {
  std::string version;                  // "5.2.4" (from "# Version 5.2.4 Revision 22806 ...")
  std::string revision;                 // "22806"
  std::string build;                    // "Serial+HDF5_IO Build"
  std::string observable;               // "eps" (Absorption), "eel" (Electron Energy Loss), "alpha"
  int q_index = 0;                      // the n of "@ Q(n)"
  std::optional<std::array<double, 3>> q;  // as printed: normalised direction at q->0, else iku
  bool q_is_direction = false;          // "[q->0 direction]" (true) or "[iku]" (false)
  std::optional<int> hartree_size;      // "[ X ] Hartree size : 27" (5.2+; absent in 5.0/5.1 files)
  std::string green_function;           // "T-ordered", "Retarded", "Resonant", ...
  char ordering = 0;                    // YAMBO's GrFnTpXd letter derived from it: 'T','R','r','a'; 0 = unknown
  std::optional<bool> vnl_included;     // "[r,Vnl] included : yes/no"
  std::string gauge;                    // "Length" / "Velocity"
  std::string gf_energies;              // "[GEN] GF Energies" (xc functional string)
  std::vector<std::string> column_titles;           // "E[1] [eV]", "Im(eps)", ... or "E/ev[1]", "EPS-Im[2]"...
  std::map<std::string, std::string> fields;        // every "# key : value" line of the header, trimmed
  std::map<std::string, std::string> input;         // footer echo of the input file, "# | NAME= value": name -> value
  bool has_footer = false;                          // the "[end]" time line YAMBO writes after the data
};

struct YamboOutput {
  YamboOutputHeader header;
  std::vector<std::vector<double>> columns;  // columns[j][i]: column j (0 = energy in eV) at row i
  std::size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

// Reads a YAMBO o-file. Checks: at least 3 columns, all rows the same width, finite numbers,
// strictly increasing energies, the closing footer present and, when the footer echoes
// ETStpsXd, that many rows (a file cut in the middle fails here).
YamboOutput read_yambo_output(const std::filesystem::path& path);

// The spectrum of a YAMBO eps/eel file: eps = col3 + i col2; eps_nolf = col5 + i col4 when the file
// has 5 columns (RPA); for an IP file (3 columns) eps is eps_o itself and eps_nolf stays empty. rung's
// own files (8 or 10 columns: the optical constants follow) are read the same way.
// metadata: format=yambo, observable, version, q_direction, ordering, hartree_size, vnl_included; component (rung's own files).
Spectrum yambo_output_spectrum(const std::filesystem::path& path, const YamboOutput& out);
Spectrum read_yambo_spectrum(const std::filesystem::path& path);

// True if the first lines look like a YAMBO optics output (a "# Version" line and an "@ Q(" line).
bool looks_like_yambo_output(const std::filesystem::path& path);

// QE epsilon.x: given epsr_*.dat or epsi_*.dat, finds the partner file beside it (same suffix) and
// returns eps = epsr + i epsi for component "x", "y", "z", or the trace (mean of the three) for ""
// or "trace". The two files must share the energy grid.
Spectrum read_qe_epsilon(const std::filesystem::path& either_file, const std::string& component = "");
// The partner of an epsr_/epsi_ file name (epsr_si.dat <-> epsi_si.dat); empty if the name is neither.
std::filesystem::path qe_epsilon_partner(const std::filesystem::path& file);

// QE turbo_spectrum.x *.plot_eps.dat: eps = Re eps + i Im eps (columns 4, 5). TDDFPT computes one
// q direction, so there is one component. The energy column is in the unit of the '#' title's
// "\omega(<unit>)": eV as is, Ry converted to eV; any other unit (nm) or no such title: fail_input.
Spectrum read_turbo_plot_eps(const std::filesystem::path& path);

// What the YAMBO-layout text writer prints in its '#' header.
struct TextSpectrumHeader {
  std::string title;                                  // first line, e.g. "rung RPA (local fields), trace"
  std::optional<std::array<double, 3>> q_direction;   // printed as YAMBO's "Absorption @ Q(1)" line
  std::string component;                              // "# component : x" (a direction's name, or "trace", whose
                                                      // Q(1) line still reads 1 0 0); read back into the metadata
  std::optional<int> hartree_size;                    // printed as "[ X ] Hartree size"
  std::map<std::string, std::string> fields;          // more "# key : value" lines (parameters)
  std::string provenance_json;                        // one "# provenance : {...}" line (newlines removed)
};

// Writes `s` atomically as YAMBO lays out its eps files: E [eV], Im eps, Re eps and, when
// eps_nolf is present, Im eps_o, Re eps_o; then the optical constants of eps (n, k, R, alpha in cm^-1,
// -Im(1/eps); core/optical_constants.hpp), named in the column-title line; numbers with 8 significant
// digits. rung's own files carry "# rung <version>" instead of YAMBO's banner; read_yambo_output reads
// them back (they end with a "# [end]" footer line, too) and yambo_output_spectrum drops the derived columns.
void write_yambo_text(const std::filesystem::path& path, const Spectrum& s, const TextSpectrumHeader& header);

// The numeric rows of a whitespace-separated text table ('#' lines skipped), as columns.
// Every row must have the same number of fields, all finite numbers (Fortran "1.0D-3" accepted). `complete`: the
// file must end with a newline (a table without a footer, cut short while written, shows it only there).
std::vector<std::vector<double>> read_numeric_columns(const std::filesystem::path& path, std::size_t min_columns,
                                                      bool complete = false);

}  // namespace rung
