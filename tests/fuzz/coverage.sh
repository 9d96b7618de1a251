#!/bin/sh
# tests/fuzz/coverage.sh: line coverage of the files each fuzz target is
# about, by its corpus: the last `make fuzz-run`'s (FUZZ/run/TARGET) when
# there is one, else its seeds. Each FUZZ/cov/fuzz_TARGET (built by
# `make fuzz-coverage` with clang's source-based coverage) runs every input
# once (-runs=0); llvm-profdata merges the counts and llvm-cov reports the
# target's files, one table per target.
#
#   sh tests/fuzz/coverage.sh FUZZ TARGET...
#
# LLVM_COV and LLVM_PROFDATA name the tools (default llvm-cov and
# llvm-profdata, of clang's version; Debian package llvm).
set -u

FUZZ=$1
shift
cov=${LLVM_COV:-llvm-cov} profdata=${LLVM_PROFDATA:-llvm-profdata}
for tool in "$cov" "$profdata"; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "fuzz coverage: $tool is missing (Debian package llvm, of clang's version): run sudo apt-get install llvm" >&2
		exit 1
	}
done

# The files target $1 is about.
files() {
	case $1 in
	bundle) echo src/bundle/bundle_reader.c src/common/kl_checksum.c ;;
	elf) echo src/elf/elf_reader.c ;;
	config) echo src/freeze/fz_project.c src/cli/cli_options.c src/freeze/fz_interp.c ;;
	ldso) echo src/freeze/fz_ldso.c ;;
	esac
}

status=0
for t in "$@"; do
	corpus=$FUZZ/run/$t
	[ -d "$corpus" ] || corpus=$FUZZ/corpus/$t
	rm -f "$FUZZ/cov/$t.profraw" "$FUZZ/cov/$t.profdata"
	LLVM_PROFILE_FILE=$FUZZ/cov/$t.profraw "$FUZZ/cov/fuzz_$t" -runs=0 \
		-close_fd_mask=3 "$corpus" >/dev/null 2>&1
	if ! "$profdata" merge -sparse -o "$FUZZ/cov/$t.profdata" "$FUZZ/cov/$t.profraw"; then
		echo "fuzz coverage: $t: no profile from $FUZZ/cov/fuzz_$t" >&2
		status=1
		continue
	fi
	echo "fuzz coverage: $t, $(ls "$corpus" | wc -l) inputs of $corpus"
	# shellcheck disable=SC2046 # a word list
	"$cov" report "$FUZZ/cov/fuzz_$t" -instr-profile="$FUZZ/cov/$t.profdata" $(files "$t")
done
exit $status
