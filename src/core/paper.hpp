#pragma once
// The conventions of the paper rung reproduces (Grossmann et al., OPTIMATE; doc/selection.md): every
// spectrum is Im eps of the trace (the mean of xx, yy, zz) on 2001 points from 0 to 20 eV (10 meV steps),
// broadened by 0.3 eV; the RPA includes the bands up to VBM + 20 eV. Stated once here; the defaults of the
// requests, the grids, the models and the data set are built from these values.
#include <cstddef>

namespace rung::paper {

inline constexpr double emin_eV = 0.0;
inline constexpr double emax_eV = 20.0;
inline constexpr std::size_t steps = 2001;   // emin..emax inclusive: 10 meV apart
inline constexpr double broadening_eV = 0.3;  // Lorentzian width of the labels (YAMBO's default too)
inline constexpr const char* component = "trace";
inline constexpr double band_window_eV = 20.0;  // empty bands up to VBM + this

}  // namespace rung::paper
