#!/bin/sh
# Runs ipcproof's case binaries on a LAVA device under test and reports each
# case with lava-test-case, in one test set per area:
#   <claim>.<case>         pass | fail | skip   (KTAP ok / not ok / # SKIP)
#   <claim>.<case>.<key>   pass, measurement: each numeric piece of evidence
#   <area>.complete        fail when the binary printed fewer results than
#                          it planned (it crashed or was killed)
# The results come from the binaries' own --ktap output, kept with their
# stderr in $OUT. POSIX sh and awk only: it also runs in a busybox
# initramfs.
#
# Environment: BINDIR (case binaries built for this device; empty: build them
# from this checkout), AREAS, FILTER (a Criterion pattern), TIME_SCALE,
# OUT (default $TMPDIR/ipcproof-lava).
set -u

here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
BINDIR=${BINDIR:-}
AREAS=${AREAS:-$(grep -v '^#' "$checkout/cases/areas" | tr '\n' ' ')}
FILTER=${FILTER:-}
TIME_SCALE=${TIME_SCALE:-1}
OUT=${OUT:-${TMPDIR:-/tmp}/ipcproof-lava}

command -v lava-test-case >/dev/null 2>&1 || {
	echo "ipcproof-lava: lava-test-case is not on PATH (this runs inside a LAVA test shell)" >&2
	exit 2
}
mkdir -p "$OUT" || exit 2

if [ -z "$BINDIR" ]; then
	jobs=$(nproc 2>/dev/null || echo 2)
	if cmake -S "$checkout" -B "$OUT/build" >"$OUT/build.log" 2>&1 &&
		cmake --build "$OUT/build" -j"$jobs" >>"$OUT/build.log" 2>&1; then
		lava-test-case ipcproof.build --result pass
	else
		tail -n 40 "$OUT/build.log" >&2
		lava-test-case ipcproof.build --result fail
		exit 0
	fi
	BINDIR=$OUT/build/cases
fi

for area in $AREAS; do
	bin=$BINDIR/$area
	if [ ! -x "$bin" ]; then
		echo "ipcproof-lava: no case binary $bin" >&2
		lava-test-case "$area.complete" --result fail
		continue
	fi
	set -- --ktap
	[ -n "$FILTER" ] && set -- "$@" --filter "$FILTER"
	# The binary's exit status is not the verdict (a failing case makes it
	# non-zero); its KTAP lines are.
	IPCPROOF_TIME_SCALE=$TIME_SCALE "$bin" "$@" >"$OUT/$area.ktap" 2>"$OUT/$area.log" </dev/null
	lava-test-set start "$area"
	awk -v area="$area" '
		# Each result is preceded by its case'"'"'s claim (# claim: ID) and
		# evidence (# evidence: KEY=VALUE) diagnostic lines.
		BEGIN { planned = -1; claim = "" }
		/^# claim: / { claim = substr($0, 10); next }
		/^1\.\.[0-9]+$/ && planned < 0 { planned = substr($0, 4) + 0; next }
		/^# evidence: / {
			kv = substr($0, 13); k = kv; sub(/=.*/, "", k); v = substr(kv, length(k) + 2)
			if (v ~ /^-?[0-9]+(\.[0-9]+)?$/) { nm++; mkey[nm] = k; mval[nm] = v }
			next
		}
		/^(ok|not ok) [0-9]+ / {
			ok = $1 == "ok"
			name = $0; sub(/^(ok|not ok) [0-9]+ /, "", name); sub(/ *#.*/, "", name)
			directive = ""
			if (index($0, " # ")) { directive = substr($0, index($0, " # ") + 3); sub(/ .*/, "", directive) }
			result = !ok ? "fail" : directive == "SKIP" ? "skip" : "pass"
			id = (claim == "" ? "unclaimed" : claim) "." substr(name, index(name, "/") + 1)
			# a variant (case@fifo) is one more component of the name
			gsub(/@/, ".", id)
			claim = ""
			print id, result
			for (i = 1; i <= nm; i++) print id "." mkey[i], "pass", mval[i]
			nm = 0; seen++
			next
		}
		/^#/ { next }
		END { print area ".complete", (planned >= 0 && seen == planned) ? "pass" : "fail" }
	' "$OUT/$area.ktap" | while read -r id result measurement; do
		if [ -n "$measurement" ]; then
			lava-test-case "$id" --result "$result" --measurement "$measurement"
		else
			lava-test-case "$id" --result "$result"
		fi
	done
	lava-test-set stop
done
exit 0
