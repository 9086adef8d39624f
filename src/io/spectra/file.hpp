#pragma once
// rung's own HDF5 spectrum file (format "rung-spectrum", version 1), written by the native solvers
// and the ML predictor, read by `rung compare` and the selection code. Layout:
//
//   /                  attrs: format = "rung-spectrum", format_version = 1, rung_version,
//                             created (UTC ISO 8601), theory ("ipa" | "rpa"),
//                             provenance (JSON string: command line, inputs, parameters, timings)
//   /energy_eV         [n] float64
//   /<component>/eps       [n] complex (compound {r,i}, as rung::h5 writes it)
//   /<component>/eps_nolf  [n] complex (RPA only: eps without local fields)
//   /<component>       attrs: q_direction ("qx qy qz" as a string), description
//   /<component>/optical/{n,k,reflectivity,absorption_cm,loss}  [n] float64: the optical constants of eps
//                      (core/optical_constants.hpp; absorption_cm carries attr unit = "cm^-1"). Derived
//                      data, written by every writer since rung 0.1 and ignored by the reader.
//
// component = "x", "y", "z", "trace" or "q_<a>_<b>_<c>" (see q_component_name). The writer writes
// exactly the components it is given: no trace is synthesised from x when reading.
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/metrics.hpp"
#include "core/spectrum.hpp"

