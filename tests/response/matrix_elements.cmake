# Matrix elements of the native optics solver (src/response/{transitions,dipoles,kb_projectors,oscillators,
# wavefunction_rotation,spherical_harmonics}): unit tests and the checks against real QE runs / YAMBO 5.2.4.
rung_add_tests(test_matrix_elements LABELS "response" SOURCES
  response/matrix_elements_units.cpp response/matrix_elements_qe.cpp
  FIXTURES qe_runs LIBS PkgConfig::FFTW3)

# Spin-orbit: the j projectors, fully relativistic UPF data, and AlSb (velocities against finite differences of
# the KS energies, the E0 / E0 + Δ0 peaks at Γ) on the alsb_so fixture runs.
rung_add_tests(test_spin_orbit LABELS "response" SOURCES response/spin_orbit.cpp FIXTURES qe_runs)
rung_test_uses_cli(test_spin_orbit)  # bad pseudopotentials through `rung spectrum`
