#pragma once
// A YAMBO SAVE (p2y's ns.db1 + ns.wf* + ns.kb_pp_pwscf*) presented as a qe::Save, so that the optics solver
// runs on it as on a QE prefix.save: lattice, atoms, symmetries, k-points and KS energies from ns.db1,
// wavefunctions from the ns.wf fragments (read lazily, one k-point at a time), KB projectors from
// ns.kb_pp_pwscf (response/kb_projectors.hpp reads them when `yambo_save` is set). See doc/yambo-reader.md.
#include <filesystem>
#include <optional>

#include "io/qe/save.hpp"

namespace rung::yambo {

// The SAVE folder `path` names: a folder holding ns.db1, one holding SAVE/ns.db1, or ns.db1 itself; nullopt otherwise,
// and for a QE save (a folder holding data-file-schema.xml, or that file), which is read as the QE save it is even
// where it holds a SAVE (p2y run inside it, YAMBO's usual way): every reader of a ground state (the solver, rung
// select and its probe) goes through this one rule, so a decision and its spectra come from the same files.
std::optional<std::filesystem::path> find_save(const std::filesystem::path& path);

// Bad input (fail_input naming the file): no ns.db1, a SAVE without wavefunction fragments (p2y run with the
// wavefunctions removed), missing KB tables, spinors.
qe::Save as_qe_save(const std::filesystem::path& save_dir);

}  // namespace rung::yambo
