#pragma once
// FNV-1a, 64 bit: the one non-cryptographic hash rung uses for fingerprints of files, identities of model sets
// and fixed orders of materials (none of them needs resistance to collisions made on purpose).
#include <cstdint>
#include <string_view>

namespace rung {

constexpr std::uint64_t fnv1a_offset_basis = 14695981039346656037ull;
// An offset basis one digit short of FNV's. Model-set identities (which calibration files store) and the
// training subsets of `rung train --max-train` were made with it; it is kept so that they stay the same.
constexpr std::uint64_t fnv1a_short_basis = 1469598103934665603ull;

// The hash of `bytes`, continuing from `h` (a running hash: a file read in chunks hashes as a whole).
constexpr std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = fnv1a_offset_basis) {
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace rung
