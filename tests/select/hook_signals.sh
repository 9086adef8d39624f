#!/bin/sh
# `rung hook` and its command (run in a folder holding scf.in and the save it names):
# - a SIGTERM sent to rung alone reaches the command, which would otherwise run on after rung ended, and the
#   command's status (143) comes back;
# - a SIGHUP that rung's caller ignores (nohup) stays ignored, by rung and by the command;
# - a command that cannot be started is 127, as in a shell;
# - a save the command did not rewrite (`true` writes nothing) is refused.
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
# a SIGHUP that rung's caller ignores (nohup) stays ignored by rung and by the command: both keep running
(trap '' HUP; exec "$rung" -q hook --launch none --log - --input scf.in -- sleep 32.3) &
h=$!
sleep 1
kill -HUP "$h"
sleep 0.5
kill -0 "$h" 2>/dev/null && pgrep -f 'sleep 32.3' >/dev/null && echo "hup ignored"
kill -TERM "$h"
wait "$h"
"$rung" -q hook --launch none --log - -- /nonexistent/pw.x -in scf.in 2>/dev/null
echo "start status $?"
"$rung" -q hook --launch none --log - -- true -in scf.in 2>&1
echo "stale status $?"
