#!/usr/bin/env bash
# Installs, from Debian 12's own archive, every package rung needs to build, test and run its examples.
# Installs only what is missing; uses sudo when not root. Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake gfortran pkg-config git clang-format
  libeigen3-dev libhdf5-dev libnetcdf-dev netcdf-bin libfftw3-dev libpugixml-dev
  libopenmpi-dev openmpi-bin
  libtorch-dev libopenblas-dev
  catch2 libcli11-dev nlohmann-json3-dev libfmt-dev libsymspg-dev
  gemmi-dev tao-pegtl-dev libstb-dev
  libplplot-dev plplot-driver-cairo
  quantum-espresso quantum-espresso-data
  python3 python3-numpy python3-h5py procps
  # the Python module and its tests; python3-ase is small (5 packages). python3-pymatgen (for the pymatgen tests
  # and example) adds 34 packages on top of this list (scipy, matplotlib, spglib and sympy come with it already):
  # 16.7 MB to download, 125 MB installed (plotly 45, pandas 39, pymatgen 15, networkx 10); measured with
  # `apt-get -s --no-install-recommends` against a Debian 12 status holding only the required/important packages.
  pybind11-dev python3-dev python3-pytest python3-ase python3-pymatgen
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
# sudo's env_reset drops an exported DEBIAN_FRONTEND, so it is passed through env on each apt-get's command line
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup-debian: not root and sudo is not installed: run as root or install sudo" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
