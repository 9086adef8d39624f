/* The C API from C: version, the error model (status + thread-local message, nothing on stdout, no
 * abort), the policy through rung_decide, JSON buffers, and (with a QE save given as argv[2]) reading
 * a save (and selecting on it with the model folder argv[3]); host_state: loading a model and
 * predicting leave the host's thread pools and HDF5 error handler as they were.
 * Usage: test_capi basics | test_capi save PATH_TO_PREFIX.save [MODEL_DIR] | test_capi host_state MODEL_DIR
 * Prints diagnostics on stderr only; exit status 0 = pass. Nothing here is skipped: the save is the si_tiny run
 * that tests/fixtures/run_qe.sh always makes, the native solver is part of every build that has this program, and
 * the model cases run as the build has LibTorch or not (RUNG_TEST_WITH_TORCH, tests/capi/api.cmake). */
#include "capi/rung.h"

#include <dlfcn.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      ++failures;                                                                \
    }                                                                            \
  } while (0)

static char msg[4096];
static const char* last_error(void) {
  rung_last_error(msg, sizeof msg);
  return msg;
}

/* Runs the library's failing calls with stdout redirected to a file and returns its size. */
static long stdout_bytes_during_errors(void) {
  char path[] = "/tmp/rung_capi_stdout_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  fflush(stdout);
  int saved = dup(1);
  dup2(fd, 1);
  rung_save* save = NULL;
  rung_status s1 = rung_save_open("/nonexistent/rung/si.save", &save);
  rung_model* model = NULL;
  rung_status s2 = rung_model_load("/nonexistent/rung/models", &model);
  rung_decision* d = NULL;
  rung_status s3 = rung_decide(NAN, 0.1, NULL, &d);
  rung_status s4 = rung_select(NULL, NULL, 0, NULL, NULL, NULL, RUNG_COMM_NONE, &d);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  struct stat st;
  fstat(fd, &st);
  close(fd);
  unlink(path);
  CHECK(s1 == RUNG_ERR_INPUT && s2 != RUNG_OK && s3 == RUNG_ERR_USAGE && s4 == RUNG_ERR_USAGE);
  CHECK(save == NULL && model == NULL && d == NULL);
  /* a communicator while MPI is not initialised (this program never initialises it) is the caller's error; a
   * library built without MPI refuses every communicator as unavailable */
  {
    const rung_status s5 = rung_select(NULL, NULL, 0, NULL, NULL, NULL, 0, &d);
    CHECK(s5 == RUNG_ERR_USAGE || s5 == RUNG_ERR_UNAVAILABLE);
  }
  return (long)st.st_size;
}

