#!/usr/bin/env bash
# Checks that the C, C++ and Fortran-free sources changed since BASE follow .clang-format, on the changed lines
# only (git clang-format). BASE: the first argument, else $RUNG_FORMAT_BASE, else the previous commit.
# Prints the reformatting it would apply and exits 1 if there is any; prints "RUNG-SKIP: ..." and exits 0
# outside a git checkout or without git-clang-format.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-${RUNG_FORMAT_BASE:-HEAD~1}}
cd "$root" || exit 2
if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "RUNG-SKIP: not a git checkout"; exit 0; fi
if ! command -v git-clang-format >/dev/null 2>&1; then echo "RUNG-SKIP: git-clang-format not installed"; exit 0; fi
if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then echo "RUNG-SKIP: no commit $base to compare with"; exit 0; fi
# git clang-format --diff exits 0 when it has nothing to change, 1 with a diff in newer versions (0 in older ones),
# 2 on its own errors (clang-format missing, a bad revision), 1 with a traceback on a crash: a diff on stdout means
# unformatted lines, any other non-zero status is an error of the check itself and fails loudly.
err=$(mktemp) || exit 2
trap 'rm -f "$err"' EXIT
out=$(git clang-format --diff "$base" -- '*.c' '*.h' '*.cpp' '*.hpp' 2>"$err")
rc=$?
case "$out" in
  diff*|*$'\n'diff*)
    cat "$err" >&2
    echo "$out"
    echo "clang-format: the lines changed since $base are not formatted (run: git clang-format $base)"
    exit 1 ;;
esac
if [ "$rc" -ne 0 ]; then
  [ -n "$out" ] && echo "$out"
  cat "$err" >&2
  echo "clang-format: \`git clang-format --diff $base\` failed (status $rc); the format was not checked" >&2
  exit 2
fi
cat "$err" >&2
echo "clang-format: the lines changed since $base are formatted"
exit 0
