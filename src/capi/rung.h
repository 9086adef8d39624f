/* rung's C API: the single source of truth for C hosts and for the Fortran module
 * (fortran_bridge/rung.f90 mirrors it one to one, except rung_report_usage_error, which the module calls
 * itself for its own argument checks). See doc/c-api.md.
 *
 * Conventions
 *  - Every function returns a rung_status (except rung_api_version and rung_last_error). On failure, rung_last_error() gives the message of the
 *    last failed call on the calling thread (thread-local, like spglib). Accessors of an object that
 *    cannot fail still return RUNG_OK so that every call is checked the same way.
 *  - Handles are opaque; each rung_*_open/load/create has a matching rung_*_free (NULL is fine).
 *  - The library never writes to stdout, never calls exit/abort on its host, and lets no C++
 *    exception escape; progress output on stderr is off unless rung_set_progress(1). It leaves the
 *    host's OpenMP and LibTorch thread pools and HDF5 error handler as the host set them; OpenBLAS runs
 *    single-threaded while a solve runs and gets the host's count back at its end (a count the host sets
 *    meanwhile is overwritten; doc/c-api.md).
 *  - Units: Bohr and Hartree, except spectra energies, which are in eV (the exchange unit of every
 *    spectrum file rung reads). Arrays of 3-vectors are stored vector after vector:
 *      cell[3*i + j]       = Cartesian component j of lattice vector i  (Fortran: cell(j, i), i.e.
 *                            the lattice vectors are the COLUMNS of a Fortran cell(3,3), as QE's at(:,i))
 *      positions[3*a + j]  = Cartesian component j of atom a, in Bohr  (Fortran: positions(3, nat))
 *      numbers[a]          = atomic number of atom a
 *  - MPI communicators cross as Fortran integers (MPI_Comm_c2f / the Fortran MPI handle);
 *    RUNG_COMM_NONE means "run serially on this process". MPI must be initialised by the host when a
 *    communicator is given. A call with a communicator is collective: every rank of it makes the call.
 *    rung works on a duplicate of it (MPI_Comm_dup, freed before the call returns), so its messages never
 *    meet the host's; MPI_COMM_NULL is RUNG_ERR_USAGE, and so is a communicator given from a thread other
 *    than MPI's main one when MPI provides less than MPI_THREAD_SERIALIZED. Arguments a rank refuses (a
 *    NULL out, bad options, a file it cannot read) fail the call on every rank, so no rank is left waiting
 *    in a collective. An MPI error on rung's duplicate is fatal there (MPI_ERRORS_ARE_FATAL, whatever handler
 *    the host chose): the one way the library can end its host, as a failed collective would otherwise leave
 *    the ranks out of step.
 *  - Options are one JSON object as a string (NULL or "" = defaults); unknown keys are an error.
 */
#ifndef RUNG_CAPI_RUNG_H
#define RUNG_CAPI_RUNG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a function's signature or meaning changes; compare with rung_api_version(). */
#define RUNG_API_VERSION 2
/* "No communicator": serial execution on the calling process. */
#define RUNG_COMM_NONE (-1)

typedef enum rung_status {
  RUNG_OK = 0,
  RUNG_ERR_RUNTIME = 1,     /* a failure that is not the caller's input (I/O on outputs, numerics) */
  RUNG_ERR_INPUT = 2,       /* a file or data the caller gave is missing, malformed or unsupported */
  RUNG_ERR_USAGE = 3,       /* bad argument: NULL handle, bad option, impossible combination */
  RUNG_ERR_UNAVAILABLE = 4, /* the feature is not built in (e.g. rung without LibTorch) */
  RUNG_ERR_BUFFER = 5,      /* an output buffer or array is too small (the size needed is returned where the
                               function has a size argument for it, else the message gives it) */
  RUNG_ERR_INTERNAL = 6     /* anything unexpected (out of memory, a bug): the message says what */
} rung_status;

typedef enum rung_decision_kind {
  RUNG_IPA_SUFFICIENT = 0, /* the RPA would change the spectrum too little to be worth running */
  RUNG_RPA_NEEDED = 1,     /* local fields matter: run the RPA */
  RUNG_UNCERTAIN = 2       /* the prediction is too uncertain: treat as needed */
} rung_decision_kind;

typedef struct rung_save rung_save;             /* a QE prefix.save */
typedef struct rung_model rung_model;           /* a spectrum predictor (the OPTIMATE ensemble) */
typedef struct rung_prediction rung_prediction; /* predicted IPA/RPA spectra and SC */
typedef struct rung_decision rung_decision;     /* a selection decision and its JSON log */
typedef struct rung_spectrum rung_spectrum;     /* a computed spectrum */

