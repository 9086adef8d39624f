#pragma once
// An n1 x n2 x n3 supercell of a structure (same crystal, more atoms): the invariance tests of the graph
// builder and of the model both need it.
#include "core/structure.hpp"

namespace rung::test {

inline Structure supercell(const Structure& s, int n1, int n2, int n3) {
  Structure out;
  out.id = s.id + "_super";
  out.lattice = s.lattice;
  out.lattice.row(0) *= n1;
  out.lattice.row(1) *= n2;
  out.lattice.row(2) *= n3;
  for (int a = 0; a < n1; ++a)
    for (int b = 0; b < n2; ++b)
      for (int c = 0; c < n3; ++c)
        for (std::size_t i = 0; i < s.size(); ++i) {
          out.frac.emplace_back((s.frac[i].x() + a) / n1, (s.frac[i].y() + b) / n2, (s.frac[i].z() + c) / n3);
          out.numbers.push_back(s.numbers[i]);
        }
  return out;
}

}  // namespace rung::test
