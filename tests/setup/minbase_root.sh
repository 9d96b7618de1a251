#!/bin/sh
# tests/setup/minbase_root.sh: the machine the portability tests run built
# programs on (tests/e2e/test_portable.py): a Debian 12 root with what
# `debootstrap --variant=minbase bookworm` installs and without the
# libraries a kiln program has to bring with it.
#
#   sh tests/setup/minbase_root.sh DIR
#
# The package set is debootstrap's minbase (every Priority: required
# package, apt and usr-is-merged, with their dependencies), resolved by
# apt-get from bookworm's package list on DEBIAN_MIRROR
# (http://deb.debian.org/debian by default), downloaded with
# `apt-get download` and unpacked with dpkg-deb -x: no maintainer script
# runs and nothing is configured, so a user without root makes the same
# root as root does, and the root is only ever entered to run programs.
# Needs apt-get and dpkg-deb, Debian's archive keyring (apt's signature
# check), and the mirror (about 30 MB).
#
# minbase itself carries some libraries that programs need (libz, liblzma,
# libbz2 and libffi for dpkg and apt, libstdc++ for apt); they are removed
# with everything else BROUGHT names, so that of what the test programs
# load only glibc's libraries and libgcc_s are left: what a kiln program
# may take from the machine. apt and dpkg no longer run in the root, which
# the tests never ask of it.
#
# DIR is made once and kept: DIR.stamp records which version of this
# script made it, and a new version makes it again. It is built beside DIR
# and renamed into place, so an interrupted run leaves no half root.
# Errors: one line on stderr, exit status 1.
set -eu

DIR=${1:?usage: sh tests/setup/minbase_root.sh DIR}
mkdir -p "$(dirname "$DIR")"
DIR=$(cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")  # apt wants absolute paths
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BROUGHT='libssl.so* libcrypto.so* libsqlite3.so* libffi.so* liblzma.so*
	libbz2.so* libz.so* libstdc++.so* libexpat.so* libexpatw.so*
	libmpdec.so* libgfortran.so* libquadmath.so* libopenblas*.so*
	python3*'

fail() { printf 'minbase-root: %s\n' "$*" >&2; exit 1; }

STAMP=$DIR.stamp
want=$(cksum < "$0")
if [ -d "$DIR" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
	exit 0
fi
if [ -e "$DIR" ] && [ ! -f "$STAMP" ]; then
	fail "$DIR exists and was not made by $0: remove it, or name another directory"
fi

for tool in apt-get apt-cache dpkg-deb; do
	command -v $tool >/dev/null 2>&1 ||
		fail "$tool is missing: the test root is made from Debian's packages with apt and dpkg (a Debian or Ubuntu machine)"
done
[ -f "$KEYRING" ] ||
	fail "$KEYRING is missing (apt checks the mirror's signature with it): apt-get install debian-archive-keyring"

WORK=$(mktemp -d "$DIR.work.XXXXXX") || fail "cannot make a directory beside $DIR"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/debs" \
	"$WORK/root" "$WORK/parts"
: > "$WORK/status"
echo "deb [signed-by=$KEYRING] $MIRROR $SUITE main" > "$WORK/sources.list"

# apt with a state of its own: this suite's list, an empty dpkg status (a
# machine with nothing installed), no lock, and the host's apt.conf (its
# proxy) otherwise; as root, no switch to the _apt user, who cannot write
# to WORK.
apt() {
	cmd=$1; shift
	set -- -o Dir::Etc::SourceList="$WORK/sources.list" \
		-o Dir::Etc::SourceParts="$WORK/parts" \
		-o Dir::Etc::Preferences="$WORK/parts/none" \
		-o Dir::Etc::PreferencesParts="$WORK/parts" -o Dir::State::Lists="$WORK/lists" \
		-o Dir::Cache="$WORK/cache" -o Dir::State::status="$WORK/status" \
		-o Debug::NoLocking=1 -o APT::Architecture="$(dpkg --print-architecture)" \
		-o APT::Architectures::="$(dpkg --print-architecture)" "$@"
	[ "$(id -u)" != 0 ] || set -- -o APT::Sandbox::User=root "$@"
	"$cmd" "$@"
}

log=$WORK/apt.log
apt apt-get -q update > "$log" 2>&1 ||
	fail "apt-get update from $MIRROR ($SUITE) failed: $(grep -E '^(E|W):' "$log" | head -n 1)"
required=$(apt apt-cache dumpavail 2>>"$log" |
	awk '/^Package:/ { p = $2 } /^Priority: required$/ { print p }' | sort -u)
[ -n "$required" ] || fail "the package list of $SUITE from $MIRROR names no required package"
# shellcheck disable=SC2086 # $required is a word list
set -- $(apt apt-get -s -q install --no-install-recommends $required apt usr-is-merged 2>>"$log" |
	awk '/^Inst / { print $2 }')
[ $# -gt 0 ] || fail "apt-get could not resolve the minbase package set: $(grep -E '^(E|W):' "$log" | head -n 1)"
(cd "$WORK/debs" && apt apt-get -q download "$@") >> "$log" 2>&1 ||
	fail "apt-get download from $MIRROR failed: $(grep -E '^(E|W):' "$log" | head -n 1)"
for deb in "$WORK"/debs/*.deb; do
	dpkg-deb -x "$deb" "$WORK/root" || fail "dpkg-deb -x $deb failed"
done

# What programs bring, out of the root.
for pattern in $BROUGHT; do
	find "$WORK/root" \( -type f -o -type l \) -name "$pattern" -exec rm -f {} +
done

rm -rf "$DIR" "$STAMP"
mv "$WORK/root" "$DIR"
printf '%s\n' "$want" > "$STAMP"
printf 'minbase-root: made %s (%s packages of %s from %s)\n' "$DIR" $# "$SUITE" "$MIRROR" >&2