/* ---- version and errors ------------------------------------------------------------------ */
int rung_api_version(void);
/* rung's version (major.minor.patch); NULL pointers are skipped. */
rung_status rung_version(int* major, int* minor, int* patch);
/* Copies the version string ("0.1.0") NUL-terminated into buf (truncated to len-1 characters);
 * *needed (if not NULL) receives the length without the NUL. */
rung_status rung_version_string(char* buf, size_t len, size_t* needed);
/* The message of the calling thread's last failure ("" if none), NUL-terminated and truncated to
 * len-1 characters. Returns the message length without the NUL (so a caller can size a buffer). */
size_t rung_last_error(char* buf, size_t len);
/* The status of the calling thread's last failure (RUNG_OK if none). */
rung_status rung_last_status(void);
/* Records a usage error that a binding found in its own arguments before calling rung (e.g. the Fortran
 * module's array shapes): rung_last_error() then gives message and rung_last_status() RUNG_ERR_USAGE.
 * Returns RUNG_ERR_USAGE (RUNG_ERR_USAGE with its own message when message is NULL or empty). */
rung_status rung_report_usage_error(const char* message);
/* Progress lines with ETA on stderr (rank 0 only); off by default in the library. */
rung_status rung_set_progress(int enabled);
/* "Si" -> 14 (any capitalisation), and a QE species label as pw.x reads it: the symbol followed by anything
 * ("Si1", "Fe_up", "O-2", "Oa": the leading letters if they are a symbol, else their first two, else one). */
rung_status rung_atomic_number(const char* symbol, int* z);

/* ---- QE ground-state runs ---------------------------------------------------------------- */
/* path: the prefix.save folder, its data-file-schema.xml, or a folder holding exactly one *.save. */
rung_status rung_save_open(const char* path, rung_save** out);
rung_status rung_save_free(rung_save* save);
rung_status rung_save_natoms(const rung_save* save, int* natoms);
rung_status rung_save_nbands(const rung_save* save, int* nbands);
/* cell[9] and positions[3*capacity] (Bohr), numbers[capacity]; RUNG_ERR_BUFFER if capacity < natoms. */
rung_status rung_save_structure(const rung_save* save, double* cell, double* positions, int* numbers,
                                int capacity);

/* ---- prediction -------------------------------------------------------------------------- */
/* path: a model-set folder (like share/models: sc.h5, or ipa.h5 + rpa.h5) or an sc model file written by
 * `rung train --target sc` (a single ipa or rpa model is RUNG_ERR_INPUT); NULL or "" = share/models.
 * RUNG_ERR_UNAVAILABLE when rung was built without LibTorch. */
rung_status rung_model_load(const char* path, rung_model** out);
/* The same with options (JSON), every key optional (the same keys as `rung predict`'s flags; doc/ml-model.md):
 *   predict option keys: model batch threads precision raw
 * defaults {"model": "", "batch": 64, "precision": "float32", "raw": false}. The keys "threads"
 * (the library leaves the host's thread pools alone), "target" and "format" of `rung predict` (a model set,
 * structures as arrays) do not apply here: RUNG_ERR_USAGE naming them, as for an unknown key. */
rung_status rung_model_load_options(const char* options, rung_model** out);
rung_status rung_model_free(rung_model* model);
/* 1 if the model file's metadata marks it untrained (random weights): its output means nothing. */
rung_status rung_model_untrained(const rung_model* model, int* untrained);

rung_status rung_predict(rung_model* model, const double* cell, int natoms, const double* positions,
                         const int* numbers, rung_prediction** out);
rung_status rung_prediction_free(rung_prediction* p);
rung_status rung_prediction_npoints(const rung_prediction* p, int* n);
/* Any of the arrays may be NULL; each non-NULL one must hold n = rung_prediction_npoints values. */
rung_status rung_prediction_spectra(const rung_prediction* p, double* energy_eV, double* ipa_im_eps,
                                    double* rpa_im_eps, int n);
rung_status rung_prediction_sc(const rung_prediction* p, double* sc, double* sc_spread);

/* ---- selection --------------------------------------------------------------------------- */
/* options (JSON), every key optional (the same keys as `rung select`'s flags; doc/selection.md):
 *   select option keys: threshold spread_factor max_spread kppa block_cutoff_Ry with_spectra probe launch
 *     outdir model calibration cost_model log
 * defaults {"threshold": 0.9, "spread_factor": 1.0, "max_spread": 0.1, "kppa": 1500, "with_spectra": false,
 *           "probe": true, "launch": "none", "outdir": "rung-select", "log": ""}; "model" is ignored here (the
 * rung_model handle is the model); "launch": "native" or "yambo" runs the RPA when the decision asks for it
 * (rung_select_save only) and "log" appends the decision to a JSON-lines file. An unknown key: RUNG_ERR_USAGE
 * naming it.
 * The decision rests on the best evidence at hand (doc/selection.md): for a QE run with empty bands and
 * an installed calibration (share/models/calibration.json), rung's RPA on a small G block (the probe,
 * "probe": false turns it off); otherwise the model's SC, with the calibrated interval when installed.
 * fcomm: a Fortran MPI communicator or RUNG_COMM_NONE; on several ranks rank 0 predicts and the
 * decision is broadcast, so every rank returns the same decision and status. Only rank 0's model, save and
 * arrays are used: the other ranks may pass NULL for them (not for out).
 * With a launch and a "log", the decision is appended before the launch starts (launch status "started")
 * and again when it ends; appends from several processes to one log are safe (an exclusive lock). */
