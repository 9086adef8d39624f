#pragma once
// Crystal structures (Bohr, lattice vectors as rows, fractional positions) and the readers of CIF, POSCAR,
// pw.x input, QE saves and JSON lines.
#include "core/structure.hpp"
#include "io/structures/reader.hpp"
