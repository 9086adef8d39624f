#pragma once
// UPF pseudopotential files (v1 and v2): the header, the radial mesh and the Kleinman-Bylander
// projectors needed for the [V_nl, r] commutator of the optical matrix elements.
#include <filesystem>
#include <string>
#include <vector>

#include "io/qe/save.hpp"

namespace rung::upf {

struct Projector {
  int l = 0;
  std::vector<double> rbeta;  // r*beta(r) on the mesh (Ry units as stored: QE's PP_BETA), truncated at cutoff_index
  int cutoff_index = 0;       // number of mesh points used
  double j = 0;  // total angular momentum l ± 1/2 of a fully relativistic projector (PP_RELBETA jjj), else 0
};

struct Pseudopotential {
  std::filesystem::path file;
  std::string element;
  qe::PseudoKind kind = qe::PseudoKind::unknown;
  std::string functional;
  double z_valence = 0;
  bool relativistic_spin_orbit = false;  // has_so: every projector carries its j (PP_SPIN_ORB / PP_ADDINFO)
  std::vector<double> r, rab;          // radial mesh and integration weights (Bohr)
  std::vector<Projector> projectors;
  std::vector<double> dij;             // nbeta x nbeta, row-major, Ry (PP_DIJ as stored)
  int nbeta() const { return int(projectors.size()); }

  // Parses the file; malformed/truncated files -> rung::Error (input) naming it.
  static Pseudopotential read(const std::filesystem::path& file);
  // Only reads the header (kind, element, functional): cheap.
  static Pseudopotential read_header(const std::filesystem::path& file);
  // Parses the text of a UPF file (what read/read_header do after loading it); errors name `origin`.
  static Pseudopotential parse(const std::string& text, const std::filesystem::path& origin, bool header_only = false);
};

}  // namespace rung::upf
