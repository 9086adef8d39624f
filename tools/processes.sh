# shellcheck shell=sh
# Process helpers for the training scripts (sourced by tools/train_models.sh, tools/cv_folds.sh and
# tools/data_round.sh).

# dash runs an EXIT trap when the shell dies of a signal only if the signal's own trap exits: these make TERM, INT
# and HUP exit with the shell's usual status, so that the EXIT trap (which stops background trainings) runs.
exit_on_signals() {
  trap 'exit 143' TERM
  trap 'exit 130' INT
  trap 'exit 129' HUP
}

# A process and everything it started (pkill -P alone misses the grandchildren, e.g. a val_score's rung evaluate).
kill_tree() {  # pid
  for c in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
