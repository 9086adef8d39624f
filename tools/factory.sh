#!/bin/sh
# The data-set factory in the background (doc/dataset.md, "To continue"): two one-rank farms
# at low priority, the full tier in the committed order list and the lite tier over the cells of <= 4 atoms (cells
# without a lite record in the committed file first, smallest first), both into one work folder; the full farm keeps
# its scf for the lite farm only for cells of <= 4 atoms.
#   tools/factory.sh start DIR     order lists, copies of the committed data set, both farms started (logs in DIR)
#   tools/factory.sh status DIR    which farms run, records and lines "done" so far
#   tools/factory.sh pause DIR     stop both farms and their pw.x (SIGSTOP), e.g. for a benchmark
#   tools/factory.sh resume DIR    continue them (SIGCONT)
#   tools/factory.sh stop DIR      end both farms (a material in flight is computed again at the next start)
#   tools/factory.sh snapshot DIR  write the work folder's labels that the committed data set lacks into
#                                  share/dataset/pending.h5 (commit it: a later start, on any machine, resumes
#                                  from the data set and it, and the next round merges it)
# The work folder is DIR/WORK; a round is then `tools/data_round.sh DIR/WORK SPLIT ROUND`.
# Environment: RUNG (rung executable; default build/src/cli/rung), STRUCTURES (the structure list, default
# ../shared/structures/alexandria_main_group.jsonl), PYTHON (a python3 with h5py, default python3).
set -eu
[ $# -eq 2 ] || { echo "usage: tools/factory.sh start|status|pause|resume|stop|snapshot DIR" >&2; exit 2; }
action=$1 dir=$2
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac  # (absolute: start changes into it)
root=$(cd "$(dirname "$0")/.." && pwd)
rung=${RUNG:-$root/build/src/cli/rung}
case $rung in */*) rung=$(cd "$(dirname "$rung")" && pwd)/$(basename "$rung") ;; esac  # absolute: the farms run in DIR
structures=${STRUCTURES:-$root/../shared/structures/alexandria_main_group.jsonl}
python=${PYTHON:-python3}
pending=$root/share/dataset/pending.h5
# the repository's pseudopotential table also for a copy of the binary kept elsewhere (an installed or copied rung
# otherwise looks for share/ beside its own library)
export RUNG_SHARE_DIR="${RUNG_SHARE_DIR:-$root/share}"

# A pid file's process, if it is still that farm: a `rung dataset run` leading its own process group with DIR as
# its folder (after a reboot, or long after a farm ended, the number may belong to another process, whose group
# `stop` must not signal).
farm_pid() {  # tier
  p=$(cat "$dir/$1.pid" 2>/dev/null) || return 0
  case $p in '' | *[!0-9]*) return 0 ;; esac
  [ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" = "$p" ] || return 0
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q ' dataset run ' || return 0
  [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$(cd "$dir" && pwd -P)" ] || return 0
  echo "$p"
}
farm_pids() {  # the farms of DIR that run
  for tier in full lite; do farm_pid "$tier"; done
}
signal_farms() {  # signal: to each farm's whole process group (its pw.x children too)
  for p in $(farm_pids); do pkill "-$1" -g "$p" || true; done
}

case $action in
start)
  [ -d "$dir" ] || mkdir -p "$dir"
  # one start at a time: two would both find no farm running and start four
  mkdir "$dir/.starting" 2>/dev/null || {
    echo "factory.sh: another start of $dir is under way (or was killed: remove $dir/.starting)" >&2
    exit 1
  }
  trap 'rmdir "$dir/.starting" 2>/dev/null || true' EXIT
  [ -z "$(farm_pids)" ] || {
    echo "factory.sh: farms of $dir are running already (tools/factory.sh status $dir)" >&2
    exit 1
  }
  [ -x "$rung" ] || { echo "factory.sh: $rung: no rung executable (build first, or set RUNG)" >&2; exit 2; }
  [ -f "$structures" ] || { echo "factory.sh: $structures: no structure list (set STRUCTURES)" >&2; exit 2; }
  mkdir -p "$dir/WORK"
  data=$root/share/dataset/rung-dataset.h5
  "$python" - "$root/share/dataset/order.txt" "$structures" "$dir" "$data" "$pending" <<'EOF'
import json, os, sys
import h5py
order, structures, out = sys.argv[1:4]
rows = {}
with open(structures) as f:
    for line in f:
        if line.strip():
            rows[json.loads(line)["id"]] = line if line.endswith("\n") else line + "\n"
ids = [l.strip() for l in open(order) if l.strip()]
missing = [i for i in ids if i not in rows]
if missing:
    sys.exit(f"factory.sh: {len(missing)} ids of {order} are not in {structures} (first {missing[0]})")
have = set()  # materials with a lite record (a spectrum, or a failure) in the committed files
for data in sys.argv[4:]:
    if os.path.exists(data):
        with h5py.File(data, "r") as f:
            have |= {i for i, g in f["materials"].items() if "lite" in json.loads(g.attrs.get("provenance", "{}") or "{}")}
with open(f"{out}/ordered.jsonl", "w") as f:
    f.writelines(rows[i] for i in ids)
small = [i for i in ids if json.loads(rows[i])["nsites"] <= 4]
first = sorted((i for i in small if i not in have), key=lambda i: json.loads(rows[i])["nsites"])
with open(f"{out}/lite_order.jsonl", "w") as f:
    f.writelines(rows[i] for i in first + [i for i in small if i in have])
print(f"factory.sh: {len(ids)} structures in the full order, {len(small)} cells of <= 4 atoms for the lite tier "
      f"({len(first)} without a lite record in the committed file first)")
EOF
  # each farm's DATA.h5 (which it resumes from): the committed data set, with the labels computed since it was
  # committed (pending.h5) in place of its own
  # (a copy goes to a temporary name first: one cut short by a kill is never taken for the farm's file at the next
  # start, which skips a file that exists; `rung dataset combine` writes atomically itself)
  for tier in full lite; do
    [ -f "$dir/$tier.h5" ] && continue
    if [ -f "$pending" ]; then
      "$rung" dataset combine "$data" "$pending" --out "$dir/$tier.h5" >/dev/null
    else
      rm -f "$dir/$tier.h5.tmp"
      cp "$data" "$dir/$tier.h5.tmp"
      mv "$dir/$tier.h5.tmp" "$dir/$tier.h5"
    fi
  done
  # setsid: a scheduler group of its own, which the farm then nices (nice alone does not yield to other groups)
  cd "$dir"
  # (rung's path reaches the farm's shell as $0, so no quoting of it can break the command)
  # shellcheck disable=SC2016  # expanded by the farm's shell
  farm='echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 "$0" dataset run "$@"'
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 setsid sh -c "$farm" "$rung" \
    --structures ordered.jsonl --work-dir WORK --out full.h5 --keep-scf-max-atoms 4 >>full.log 2>&1 &
  echo $! >full.pid
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 setsid sh -c "$farm" "$rung" \
    --tier lite --structures lite_order.jsonl --work-dir WORK --out lite.h5 >>lite.log 2>&1 &
  echo $! >lite.pid
  echo "factory.sh: farms started (logs $dir/full.log, $dir/lite.log)"
  ;;
status)
  for tier in full lite; do
    p=$(farm_pid "$tier")
    state=stopped
    [ -n "$p" ] && state="running (pid $p)"
    # a paused farm (SIGSTOP: state T) is not running
    [ -n "$p" ] && [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" = T ] && state="paused (pid $p; tools/factory.sh resume)"
    n=$(grep -c ": done (" "$dir/$tier.log" 2>/dev/null || true)
    echo "$tier: $state; ${n:-0} materials done since the logs began"
  done
  echo "records: $(find "$dir/WORK/records" -name '*.json' ! -name '*.lite.json' | wc -l) full, $(find "$dir/WORK/records" -name '*.lite.json' | wc -l) lite"
  ;;
snapshot)
  [ -d "$dir/WORK/records" ] || { echo "factory.sh: $dir/WORK/records: no such folder" >&2; exit 2; }
  base=$root/share/dataset/rung-dataset.h5
  if [ -f "$pending" ]; then
    # the pending labels this work folder may not hold (a farm started before they were committed) are kept: the
    # delta against the data set with them, then added to them
    "$rung" dataset combine "$base" "$pending" --out "$dir/.snapshot-base.h5" >/dev/null
    "$rung" dataset delta "$dir/WORK" --base "$dir/.snapshot-base.h5" --out "$dir/.snapshot-delta.h5" >/dev/null
    "$rung" dataset combine "$pending" "$dir/.snapshot-delta.h5" --out "$pending"
    rm -f "$dir/.snapshot-base.h5" "$dir/.snapshot-delta.h5"
  else
    "$rung" dataset delta "$dir/WORK" --base "$base" --out "$pending"
  fi
  "$rung" dataset stats "$pending" | head -n 4
  ;;
pause) signal_farms STOP ;;
resume) signal_farms CONT ;;
stop)
  signal_farms CONT
  signal_farms TERM
  rm -f "$dir/full.pid" "$dir/lite.pid"
  ;;
*)
  echo "usage: tools/factory.sh start|status|pause|resume|stop DIR" >&2
  exit 2
  ;;
esac
