#pragma once
// Spectra: the paper's conventions (2001 points on 0-20 eV, 0.3 eV, the trace), energy grids, dielectric
// functions, and rung's HDF5 spectrum files (read, write, peer codes' files by name).
#include "core/paper.hpp"
#include "core/energy_grid.hpp"
#include "core/spectrum.hpp"
#include "io/spectra/file.hpp"
