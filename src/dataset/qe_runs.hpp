#pragma once
// The QE side of the data-set factory: k grids, pw.x input files, running pw.x and the band facts
// (gap, how many bands reach VBM + window) taken from the resulting prefix.save.
#include "core/error.hpp"
#include "core/structure.hpp"
#include "core/subprocess.hpp"
#include "dataset/pseudo_table.hpp"

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace rung::qe { struct Save; }

namespace rung::dataset {

// pymatgen's Kpoints.automatic_density(structure, kppa, force_gamma=True) as the paper used it (doc/dataset.md):
// kppa = k-points per reciprocal atom; odd divisions rounded up to even; Gamma-centred.
std::array<int, 3> automatic_density_grid(const Structure& s, double kppa);
// The divisions raised where the crystal's rotations (in its crystal coordinates) mix lattice directions of unequal
// divisions, so that the Gamma-centred grid maps onto itself: directions a rotation mixes share the largest of
// their divisions. Needed for face-centred orthorhombic cells, whose three primitive vectors differ in length but
// are mixed by the point group; every other lattice's mixed directions already have equal lengths (unchanged).
// A grid that is not closed under the rotations would be weighted wrongly: QE's irreducible weights count only
// the images on the grid, the solver's unfolding the whole orbit.
std::array<int, 3> symmetric_grid(std::array<int, 3> divisions, const std::vector<Eigen::Matrix3i>& rotations);

struct PwRun {
  std::string calculation;         // "scf" or "nscf"
  double ecutwfc_Ry = 0;
  std::array<int, 3> k{1, 1, 1};
  int nbnd = 0;                    // 0 = pw.x's default
  double conv_thr = 1e-9;          // Ry, total; in an nscf run it only sets Davidson's ethr (conv_thr / nelec / 10)
  int david_ndim = 0;              // Davidson workspace in bands (diago_david_ndim); 0 = pw.x's default (2)
};

// The pw.x input text: fixed occupations, prefix "rung", outdir "./out", pseudo_dir from the table.
std::string pw_input(const Structure& s, const PseudoTable& table, const PwRun& run);

// A failure of the run, not of the material in hand: pw.x could not be started (exit status 126 or 127: every
// material would fail the same way) or was stopped by SIGHUP, SIGINT or SIGTERM (the job is being stopped). No
// record is written; the run stops, and the material is computed again at the next start.
class RunStopped : public Error {
public:
  explicit RunStopped(const std::string& message) : Error(ErrorKind::runtime, message) {}
};

// A failure of the machine's moment rather than of the material (pw.x killed by SIGKILL, the kernel's answer to
// a lack of memory; memory exhausted in rung's own solver): recorded as failed with "transient": true and the
// attempt count, and computed again by the next runs up to max_transient_attempts times in all.
class TransientFailure : public Error {
public:
  explicit TransientFailure(const std::string& message) : Error(ErrorKind::runtime, message) {}
};
inline constexpr int max_transient_attempts = 3;

// What run_shell says of the command (exit code, signal, a lost status), and what it cost.
struct CommandResult : ShellStatus {
  double wall_s = 0, cpu_s = 0;  // cpu = user + sys of the child processes
};
// glibc's malloc settings for the commands run_in starts (GLIBC_TUNABLES, unless the environment sets it): freed
// blocks stay in the heap instead of going back to the kernel (mmap threshold 32 MB, trim threshold 1 GB, top pad
// 64 MB), and the heap asks for transparent huge pages (madvise). pw.x allocates and frees its work arrays per
// k-point and per Davidson step; with glibc's defaults each large one came back as fresh, zeroed pages. The
// results are bit-identical; pw.x nscf of a four-atom cell takes 11 % less CPU (doc/dataset.md, "Cost per
// material").
inline constexpr const char* child_malloc_tunables =
    "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:"
    "glibc.malloc.top_pad=67108864:glibc.malloc.hugetlb=1";
// The GLIBC_TUNABLES run_in's commands get: the environment's, or child_malloc_tunables.
std::string child_glibc_tunables();
// Runs `command` (a shell command line) in `dir` with OMP_NUM_THREADS=1 and GLIBC_TUNABLES=child_glibc_tunables()
// unless set; stdout+stderr to `log`.
CommandResult run_in(const std::filesystem::path& dir, const std::string& command, const std::filesystem::path& log);

// Why pw.x stopped, from its output `log`: QE's own "Error in routine ..." block when it wrote one (the
// tail is then only Open MPI's MPI_ABORT banner), otherwise the last `lines` non-blank lines, " | "-joined.
std::string pw_failure_reason(const std::filesystem::path& log, std::size_t lines = 4);

struct BandFacts {
  int occupied = 0;          // fully occupied bands
  double vbm_eV = 0, cbm_eV = 0, gap_eV = 0, direct_gap_eV = 0;
  int bands_in_window = 0;   // max over k of the bands with energy <= VBM + window
  bool window_covered = false;  // the highest computed band lies above VBM + window at every k
};
// Needs fixed occupations and at least one empty band; otherwise fail(...) naming the save.
BandFacts band_facts(const qe::Save& save, double window_eV);

// Free-electron estimate of the bands needed to reach VBM + window_eV, from an scf run's bands:
// occupied bands + headroom × the plane-wave states between the valence band bottom (within 20 eV of the
// VBM) and VBM + window, + 4.
int estimate_bands(const qe::Save& scf, double window_eV, double headroom);

// The bands to compute above `bands_in_window`, the count another k grid of the same material needed: 2 + 5 %
// (rounded up). On 163 materials with both tiers the full tier's grid needed at most 2 bands more than the lite
// tier's, and the highest computed band must lie above the window at every k (doc/dataset.md, "Bands from the
// other tier").
inline int other_tier_band_margin(int bands_in_window) { return 2 + (bands_in_window + 19) / 20; }

// Total valence electrons of `s` with the table's pseudopotentials.
double valence_electrons(const Structure& s, const PseudoTable& table);

}  // namespace rung::dataset
