#!/bin/sh
# tests/fuzz/run.sh: runs fuzz targets for a bounded time each and fails
# on any finding: a crash, a sanitizer report, a leak, a broken contract,
# an input that takes over FUZZ_TIMEOUT seconds or memory over the limit.
#
#   sh tests/fuzz/run.sh FUZZ SECONDS TARGET...
#
# For each TARGET, one after the other: its seeds (FUZZ/corpus/TARGET) are
# copied to FUZZ/run/TARGET, made anew each run, which the target then
# grows; FUZZ/fuzz_TARGET runs over it for SECONDS with its output in
# FUZZ/run/TARGET.log. A finding is saved in FUZZ/findings/TARGET/; the
# script names the target, what was found and that file, and goes on with
# the next target. Its last lines are one summary per target (runs,
# runs per second, libFuzzer's cov: and ft: figures, corpus size). Exit
# status 1 when any target found something.
#
# FUZZ_JOBS=N runs the targets N at a time (each still one process).
# Inputs are at most FUZZ_MAX_LEN bytes (default: the largest seed).
set -u

FUZZ=$1 SECONDS_EACH=$2
shift 2
TIMEOUT=${FUZZ_TIMEOUT:-10}
JOBS=${FUZZ_JOBS:-1}
status=0

# libFuzzer's options for target $1, beyond the common ones. The config
# target runs CPython: its messages about refused options go to stderr
# (closed: libFuzzer keeps its own), and see tests/fuzz/README.md on leaks.
options() {
	case $1 in
	config) echo "-close_fd_mask=2 -rss_limit_mb=4096" ;;
	*) echo "" ;;
	esac
}

# Run target $1 and write what became of it to FUZZ/run/$1.result.
run_one() {
	t=$1
	bin=$FUZZ/fuzz_$t corpus=$FUZZ/run/$t log=$FUZZ/run/$t.log
	findings=$FUZZ/findings/$t
	rm -rf "$corpus" "$log" "$FUZZ/run/$t.result"
	mkdir -p "$corpus" "$findings"
	[ -x "$bin" ] || { echo "fuzz: $t: $bin is missing: run make fuzz" > "$FUZZ/run/$t.result"; return; }
	cp -R "$FUZZ/corpus/$t/." "$corpus/" 2>/dev/null
	# shellcheck disable=SC2046 # options are a word list
	"$bin" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" \
		-print_final_stats=1 -artifact_prefix="$findings/" \
		${FUZZ_MAX_LEN:+-max_len=$FUZZ_MAX_LEN} $(options "$t") \
		"$corpus" < /dev/null > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $t: ok, ${runs:-?} runs in ${SECONDS_EACH} s (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}" > "$FUZZ/run/$t.result"
		return
	fi
	what=$(grep -m 1 -E 'SUMMARY: |ERROR: libFuzzer: |contract broken' "$log" | sed 's/^==[0-9]*==//')
	file=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -n 1)
	echo "fuzz: $t: FOUND ${what:-exit status $rc}; input ${file:-not saved}; log $log" > "$FUZZ/run/$t.result"
}

if [ "$JOBS" -le 1 ]; then
	for t in "$@"; do run_one "$t"; cat "$FUZZ/run/$t.result"; done
else
	n=0
	for t in "$@"; do
		run_one "$t" &
		n=$((n + 1))
		[ $((n % JOBS)) -ne 0 ] || wait
	done
	wait
fi
echo "fuzz: summary"
for t in "$@"; do
	cat "$FUZZ/run/$t.result"
	grep -q ': FOUND \|is missing' "$FUZZ/run/$t.result" && status=1
done
exit $status
