#!/bin/sh
# The effect of the data-set factory's settings on the labels: the same materials with the
# default settings and with one setting raised at a time; tools/settings_study.py tabulates the result with
# rung dataset compare.
#   tools/settings_study.sh STRUCTURES.jsonl ID1,ID2,... WORKROOT
set -eu
structures=$1 ids=$2 root=$3
rung=${RUNG:-rung}
mkdir -p "$root"
run() {  # name, extra options...
  name=$1; shift
  "$rung" dataset run --structures "$structures" --ids "$ids" --work-dir "$root/$name" --out "$root/$name.h5" "$@" \
    > "$root/$name.log" 2>&1
}
run default
run nscf_k3000 --nscf-k-density 3000
run window30 --window 30
run gblock999 --solver-options '{"converge_sc": 0.999}'
run scf_k2000 --k-density 2000
