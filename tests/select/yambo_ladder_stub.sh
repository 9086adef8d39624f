#!/bin/sh
# A converging `rung select --launch yambo` on a QE save with stub p2y and yambo programs in STUB/bin: the stub yambo
# writes FIRST as the o- spectrum of the ladder's first block and LATER as that of every later block (real YAMBO
# outputs, so that the script's `rung compare` reads real files). Prints "exit status N" and the decision log.
#   yambo_ladder_stub.sh STUB RUNG SAVE MODELS FIRST LATER
stub=$1 rung=$2 save=$3 models=$4 first=$5 later=$6
for f in "$first" "$later"; do
  test -f "$f" || { echo "$f is missing"; exit 1; }
done
rm -rf "$stub" && mkdir -p "$stub/bin" || exit 1
printf '#!/bin/sh\nmkdir -p SAVE\n' > "$stub/bin/p2y"
cat > "$stub/bin/yambo" <<STUB
#!/bin/sh
while [ \$# -gt 0 ]; do
  if [ "\$1" = -J ]; then
    if [ -e '$stub/first_done' ]; then cp '$later' "o-\$2.eps_q1_inv_rpa_dyson"
    else cp '$first' "o-\$2.eps_q1_inv_rpa_dyson"; touch '$stub/first_done'; fi
  fi
  shift
done
exit 0
STUB
chmod +x "$stub/bin/p2y" "$stub/bin/yambo"
PATH="$stub/bin:$PATH" "$rung" -q select "$save" --model "$models" --threshold 1.0 --launch yambo \
  --outdir "$stub/out" --log "$stub/log.jsonl" > /dev/null
echo "exit status $?"
cat "$stub/log.jsonl"
