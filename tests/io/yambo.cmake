# YAMBO databases (ns.db1, wavefunctions, KB projectors, dipoles), spectrum text formats and rung's
# HDF5 spectrum file. The netCDF library is linked directly: some tests write small databases; HDF5 to
# check that reading them leaves the host's HDF5 error handler alone.
rung_add_tests(test_io_yambo LABELS readers LIBS netCDF::netcdf HDF5::HDF5 SOURCES
  io/yambo_db1.cpp io/yambo_wavefunctions.cpp io/yambo_dipoles.cpp io/yambo_bad_input.cpp
  io/spectra_text.cpp io/spectra_file.cpp io/spectra_compare.cpp)
rung_test_uses_cli(test_io_yambo)  # `rung compare` (a [cli] case, left out of a readers-only build's run)