rung_status rung_select(rung_model* model, const double* cell, int natoms, const double* positions,
                        const int* numbers, const char* options, int fcomm, rung_decision** out);
/* The same for a QE run: the cost estimate then uses its k-points and bands. model may be NULL (a build
 * without LibTorch): the probe decides alone, and where it cannot (no empty bands, no calibration,
 * "probe": false) the call fails saying that a model is needed. */
rung_status rung_select_save(rung_model* model, const rung_save* save, const char* options, int fcomm,
                             rung_decision** out);
/* The policy alone, for hosts with their own SC estimate (no model involved): evidence source "caller".
 * A non-finite sc or a negative sc_spread is RUNG_ERR_USAGE, and so is a "launch" other than "none" (there
 * is no QE run to launch on); "log" appends the decision. */
rung_status rung_decide(double sc, double sc_spread, const char* options, rung_decision** out);
rung_status rung_decision_free(rung_decision* d);
rung_status rung_decision_kind_of(const rung_decision* d, rung_decision_kind* kind);
/* The SC the decision was made on, the half-width of its interval below the SC (sc minus the interval's lower
 * end: the side an "ipa-sufficient" call rests on; an interval capped at 1 is shorter above), and the RPA
 * cost estimate in CPU seconds
 * (negative when no cost model is installed or the decision came from rung_decide). */
rung_status rung_decision_numbers(const rung_decision* d, double* sc, double* sc_spread, double* cpu_seconds);
/* The decision log entry as JSON (see doc/selection.md), NUL-terminated into buf; *needed gets the
 * full length without the NUL. RUNG_ERR_BUFFER (with *needed set) when len <= that length. A NULL buf
 * is a size query: RUNG_OK with *needed set, nothing written (so rung_last_status keeps its value). */
rung_status rung_decision_json(const rung_decision* d, char* buf, size_t len, size_t* needed);

/* ---- native spectra ---------------------------------------------------------------------- */
/* theory: "ipa" or "rpa" (it wins over an option "theory"). options: a JSON object over the solver's
 * canonical keys (the same as `rung spectrum`'s flags and the provenance; doc/solver.md), every one optional:
 *   spectrum option keys: bands block emin_eV emax_eV steps broadening_eV broadening directions ordering
 *     occupations temperature_K drude drude_temperature_K include_vnl method points_per_eta solver_step_eV
 *     converge converge_sc converge_start max_block progress
 * e.g. {"block": 59, "directions": ["x", "z"], "bands": [1, 16], "broadening_eV": 0.1}. The RPA converges
 * its G block unless "block" is given. An unknown key or a bad value: RUNG_ERR_USAGE naming the key. */
rung_status rung_compute_spectrum(const rung_save* save, const char* theory, const char* options, int fcomm,
                                  rung_spectrum** out);
rung_status rung_spectrum_free(rung_spectrum* s);
/* The component the accessors below return: the trace where it was computed, else the first of the options'
 * "directions". rung_spectrum_use_component(s, "z") chooses another ("x", "y", "z", "trace", ... as computed);
 * RUNG_ERR_USAGE naming the ones there are when it is absent. */
rung_status rung_spectrum_use_component(rung_spectrum* s, const char* component);
rung_status rung_spectrum_npoints(const rung_spectrum* s, int* n);
/* energy in eV; eps = eps_re + i eps_im (with local fields for the RPA). NULL arrays are skipped. */
rung_status rung_spectrum_data(const rung_spectrum* s, double* energy_eV, double* eps_re, double* eps_im, int n);
/* The same component without local fields (eps_o, the head of the same chi0: the IPA that an RPA run carries).
 * RUNG_ERR_USAGE for an IPA spectrum, which has none (its eps is already without local fields). */
rung_status rung_spectrum_data_nolf(const rung_spectrum* s, double* eps_re, double* eps_im, int n);
/* Writes rung's HDF5 spectrum file (atomically, with provenance). */
rung_status rung_spectrum_write(const rung_spectrum* s, const char* path);

#ifdef __cplusplus
}
#endif
#endif /* RUNG_CAPI_RUNG_H */
