#!/bin/sh
# Runs the case binaries inside a target kernel (busybox sh is enough):
#   guest-run.sh BINDIR OUTDIR JOBS TIME_SCALE [FILTER]
# OUTDIR gets kernel.json, results.jsonl (the harness's lines), runs.jsonl
# (one line per binary), <area>.log, and `done` last, so a reader can tell a
# complete run from one cut short.
bindir=$1 out=$2 jobs=$3 scale=$4 filter=${5:-}
mkdir -p "$out" "$out/tmp"
export IPCPROOF_RESULTS="$out/results.jsonl" IPCPROOF_TIME_SCALE="$scale" TMPDIR="$out/tmp"
"$bindir/kernel-info" > "$out/kernel.json"
for area in pipe fifo mmap ipc; do
  [ -x "$bindir/$area" ] || continue
  start=$(date +%s)
  if [ -n "$filter" ]; then
    "$bindir/$area" "--jobs=$jobs" --short-filename --ascii "--filter=$filter" > "$out/$area.log" 2>&1
  else
    "$bindir/$area" "--jobs=$jobs" --short-filename --ascii > "$out/$area.log" 2>&1
  fi
  code=$?
  echo "{\"binary\": \"$area\", \"exit_code\": $code, \"hung\": false, \"wall_s\": $(( $(date +%s) - start ))}" >> "$out/runs.jsonl"
done
rmdir "$out/tmp" 2>/dev/null
echo done > "$out/done"
