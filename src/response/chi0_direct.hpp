#pragma once
// The exact route: chi0 frequency by frequency, M(ω_i) = A^H diag(w_t F(ω_i, E_t)) A, one ZGEMM per
// frequency (cost N_ω·N_t·n²). Kept for verification of the spectral route (`--method direct`).
#include <vector>

#include "core/parallel.hpp"
#include "response/broadening.hpp"
#include "response/chi0.hpp"
#include "response/oscillator_table.hpp"

namespace rung::response {

// Uses the first `n_columns` columns of the table (all when -1): sub-blocks of the G block.
// Each rank passes its own transitions; the result is summed over `comm`.
Chi0 chi0_direct(const OscillatorTable& table, const std::vector<double>& omega_Ha, const FrequencyKernel& kernel,
                 const Comm& comm, int n_columns = -1, bool show_progress = false);

}  // namespace rung::response
