#!/usr/bin/env bash
# Installs, from Debian 12's own archive, every package rung needs to build, test and run its examples.
# Installs only what is missing; uses sudo when not root. Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake gfortran pkg-config git clang-format
  libeigen3-dev libhdf5-dev libnetcdf-dev netcdf-bin libfftw3-dev libpugixml-dev
  libopenmpi-dev openmpi-bin
  libtorch-dev libopenblas0-openmp libopenblas-dev
  catch2 libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libsymspg-dev
  gemmi-dev tao-pegtl-dev libstb-dev
  libplplot-dev plplot-driver-cairo
  quantum-espresso quantum-espresso-data
  python3 python3-numpy python3-h5py
  # the Python module and its tests; python3-ase is small (5 packages). python3-pymatgen is not (some 80
  # packages): install it by hand to run the pymatgen tests and example, which skip without it.
  pybind11-dev python3-dev python3-pytest python3-ase
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-debian: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup-debian: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