static int basics(void) {
  /* Version: header, runtime API version and version string agree. */
  CHECK(rung_api_version() == RUNG_API_VERSION);
  int major = -1, minor = -1, patch = -1;
  CHECK(rung_version(&major, &minor, &patch) == RUNG_OK);
  char vs[64], expect[64];
  size_t needed = 0;
  CHECK(rung_version_string(vs, sizeof vs, &needed) == RUNG_OK);
  snprintf(expect, sizeof expect, "%d.%d.%d", major, minor, patch);
  CHECK(strcmp(vs, expect) == 0);
  CHECK(needed == strlen(expect));

  /* Error path: a missing save is an input error whose message names the path. */
  rung_save* save = NULL;
  CHECK(rung_save_open("/nonexistent/rung/si.save", &save) == RUNG_ERR_INPUT);
  CHECK(save == NULL);
  CHECK(rung_last_status() == RUNG_ERR_INPUT);
  CHECK(strstr(last_error(), "/nonexistent/rung/si.save") != NULL);
  /* The message length is returned even when the buffer is too small, and truncation is NUL-safe. */
  char tiny[8];
  size_t len = rung_last_error(tiny, sizeof tiny);
  CHECK(len > sizeof tiny);
  CHECK(strlen(tiny) == sizeof tiny - 1);
  CHECK(rung_last_error(NULL, 0) == len);
  CHECK(rung_save_open(NULL, &save) == RUNG_ERR_USAGE);
  CHECK(rung_save_open("x", NULL) == RUNG_ERR_USAGE);
  int n = 0;
  CHECK(rung_save_natoms(NULL, &n) == RUNG_ERR_USAGE);
  CHECK(strstr(last_error(), "NULL") != NULL);
  CHECK(rung_save_free(NULL) == RUNG_OK);
  /* A binding's own argument check is recorded as a usage error with its message. */
  CHECK(rung_report_usage_error("binding: positions(3, 2) and numbers(3) disagree") == RUNG_ERR_USAGE);
  CHECK(rung_last_status() == RUNG_ERR_USAGE);
  CHECK(strcmp(last_error(), "binding: positions(3, 2) and numbers(3) disagree") == 0);
  CHECK(rung_report_usage_error(NULL) == RUNG_ERR_USAGE);
  CHECK(strstr(last_error(), "empty") != NULL);
  CHECK(stdout_bytes_during_errors() == 0);

  /* The policy through the C API. */
  struct { double sc, spread; const char* options; rung_decision_kind expect; } cases[] = {
      {0.95, 0.01, NULL, RUNG_IPA_SUFFICIENT},
      {0.60, 0.02, "", RUNG_RPA_NEEDED},
      {0.91, 0.03, NULL, RUNG_UNCERTAIN},
      {0.99, 0.50, NULL, RUNG_UNCERTAIN},
      {0.85, 0.01, "{\"threshold\": 0.8}", RUNG_IPA_SUFFICIENT},
      {0.85, 0.01, "{\"threshold\": 0.8, \"spread_factor\": 6}", RUNG_UNCERTAIN},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    rung_decision* d = NULL;
    CHECK(rung_decide(cases[i].sc, cases[i].spread, cases[i].options, &d) == RUNG_OK);
    rung_decision_kind k = RUNG_UNCERTAIN;
    CHECK(rung_decision_kind_of(d, &k) == RUNG_OK);
    if (k != cases[i].expect) fprintf(stderr, "case %zu: got %d, expected %d\n", i, (int)k, (int)cases[i].expect);
    CHECK(k == cases[i].expect);
    double sc = 0, spread = 0, cpu = 0;
    CHECK(rung_decision_numbers(d, &sc, &spread, &cpu) == RUNG_OK);
    CHECK(sc == cases[i].sc && spread == cases[i].spread && cpu < 0);
    /* JSON: probe for the size, then fetch. */
    size_t need = 0;
    char small[4];
    CHECK(rung_decision_json(d, small, sizeof small, &need) == RUNG_ERR_BUFFER);
    CHECK(need > 20);
    char* json = malloc(need + 1);
    CHECK(rung_decision_json(d, json, need + 1, &need) == RUNG_OK);
    CHECK(strlen(json) == need);
    CHECK(strstr(json, "\"decision\"") != NULL);
    free(json);
    CHECK(rung_decision_free(d) == RUNG_OK);
  }
  /* Bad options: unknown key, not JSON, impossible threshold. */
  rung_decision* d = NULL;
  CHECK(rung_decide(0.9, 0.01, "{\"treshold\": 0.8}", &d) == RUNG_ERR_USAGE);
  CHECK(strstr(last_error(), "treshold") != NULL);
  CHECK(rung_decide(0.9, 0.01, "threshold=0.8", &d) == RUNG_ERR_USAGE);
  CHECK(rung_decide(0.9, 0.01, "{\"threshold\": 2}", &d) == RUNG_ERR_USAGE);
  /* the caller's numbers are the caller's input: a usage error; rung_decide has no QE run to launch on */
  CHECK(rung_decide(0.9, -1, NULL, &d) == RUNG_ERR_USAGE);
  CHECK(rung_decide(NAN, 0.01, NULL, &d) == RUNG_ERR_USAGE);
  CHECK(rung_decide(0.9, 0.01, "{\"launch\": \"native\"}", &d) == RUNG_ERR_USAGE);
  CHECK(strstr(last_error(), "launch") != NULL);
  CHECK(d == NULL);
  /* a log in a folder that does not exist: refused before anything is decided, naming it */
  CHECK(rung_decide(0.9, 0.01, "{\"log\": \"/nonexistent/rung/decisions.jsonl\"}", &d) == RUNG_ERR_USAGE);
  CHECK(strstr(last_error(), "/nonexistent/rung/decisions.jsonl") != NULL);
  CHECK(d == NULL);
  /* "log": each decision appended as one JSON line, its evidence the caller's */
  char log_path[] = "/tmp/rung_capi_log_XXXXXX";
  int log_fd = mkstemp(log_path);
  CHECK(log_fd >= 0);
  close(log_fd);
  char log_options[128];
  snprintf(log_options, sizeof log_options, "{\"log\": \"%s\"}", log_path);
  for (int i = 0; i < 2; ++i) {
    CHECK(rung_decide(0.7 + 0.2 * i, 0.01, log_options, &d) == RUNG_OK);
    CHECK(rung_decision_free(d) == RUNG_OK);
  }
  FILE* log_file = fopen(log_path, "r");
  CHECK(log_file != NULL);
  char line[8192];
  int lines = 0, callers = 0;
  while (log_file && fgets(line, sizeof line, log_file)) {
    ++lines;
    if (strstr(line, "\"source\":\"caller\"")) ++callers;
  }
  if (log_file) fclose(log_file);
  unlink(log_path);
  CHECK(lines == 2 && callers == 2);
  d = NULL;

  /* Prediction needs a model: without LibTorch that is "unavailable", with it a missing file is input. */
  rung_model* model = NULL;
  rung_status s = rung_model_load("/nonexistent/rung/models", &model);
  CHECK(s == RUNG_ERR_UNAVAILABLE || s == RUNG_ERR_INPUT);
  CHECK(strlen(last_error()) > 0);
  CHECK(model == NULL);

  /* In-memory structures are validated before any model is touched. */
  double cell[9] = {-5.13, 0, 5.13, 0, 5.13, 5.13, -5.13, 5.13, 0};
  double pos[6] = {0, 0, 0, 0, 0, 0}; /* two atoms on top of each other */
  int z[2] = {14, 14};
  rung_prediction* p = NULL;
  CHECK(rung_predict(NULL, cell, 2, pos, z, &p) == RUNG_ERR_INPUT);
  CHECK(p == NULL);
  int zz = 0;
  CHECK(rung_atomic_number("Si1", &zz) == RUNG_OK && zz == 14);
  CHECK(rung_atomic_number("Xx", &zz) == RUNG_ERR_USAGE);
  /* QE species labels pw.x accepts: the symbol and then a letter, too (the QE hook's atm(ityp)) */
  CHECK(rung_atomic_number("Oa", &zz) == RUNG_OK && zz == 8);
  CHECK(rung_atomic_number("Nx", &zz) == RUNG_OK && zz == 7);
  CHECK(rung_atomic_number("Fe_up", &zz) == RUNG_OK && zz == 26);
  CHECK(rung_atomic_number("Co", &zz) == RUNG_OK && zz == 27); /* a symbol first, not C and a letter */
  /* a LibTorch thread count is not applied by a library (the host's pools stay as they are): refused, naming it,
   * before any model is read (as Python refuses it) */
  {
    rung_model* m = NULL;
    CHECK(rung_model_load_options("{\"model\": \"/nonexistent\", \"threads\": 4}", &m) == RUNG_ERR_USAGE);
    CHECK(strstr(last_error(), "threads") != NULL && m == NULL);
  }
  return failures;
}

