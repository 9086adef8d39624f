#!/bin/sh
# `rung hook` and its command (run in a folder holding scf.in and the save it names):
# - a SIGTERM sent to rung alone reaches the command, which would otherwise run on after rung ended, and the
#   command's status (143) comes back;
# - a command that cannot be started is 127, as in a shell;
# - a save older than the command's start (`true` writes nothing; the fixture's save is from before) is refused.
#   hook_signals.sh RUNG
rung=$1
"$rung" -q hook --launch none --log - --input scf.in -- sleep 31.7 &
h=$!
sleep 1
kill -TERM "$h"
wait "$h"
echo "hook status $?"
sleep 0.3
pgrep -f 'sleep 31.7' >/dev/null && { echo ORPHAN; pkill -f 'sleep 31.7'; }
"$rung" -q hook --launch none --log - -- /nonexistent/pw.x -in scf.in 2>/dev/null
echo "start status $?"
"$rung" -q hook --launch none --log - -- true -in scf.in 2>&1
echo "stale status $?"
