# The one runner, in POSIX sh, so that it runs the same on every kernel: the
# host, UML, gVisor, a QEMU guest with only busybox, a remote over ssh.  A
# plan (written by driver/runner.py) sources this file and calls
#   begin OUT; step NAME LIMIT_S [VAR=value ...] -- PROGRAM ARGS...; finish
# OUT then holds kernel.json (kernel-info), for each step NAME.log (its
# output), NAME.jsonl (the harness's result lines) and one line in
# runs.jsonl, end.json (the taint flags after the run), and `done` last, so a
# reader tells a complete run from one cut short.

# Centiseconds since boot (/proc/uptime has two decimals); "1$frac - 100"
# keeps a fraction such as 08 from reading as octal.
uptime_cs() {
  read -r up _ < /proc/uptime
  echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

begin() {
  out=$1
  mkdir -p "$out" "$out/tmp"
  : > "$out/runs.jsonl"
  "$bin/kernel-info" > "$out/kernel.json"
  cat /proc/sys/kernel/tainted > "$out/taint-before" 2>/dev/null
}

# A step runs with a limit of its own (timeout kills it and its process
# group; the harness's children die with their parent), its temp files in
# OUT/tmp.  Criterion keeps its socket in /tmp whatever TMPDIR says and
# removes it only when it ends by itself: the step's pid names it.
step() {
  name=$1 limit=$2
  shift 2
  set -- "IPCPROOF_RESULTS=$out/$name.jsonl" "TMPDIR=$out/tmp" "$@"
  start=$(uptime_cs)
  timeout -s KILL "$limit" sh -c 'echo $$ > "$0"; while [ "$1" != -- ]; do export "$1"; shift; done; shift; exec "$@"' \
    "$out/$name.pid" "$@" > "$out/$name.log" 2>&1 < /dev/null
  code=$?
  end=$(uptime_cs)
  pid=$(cat "$out/$name.pid" 2>/dev/null)
  [ -n "$pid" ] && rm -f "/tmp/criterion_$pid.sock"
  rm -f "$out/$name.pid"
  hung=false
  [ $(( (end - start) / 100 )) -ge "$limit" ] && hung=true
  cap_log "$out/$name.log"
  echo "{\"step\": \"$name\", \"exit_code\": $code, \"hung\": $hung, \"wall_s\": $(( (end - start) / 100 )).$(( (end - start) % 100 / 10 ))$(( (end - start) % 10 )), \"log_bytes\": $log_bytes, \"log_cap\": $log_cap, \"log_cut\": $log_cut}" >> "$out/runs.jsonl"
}

# A step's output is kept up to log_cap bytes (set by the plan), before the
# output dir travels back: a case that prints without end fills neither the
# driver's memory nor the report's disk.  Cut after the step, not through a
# pipe: a descendant that kept the pipe open would hang the step, and a
# writer killed by SIGPIPE or SIGXFSZ would change the case's outcome.
cap_log() {
  log_bytes=$(( $(wc -c < "$1") ))
  log_cut=false
  if [ "$log_bytes" -gt "$log_cap" ]; then
    head -c "$log_cap" "$1" > "$1.cut"
    echo "
[ipcproof: log cut at $log_cap bytes of $log_bytes]" >> "$1.cut"
    mv "$1.cut" "$1"
    log_cut=true
  fi
}

finish() {
  cat /proc/sys/kernel/tainted > "$out/taint-after" 2>/dev/null
  rmdir "$out/tmp" 2>/dev/null
  echo done > "$out/done"
}