static int qe_save(const char* path, const char* model_dir) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "the si_tiny fixture run %s is missing (tests/fixtures/run_qe.sh makes it)\n", path);
    return 1;
  }
  rung_save* save = NULL;
  CHECK(rung_save_open(path, &save) == RUNG_OK);
  int nat = 0, nb = 0;
  CHECK(rung_save_natoms(save, &nat) == RUNG_OK && nat == 2);
  CHECK(rung_save_nbands(save, &nb) == RUNG_OK && nb == 8);
  double cell[9], pos[6];
  int z[2];
  CHECK(rung_save_structure(save, cell, pos, z, 1) == RUNG_ERR_BUFFER);
  CHECK(rung_save_structure(save, cell, pos, z, 2) == RUNG_OK);
  /* si_tiny: fcc Si, alat 10.26 Bohr: |a_i| = alat/sqrt(2), second atom at (1/4,1/4,1/4) alat. */
  for (int i = 0; i < 3; ++i) {
    double l = sqrt(cell[3 * i] * cell[3 * i] + cell[3 * i + 1] * cell[3 * i + 1] + cell[3 * i + 2] * cell[3 * i + 2]);
    CHECK(fabs(l - 10.26 / sqrt(2.0)) < 1e-6);
  }
  CHECK(z[0] == 14 && z[1] == 14);
  double d = sqrt(pow(pos[3] - pos[0], 2) + pow(pos[4] - pos[1], 2) + pow(pos[5] - pos[2], 2));
  CHECK(fabs(d - 10.26 * sqrt(3.0) / 4) < 1e-6);
  /* The native IPA: the solver is built wherever this program is (a readers-only build has neither). */
  rung_spectrum* spec = NULL;
  rung_status s = rung_compute_spectrum(save, "ipa", "{\"steps\": 201, \"emax_eV\": 10}", RUNG_COMM_NONE, &spec);
  if (s != RUNG_OK) fprintf(stderr, "rung_compute_spectrum: %s\n", last_error());
  CHECK(s == RUNG_OK);
  if (s == RUNG_OK) {
    int n = 0;
    CHECK(rung_spectrum_npoints(spec, &n) == RUNG_OK && n == 201);
    double* e = malloc(sizeof(double) * n);
    double* re = malloc(sizeof(double) * n);
    double* im = malloc(sizeof(double) * n);
    CHECK(rung_spectrum_data(spec, e, re, im, n) == RUNG_OK);
    CHECK(fabs(e[n - 1] - 10.0) < 1e-9);
    /* si_tiny (4x4x4 k, 8 bands, 12 Ry; its coarse grid puts Re eps(0) well above Si's converged ~13.6):
     * `rung spectrum --theory ipa --steps 201 --emax 10` on it gives 23.5646 (the trace; x 23.5645), the C API
     * the same; si_tiny_unpolarised, the same Si converged to 1e-13 instead of 1e-10, 23.5648 (1.5e-5 apart).
     * Bound 1e-4 relative: a few times what a pw.x re-run moves, far below a wrong direction, band count,
     * [r,Vnl] or broadening (percent). */
    fprintf(stderr, "IPA Re eps(0) = %.6f\n", re[0]);
    CHECK(fabs(re[0] / 23.5646 - 1) < 1e-4);
    CHECK(rung_spectrum_data(spec, e, re, im, n - 1) == RUNG_ERR_BUFFER);
    /* rung_spectrum_write: rung's HDF5 file (read back here with HDF5 itself: the energies and the trace's eps as
     * the accessors give them, bit for bit, and the provenance); a folder that is not there is refused, naming
     * the path, and nothing is left behind */
    {
      const char* out = "capi-spectrum-write.h5";
      remove(out);
      CHECK(rung_spectrum_write(spec, out) == RUNG_OK);
      hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
      CHECK(f >= 0);
      if (f >= 0) {
        double* ef = malloc(sizeof(double) * n);
        double* eps = malloc(2 * sizeof(double) * n);
        hid_t d = H5Dopen2(f, "energy_eV", H5P_DEFAULT);
        CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ef) >= 0);
        H5Dclose(d);
        hid_t c = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
        H5Tinsert(c, "r", 0, H5T_NATIVE_DOUBLE);
        H5Tinsert(c, "i", sizeof(double), H5T_NATIVE_DOUBLE);
        d = H5Dopen2(f, "trace/eps", H5P_DEFAULT);
        CHECK(d >= 0 && H5Dread(d, c, H5S_ALL, H5S_ALL, H5P_DEFAULT, eps) >= 0);
        H5Dclose(d);
        H5Tclose(c);
        int same = 1;
        for (int i = 0; i < n; ++i) same = same && ef[i] == e[i] && eps[2 * i] == re[i] && eps[2 * i + 1] == im[i];
        CHECK(same);
        CHECK(H5Aexists(f, "provenance") > 0 && H5Aexists(f, "theory") > 0);
        H5Fclose(f);
        free(ef);
        free(eps);
      }
      remove(out);
      CHECK(rung_spectrum_write(spec, "capi-no-such-folder/spectrum.h5") != RUNG_OK);
      CHECK(strstr(last_error(), "capi-no-such-folder") != NULL);
      CHECK(access("capi-no-such-folder", F_OK) != 0);
    }
    free(e);
    free(re);
    free(im);
    rung_spectrum_free(spec);
    /* Two directions asked, no trace: the accessors return the first asked (z) until another is chosen; a
     * component that was not computed is refused, naming those there are. */
    spec = NULL;
    CHECK(rung_compute_spectrum(save, "ipa", "{\"steps\": 51, \"emax_eV\": 10, \"directions\": [\"z\", \"x\"]}",
                                RUNG_COMM_NONE, &spec) == RUNG_OK);
    CHECK(rung_spectrum_use_component(spec, "y") == RUNG_ERR_USAGE);
    CHECK(strstr(last_error(), "no component 'y'") && strstr(last_error(), "x, z"));
    CHECK(rung_spectrum_use_component(spec, "x") == RUNG_OK);
    CHECK(rung_spectrum_use_component(spec, NULL) == RUNG_ERR_USAGE);
    CHECK(rung_spectrum_npoints(spec, &n) == RUNG_OK && n == 51);
    rung_spectrum_free(spec);
    /* Directions as the options may spell them ("Z" is z): the default is still the first one asked, and
     * rung_spectrum_use_component takes the same spelling. On si_tiny's 4x4x4 grid x and z differ a little
     * (max |d Im eps| about 3e-3), so comparing the data tells which component the accessors return. */
    spec = NULL;
    CHECK(rung_compute_spectrum(save, "ipa", "{\"steps\": 51, \"emax_eV\": 10, \"directions\": [\"Z\", \"x\"]}",
                                RUNG_COMM_NONE, &spec) == RUNG_OK);
    {
      double e0[51], re0[51], im0[51], ez[51], rez[51], imz[51], ex[51], rex[51], imx[51];
      double dz = 0, dx = 0;
      CHECK(rung_spectrum_data(spec, e0, re0, im0, 51) == RUNG_OK);
      CHECK(rung_spectrum_use_component(spec, "Z") == RUNG_OK);
      CHECK(rung_spectrum_data(spec, ez, rez, imz, 51) == RUNG_OK);
      CHECK(rung_spectrum_use_component(spec, "x") == RUNG_OK);
      CHECK(rung_spectrum_data(spec, ex, rex, imx, 51) == RUNG_OK);
      for (int i = 0; i < 51; ++i) {
        dz = fmax(dz, fabs(im0[i] - imz[i]));
        dx = fmax(dx, fabs(im0[i] - imx[i]));
      }
      CHECK(dz == 0);
      CHECK(dx > 1e-4);
    }
    rung_spectrum_free(spec);
    /* An RPA run carries its spectrum without local fields (eps_o, the head of the same chi0): that is the IPA of
     * the same settings; an IPA spectrum has none. */
    rung_spectrum *ipa = NULL, *rpa = NULL;
    CHECK(rung_compute_spectrum(save, "ipa", "{\"steps\": 51, \"emax_eV\": 10}", RUNG_COMM_NONE, &ipa) == RUNG_OK);
    CHECK(rung_compute_spectrum(save, "rpa", "{\"steps\": 51, \"emax_eV\": 10, \"block\": 9}", RUNG_COMM_NONE, &rpa) ==
          RUNG_OK);
    double eps_ipa[51], eps_o[51], eps_lf[51];
    CHECK(rung_spectrum_data_nolf(ipa, NULL, eps_o, 51) == RUNG_ERR_USAGE);
    CHECK(strstr(last_error(), "without local fields"));
    CHECK(rung_spectrum_data_nolf(rpa, NULL, eps_o, 50) == RUNG_ERR_BUFFER);
    CHECK(rung_spectrum_data(ipa, NULL, NULL, eps_ipa, 51) == RUNG_OK);
    CHECK(rung_spectrum_data_nolf(rpa, NULL, eps_o, 51) == RUNG_OK);
    CHECK(rung_spectrum_data(rpa, NULL, NULL, eps_lf, 51) == RUNG_OK);
    double top = 0, d_o = 0, d_lf = 0;
    for (int i = 0; i < 51; ++i) {
      top = fmax(top, fabs(eps_ipa[i]));
      d_o = fmax(d_o, fabs(eps_o[i] - eps_ipa[i]));
      d_lf = fmax(d_lf, fabs(eps_lf[i] - eps_ipa[i]));
    }
    /* measured: 4e-6 against a peak of 55 (the IPA and the RPA head sum the same transitions in another order);
     * local fields move Im eps by 9 here */
    CHECK(d_o < 1e-5 * top);
    CHECK(d_lf > 0.05 * top);
    rung_spectrum_free(ipa);
    rung_spectrum_free(rpa);
  }
  CHECK(rung_compute_spectrum(save, "gw", NULL, RUNG_COMM_NONE, &spec) == RUNG_ERR_USAGE);
  /* the theory in any case, as the solver reads it ("IPA" from a Fortran caller) */
  spec = NULL;
  CHECK(rung_compute_spectrum(save, "IPA", "{\"steps\": 51, \"emax_eV\": 10}", RUNG_COMM_NONE, &spec) == RUNG_OK);
  rung_spectrum_free(spec);
  spec = NULL;

  /* With a model (the untrained set of the fixture): select on the save and on its structure. */
  rung_model* model = NULL;
  if (model_dir && rung_model_load(model_dir, &model) == RUNG_OK) {
    int untrained = 0;
    CHECK(rung_model_untrained(model, &untrained) == RUNG_OK && untrained == 1);
    rung_decision *a = NULL, *b = NULL;
    /* "probe": false: the save's structure through the model, as rung_select does (the probe below) */
    CHECK(rung_select_save(model, save, "{\"threshold\": 0.9, \"probe\": false}", RUNG_COMM_NONE, &a) == RUNG_OK);
    CHECK(rung_select(model, cell, 2, pos, z, "{\"threshold\": 0.9}", RUNG_COMM_NONE, &b) == RUNG_OK);
    rung_decision_kind ka = RUNG_UNCERTAIN, kb = RUNG_UNCERTAIN;
    double sca = NAN, scb = NAN, spa, spb, cpu;
    CHECK(rung_decision_kind_of(a, &ka) == RUNG_OK);
    CHECK(rung_decision_kind_of(b, &kb) == RUNG_OK);
    CHECK(rung_decision_numbers(a, &sca, &spa, &cpu) == RUNG_OK);
    CHECK(rung_decision_numbers(b, &scb, &spb, &cpu) == RUNG_OK);
    CHECK(ka == kb);
    CHECK(fabs(sca - scb) < 1e-9); /* same structure, same prediction */
    size_t need = 0;
    /* A NULL buffer is a size query: RUNG_OK with *needed set, and the last failure stays the last (rung.h). */
    const rung_status last_before = rung_last_status();
    CHECK(rung_decision_json(a, NULL, 0, &need) == RUNG_OK && need > 0);
    CHECK(rung_last_status() == last_before);
    char* json = malloc(need + 1);
    CHECK(rung_decision_json(a, json, need + 1, &need) == RUNG_OK);
    CHECK(strstr(json, "\"qe-save\"") != NULL);
    CHECK(strstr(json, "\"untrained\":true") != NULL);
    free(json);
    rung_prediction* p = NULL;
    CHECK(rung_predict(model, cell, 2, pos, z, &p) == RUNG_OK);
    int n = 0;
    CHECK(rung_prediction_npoints(p, &n) == RUNG_OK && n == 2001);
    double* e = malloc(sizeof(double) * n);
    double* ipa = malloc(sizeof(double) * n);
    CHECK(rung_prediction_spectra(p, e, ipa, NULL, n) == RUNG_OK);
    CHECK(fabs(e[n - 1] - 20.0) < 1e-9);
    double psc, pspread;
    CHECK(rung_prediction_sc(p, &psc, &pspread) == RUNG_OK && fabs(psc - sca) < 1e-9);
    /* With the probe (share/models/calibration.json is shipped): the decision rests on rung's own RPA. */
    rung_decision* c = NULL;
    CHECK(rung_select_save(model, save, "{\"threshold\": 0.9}", RUNG_COMM_NONE, &c) == RUNG_OK);
    need = 0;
    CHECK(rung_decision_json(c, NULL, 0, &need) == RUNG_OK && need > 0);
    char* cj = malloc(need + 1);
    CHECK(rung_decision_json(c, cj, need + 1, &need) == RUNG_OK);
    CHECK(strstr(cj, "\"source\":\"qe-probe\"") != NULL);
    free(cj);
    CHECK(rung_decision_free(c) == RUNG_OK);
    /* No model at all (a build without LibTorch): the probe decides alone, and without it the call says a
       model is needed */
    c = NULL;
    CHECK(rung_select_save(NULL, save, "{\"threshold\": 0.9}", RUNG_COMM_NONE, &c) == RUNG_OK);
    double sc_probe = NAN, half = NAN;
    CHECK(rung_decision_numbers(c, &sc_probe, &half, &cpu) == RUNG_OK && sc_probe > 0 && sc_probe < 1 && half > 0);
    CHECK(rung_decision_free(c) == RUNG_OK);
    c = NULL;
    CHECK(rung_select_save(NULL, save, "{\"probe\": false}", RUNG_COMM_NONE, &c) != RUNG_OK && c == NULL);
    free(e);
    free(ipa);
    rung_prediction_free(p);
    rung_decision_free(a);
    rung_decision_free(b);
    rung_model_free(model);
  } else if (model_dir) {
    fprintf(stderr, "no model (%s): %s\n", model_dir, last_error());
    /* without LibTorch the library says so; with it, the fixture's untrained set must load */
    CHECK(!RUNG_TEST_WITH_TORCH && rung_last_status() == RUNG_ERR_UNAVAILABLE);
  }
  CHECK(rung_save_free(save) == RUNG_OK);
  return failures;
}

