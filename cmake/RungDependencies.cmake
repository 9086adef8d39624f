# Every third-party dependency comes from Debian 12 packages (see tools/setup-debian.sh).
find_package(PkgConfig REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(netCDF REQUIRED)
find_package(pugixml REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
pkg_check_modules(SPGLIB REQUIRED IMPORTED_TARGET spglib)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
find_package(OpenMP COMPONENTS CXX)

if(RUNG_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS C CXX Fortran)
endif()

if(RUNG_WITH_TORCH)
  # Debian's libtorch-dev; TorchConfig pulls in Caffe2 and wants CUDA variables it never uses.
  find_package(Torch REQUIRED)
endif()

# gemmi-dev is header-only on Debian 12.
find_path(GEMMI_INCLUDE_DIR gemmi/cif.hpp REQUIRED)

find_package(PkgConfig)
pkg_check_modules(PLPLOT IMPORTED_TARGET plplot-c++)
if(NOT PLPLOT_FOUND)
  # the figures (rung plot, validate --plot, select --plot, dataset stats --plot) then say they are not built in,
  # and the tests of figures are skipped: install libplplot-dev plplot-driver-cairo (tools/setup-debian.sh does)
  message(STATUS "rung: the figures are not built (needs libplplot-dev and plplot-driver-cairo; the tests of "
                 "figures are skipped)")
endif()
