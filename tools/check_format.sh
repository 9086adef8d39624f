#!/usr/bin/env bash
# Checks that the C, C++ and Fortran-free sources changed since BASE follow .clang-format, on the changed lines
# only (git clang-format). BASE: the first argument, else $RUNG_FORMAT_BASE, else the previous commit.
# Prints the reformatting it would apply and exits 1 if there is any; prints "RUNG-SKIP: ..." and exits 0
# outside a git checkout or without git-clang-format.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-${RUNG_FORMAT_BASE:-HEAD~1}}
cd "$root"
if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "RUNG-SKIP: not a git checkout"; exit 0; fi
if ! command -v git-clang-format >/dev/null 2>&1; then echo "RUNG-SKIP: git-clang-format not installed"; exit 0; fi
if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then echo "RUNG-SKIP: no commit $base to compare with"; exit 0; fi
out=$(git clang-format --diff "$base" -- '*.c' '*.h' '*.cpp' '*.hpp' 2>&1)
case "$out" in
  diff*) echo "$out"; echo "clang-format: the lines changed since $base are not formatted (run: git clang-format $base)"; exit 1 ;;
  *) echo "clang-format: the lines changed since $base are formatted"; exit 0 ;;
esac