namespace rung {

inline constexpr const char* spectrum_file_format = "rung-spectrum";
inline constexpr int spectrum_file_format_version = 1;

// One component of a SpectrumSet. Its Spectrum's energy_eV must equal the set's energy_eV (the
// writer checks); eps_nolf is present for RPA runs only.
struct SpectrumComponent {
  Spectrum spectrum;
  std::optional<std::array<double, 3>> q_direction;  // cartesian, as given (only direction matters)
  std::string description;                           // free text, e.g. "RPA with local fields, 27 G"
};

struct SpectrumSet {
  std::vector<double> energy_eV;
  std::string theory;              // "ipa" or "rpa"
  nlohmann::json provenance;       // command line, input paths, parameters, timings (any JSON object)
  std::map<std::string, SpectrumComponent> components;
  // Filled by the reader (the writer sets them itself): rung version and creation time of the file.
  std::string rung_version, created;
};

// "q_1_1_1" for (1,1,1); integral components print as integers, others with up to 6 significant
// digits ("q_0.5_0_1"); negatives keep their sign ("q_-1_0_0").
std::string q_component_name(const std::array<double, 3>& q);

// A field direction's name up to its length and sign (eps along q is even in q): the vector divided by its
// largest |component| and rounded to 1e-5, its sign chosen so that the first component of magnitude 1 is +1, then
// "x", "y" or "z" for an axis and q_<a>_<b>_<c> otherwise ((1,1,1), (0.577,0.577,0.577) and (-2,-2,-2) are all
// "q_1_1_1"; (0,-3,0) is "y"; (-1,1,0) is "q_1_-1_0").
std::string direction_name(const std::array<double, 3>& q);
// The same name for a component name: x, y, z as they are, q_<a>_<b>_<c> as direction_name of its vector;
// anything else ("trace", a name that is no vector) unchanged.
std::string canonical_component(const std::string& name);

// A set's component by its name as stored, else the component of the same direction under another name (x for
// q_1_0_0, q_1_1_1 for q_2_2_2); end() when there is none.
std::map<std::string, SpectrumComponent>::const_iterator find_component(const SpectrumSet& set,
                                                                        const std::string& name);

// The field direction a single spectrum (as read_any_spectrum reads any file: rung's HDF5 component, a text file)
// records, as a component name, and its vector in `q` as the file gives it, where it gives one: the reader's
// component (QE epsilon.x: x, y, z or the trace; rung's files: their component, x, y, z, trace or
// q_<a>_<b>_<c>), or the "@ Q(1)" vector of a YAMBO o-file ("finite_q_<a>_<b>_<c>" for one at a finite q, given
// in iku: no field direction, compared with no optical-limit spectrum). A direction is named by direction_name however the
// file wrote it (x, q_2_0_0, 1 0 0 and -1 0 0 are all "x"). "" where the file states none (turbo_spectrum.x;
// rung's YAMBO-layout text files without a component line, whose 1 0 0 was printed for the trace too).
std::string recorded_component(const Spectrum& s, std::optional<std::array<double, 3>>* q = nullptr);

// Writes `set` to `path` atomically (temp file + rename). Validates first: non-empty, strictly
// increasing finite grid, every component on that grid with finite values, theory "ipa" or "rpa";
// a violation is a rung::Error (runtime kind: the data are ours, not the user's input).
void write_spectrum_file(const std::filesystem::path& path, const SpectrumSet& set);

// Reads a rung spectrum file; anything that is not one (wrong format attribute, newer
// format_version, missing datasets, length mismatch, NaN) is fail_input naming the file.
SpectrumSet read_spectrum_file(const std::filesystem::path& path);

// True if `path` is an HDF5 file carrying format = "rung-spectrum" (no exceptions).
bool is_spectrum_file(const std::filesystem::path& path);

// Reads one spectrum from any supported format, sniffed from the content:
//   rung HDF5 spectrum file   component: "x","y","z","trace","q_..."; "" = "trace" if present,
//                             else the only component (several and none named: fail_input);
//   YAMBO o-*.eps_* / o-*.eel_* and the paper workflow's epsilon_* files (same layout)
//                             eps = columns 3 + i·2, eps_nolf = 5 + i·4 when present; one direction per
//                             file: a component naming another direction than the file's is refused (the
//                             trace is left to require_same_component);
//   QE epsilon.x epsr_*.dat / epsi_*.dat  give either file, the partner is found beside it;
//                             component "x","y","z" (or q_1_0_0 ...) picks the column, "" = trace;
//   turbo_spectrum.x *.plot_eps.dat  eps = Re eps + i Im eps (columns 4 and 5).
// The returned Spectrum has label = the path and metadata with "format" and the header fields.
// Unknown format, unknown component, or a malformed file: fail_input naming the file.
Spectrum read_any_spectrum(const std::filesystem::path& path, const std::string& component = "");

// The text spectrum format read_any_spectrum reads `path` as, sniffed from its name and first line; `none` when it
// is none of them (an HDF5 file included).
enum class TextSpectrumFormat { none, yambo, qe_epsilon, turbo_plot_eps };
TextSpectrumFormat text_spectrum_format(const std::filesystem::path& path);

// Which spectrum `s` holds, as a name: "trace", "x"/"y"/"z" or "q_a_b_c" (recorded_component), or "direction"
// when it holds one direction that its file does not name.
std::string spectrum_component(const Spectrum& s);

// Like with like: a trace with a trace, a direction with the same direction. fail_input naming the file at fault
// (b where both are) when a file read for a requested component (read_any_spectrum's `component`) holds another
// direction, when two named directions differ, and when one spectrum is the trace and the other one direction,
// unless direction_as_trace (right only for a cubic crystal, whose dielectric tensor is isotropic). A direction
// that a file does not name ("direction") is taken to match any direction.
void require_same_component(const Spectrum& a, const std::filesystem::path& pa, const Spectrum& b,
                            const std::filesystem::path& pb, bool direction_as_trace = false);

// `rung compare A B` (and the Python module's rung.compare): SC, MSE and MAE (core/metrics.hpp) of spectrum
// `a` against the reference `b`, both read by read_any_spectrum, on b's grid over the energy range they share,
// like with like (require_same_component). column: "im" or "re" (fail_usage otherwise); no shared range:
// fail_input naming b.
struct SpectrumComparison {
  SpectralDistance distance;
  std::size_t n_points = 0;      // points of b's grid in the shared range
  double lo_eV = 0, hi_eV = 0;   // the shared range
  std::string format_a, format_b;
};
SpectrumComparison compare_spectrum_files(const std::filesystem::path& a, const std::filesystem::path& b,
                                          const std::string& component = "", const std::string& column = "im",
                                          bool direction_as_trace = false);

}  // namespace rung