/* An HDF5 error handler of the host's own: counts the error stacks it is asked to print. */
static int host_handler_calls = 0;
static int host_handler_data = 0;
static herr_t host_handler(hid_t stack, void* data) {
  (void)stack;
  if (data == &host_handler_data) ++host_handler_calls;
  return 0;
}

/* The host sets its own OpenBLAS and OpenMP thread counts and its own HDF5 error handler; rung loads a
 * model (LibTorch), predicts, and fails on a broken HDF5 file. Afterwards everything is as the host set
 * it, and rung's own HDF5 failure reached the host's handler zero times (rung reports errors itself).
 * The pools are looked up as rung looks them up (the process's global symbols); the values 3 differ
 * from the single thread the rung command would set. */
static int host_state(const char* model_dir) {
  typedef int (*get_fn)(void);
  typedef void (*set_fn)(int);
  get_fn blas_get = (get_fn)dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
  set_fn blas_set = (set_fn)dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  get_fn omp_get = (get_fn)dlsym(RTLD_DEFAULT, "omp_get_max_threads");
  set_fn omp_set = (set_fn)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  if (!blas_get || !blas_set) fprintf(stderr, "note: the BLAS is not OpenBLAS; its pool is not checked\n");
  if (blas_set) blas_set(3);
  if (omp_set) omp_set(3);
  const int blas_before = blas_get ? blas_get() : -1;
  const int omp_before = omp_get ? omp_get() : -1;
  CHECK(H5Eset_auto2(H5E_DEFAULT, host_handler, &host_handler_data) >= 0);

  rung_model* model = NULL;
  rung_status s = rung_model_load(model_dir, &model);
  /* capi:c_host_state is registered only for a build with LibTorch (tests/capi/api.cmake): the model must load */
  if (s != RUNG_OK) fprintf(stderr, "rung_model_load(%s): %s\n", model_dir, last_error());
  CHECK(s == RUNG_OK);
  if (s != RUNG_OK) return failures;
  /* fcc Si, a = 10.26 Bohr: a forward pass of every network in the set. */
  double cell[9] = {-5.13, 0, 5.13, 0, 5.13, 5.13, -5.13, 5.13, 0};
  double pos[6] = {0, 0, 0, 2.565, 2.565, 2.565};
  int z[2] = {14, 14};
  rung_prediction* p = NULL;
  CHECK(rung_predict(model, cell, 2, pos, z, &p) == RUNG_OK);
  CHECK(rung_prediction_free(p) == RUNG_OK);
  CHECK(rung_model_free(model) == RUNG_OK);

  /* A file with HDF5's signature and nothing behind it: HDF5 fails inside rung, rung reports it. */
  char broken[] = "/tmp/rung_capi_broken_XXXXXX";
  int fd = mkstemp(broken);
  CHECK(fd >= 0);
  if (fd >= 0) {
    char bytes[512] = "\211HDF\r\n\032\n";
    CHECK(write(fd, bytes, sizeof bytes) == (ssize_t)sizeof bytes);
    close(fd);
    model = NULL;
    CHECK(rung_model_load(broken, &model) == RUNG_ERR_INPUT);
    CHECK(strstr(last_error(), broken) != NULL);
    CHECK(model == NULL);
    unlink(broken);
  }
  CHECK(host_handler_calls == 0);

  if (blas_get) CHECK(blas_get() == blas_before);
  if (omp_get) CHECK(omp_get() == omp_before);
  H5E_auto2_t func = NULL;
  void* data = NULL;
  CHECK(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
  CHECK(func == host_handler && data == &host_handler_data);
  /* The handler is live: an HDF5 failure of the host's own reaches it. */
  CHECK(H5Fopen("/nonexistent/rung/host.h5", H5F_ACC_RDONLY, H5P_DEFAULT) < 0);
  CHECK(host_handler_calls > 0);
  fprintf(stderr, "host_state: OpenBLAS threads %d -> %d, OpenMP max threads %d -> %d, HDF5 handler kept\n",
          blas_before, blas_get ? blas_get() : -1, omp_before, omp_get ? omp_get() : -1);
  return failures;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "basics") == 0) return basics() ? 1 : 0;
  if (argc >= 3 && strcmp(argv[1], "save") == 0) return qe_save(argv[2], argc >= 4 ? argv[3] : NULL) ? 1 : 0;
  if (argc >= 3 && strcmp(argv[1], "host_state") == 0) return host_state(argv[2]) ? 1 : 0;
  fprintf(stderr, "usage: test_capi basics | test_capi save PATH [MODEL_DIR] | test_capi host_state MODEL_DIR\n");
  return 2;
}
