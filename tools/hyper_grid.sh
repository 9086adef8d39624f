#!/bin/sh
# Trains one model per candidate setting and prints its validation and test scores (doc/models.md, "Batch,
# epochs and rate on validation"). Choices are made on validation only; test is printed to show the spread.
#   tools/hyper_grid.sh DATA.h5 SPLIT_DIR IPA.h5 OUT "MODEL:LR:BATCH:EPOCHS:SEED[:LOSS[:FREEZE]] ..."
# MODEL: tl (RPA by transfer learning from IPA.h5, wd 1e-4), dl (RPA directly, dl100, wd 1e-4), sc (SC model, wd 0),
# ipa (IPA model, lite-pretrained as shipped, wd 1e-4). LOSS: `rung train --loss` (l1 when absent). FREEZE (tl only):
# the parts `rung train --freeze` keeps from IPA.h5, joined by "+" (e.g. node+gat; none when absent).
# Environment: RUNG (rung executable), THREADS (2).
# A candidate whose model file exists in OUT is evaluated again, not retrained. Output: OUT/grid.tsv, one line per
# candidate: model, lr, batch, epochs, seed, loss, freeze, then validation and test (median SC and mean SC for spectra;
# mean |dSC| for sc). A candidate already in grid.tsv (same model, lr, batch, epochs, seed, loss and freeze) has its line
# replaced by the new scores, so running again does not repeat lines; other candidates' lines are kept.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 DATA.h5 SPLIT_DIR IPA.h5 OUT \"MODEL:LR:BATCH:EPOCHS:SEED ...\"" >&2; exit 2; }
data=$1 split=$2 ipa=$3 out=$4 candidates=$5
rung=${RUNG:-rung}
threads=${THREADS:-2}
mkdir -p "$out"
for c in $candidates; do
  IFS=: read -r model lr batch epochs seed loss freeze <<EOF
$c
EOF
  case $model in
    tl) flags="--target rpa --init $ipa --weight-decay 1e-4" ;;
    dl) flags="--target rpa --arch dl100 --weight-decay 1e-4" ;;
    sc) flags="--target sc --arch sc --weight-decay 0" ;;
    ipa) flags="--target ipa --arch ipa --ipa-source any --weight-decay 1e-4" ;;
    *) echo "unknown model '$model' in '$c'" >&2; exit 2 ;;
  esac
  loss=${loss:-l1} freeze=${freeze:-none}
  f="$out/$model.lr$lr.b$batch.e$epochs.s$seed.h5"
  [ "$loss" = l1 ] || f="$out/$model.lr$lr.b$batch.e$epochs.s$seed.$loss.h5"
  if [ "$freeze" != none ]; then
    [ "$model" = tl ] || { echo "FREEZE applies to tl only, in '$c'" >&2; exit 2; }
    flags="$flags --freeze $(echo "$freeze" | tr + ,)"
    f="${f%.h5}.freeze-$freeze.h5"
  fi
  # shellcheck disable=SC2086  # flags is a list of options
  [ -f "$f" ] || "$rung" -q train --data "$data" --split "$split" --threads "$threads" --seed "$seed" $flags \
    --epochs "$epochs" --batch "$batch" --lr "$lr" --loss "$loss" -o "$f" >"$f.log" 2>&1
  for subset in validation test; do
    "$rung" evaluate --model "$f" --data "$data" --split "$split" --subset $subset --json "$f.$subset.json" >/dev/null
  done
  python3 - "$out/grid.tsv" "$f" "$model" "$lr" "$batch" "$epochs" "$seed" "$loss" "$freeze" <<'EOF'
import json, os, sys
grid, f, model = sys.argv[1], sys.argv[2], sys.argv[3]
row = sys.argv[3:10]
for subset in ("validation", "test"):
    m = json.load(open(f"{f}.{subset}.json"))["metrics"]
    row += [f"{m['mean_abs_sc_error']:.4f}"] if model == "sc" else [f"{m['median_sc']:.4f}", f"{m['mean_sc']:.4f}"]
lines = []
if os.path.exists(grid):
    with open(grid) as g:
        lines = [l for l in g.read().splitlines() if l and l.split("\t")[:7] != row[:7]]
lines.append("\t".join(row))
with open(grid + ".tmp", "w") as g:
    g.write("\n".join(lines) + "\n")
os.replace(grid + ".tmp", grid)
print(lines[-1])
EOF
done
