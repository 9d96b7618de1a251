#!/bin/sh
# tests/setup/fresh_machine.sh: proves that the README's two commands, `make`
# and `make test`, set kiln up by themselves on a fresh Debian 12. It
# debootstraps a bookworm root with only python3 and build-essential, clones
# this checkout's HEAD into a copy of it and runs the two commands there:
#   root  as root: make apt-get installs what it lacks;
#   user  as a user without sudo, after root ran `apt-get update` but with
#         no -dev package installed: make fetches what it lacks into the
#         build folder (apt-get download + dpkg -x); first, with
#         INSTALL_DEPS=no, make must stop with one line naming the package.
#   py314 as root, in a Debian unstable root with python3.14 and
#         build-essential only: `make PYTHON=python3.14`, then the unit and
#         end-to-end tests against it (CPython 3.14 has no
#         _Py_InitializeMain: its programs start the other way,
#         docs/runtime.md; its matrix is this scenario, not `make matrix`).
#
#   sh tests/setup/fresh_machine.sh [root] [user] [py314]
#                                   (as root; .ci/run runs all three, the
#                                   default)
#
# It tests the committed HEAD, not the work tree: commit first. The base
# roots are cached as build/fresh-machine/bookworm-base.tar and
# sid-py314-base.tar (delete one to start from a new debootstrap); each run
# unpacks fresh copies. Each command
# runs in the root, in its own mount and PID namespaces with its own /proc:
# nothing it mounts or starts outlives it. Network: the Debian mirror, and
# PyPI for pytest (through the host's pip certificate and proxy, if any).
set -eu
SCENARIOS=${*:-root user py314}

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
LIMIT=${FRESH_MACHINE_TIMEOUT:-1500}  # seconds for one command in the root

say() { printf 'fresh-machine: %s\n' "$*"; }
fail() { printf 'fresh-machine: FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] ||
	fail "needs root (debootstrap, chroot, unshare): sudo sh $0"
for tool in debootstrap unshare chroot git tar timeout; do
	command -v $tool >/dev/null 2>&1 ||
		fail "$tool is missing: apt-get install debootstrap git util-linux coreutils tar"
done

REPO=$(cd "$(dirname "$0")/../.." && git rev-parse --show-toplevel) ||
	fail "$(dirname "$0")/../.. is not a git checkout"
REV=$(git -C "$REPO" rev-parse HEAD)
WORK=$REPO/build/fresh-machine
BASE=$WORK/bookworm-base.tar
mkdir -p "$WORK"
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] ||
	say "note: testing commit $(git -C "$REPO" rev-parse --short HEAD); uncommitted changes are not in it (commit them first)"

# ---- clean-up --------------------------------------------------------------
# The mounts live in namespaces that end with their command; should one be
# left under WORK all the same, it is unmounted before anything is removed.
unmount_under() {
	awk -v w="$1/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" || :; done
}
remove_root() {
	unmount_under "$1"
	if awk -v w="$1/" 'index($5, w) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		fail "$1 still has mounts; not removing it"
	fi
	rm -rf "$1"
}
cleanup() { unmount_under "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the base roots: minbase + a Python + build-essential, and a user ----
# make_base TAR SUITE PACKAGES: debootstrap SUITE into TAR once.
make_base() {
	[ ! -f "$1" ] || return 0
	say "debootstrap $2 (minbase, $3) from $MIRROR"
	remove_root "$WORK/base"
	debootstrap --variant=minbase --include="$3" \
		"$2" "$WORK/base" "$MIRROR" > "$WORK/debootstrap-$2.log" 2>&1 ||
		fail "debootstrap $2 failed: see $WORK/debootstrap-$2.log"
	chroot "$WORK/base" useradd --create-home --uid 1000 --shell /bin/sh builder
	chroot "$WORK/base" apt-get clean
	tar -C "$WORK/base" --numeric-owner -cf "$1.tmp" .
	mv "$1.tmp" "$1"
	remove_root "$WORK/base"
}
T0=$(date +%s)
case " $SCENARIOS " in
*" root "*|*" user "*) make_base "$BASE" bookworm python3,build-essential ;;
esac
SID_BASE=$WORK/sid-py314-base.tar
case " $SCENARIOS " in
*" py314 "*) make_base "$SID_BASE" sid python3.14,python3.14-venv,build-essential ;;
esac
T_BASE=$(($(date +%s) - T0))

# What the host needs to reach PyPI: a certificate (a network that inspects
# TLS) and proxies, passed on to pip in the root.
PIP_CERT_FILE=${PIP_CERT:-$(python3 -m pip config list 2>/dev/null |
	sed -n "s/^global\\.cert='\\(.*\\)'\$/\\1/p" | head -n 1)}

# new_root NAME HOME [BASE]: a fresh copy of BASE (the bookworm base) with
# the clone in HOME.
new_root() {
	root=$WORK/root-$1
	remove_root "$root"
	mkdir -p "$root"
	tar -C "$root" --numeric-owner -xpf "${3:-$BASE}"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	if [ -n "$PIP_CERT_FILE" ] && [ -f "$PIP_CERT_FILE" ]; then
		cp "$PIP_CERT_FILE" "$root/etc/host-pip-cert.pem"
	fi
	git clone -q --no-hardlinks "$REPO" "$root/$2/kiln"
	git -C "$root/$2/kiln" checkout -q --detach "$REV"
}

# in_root ROOT USER COMMAND: COMMAND (sh) in ROOT as USER (root or builder),
# from USER's home, with a clean environment. ROOT becomes the root of the
# command's mount namespace (pivot_root) rather than a chroot: a chrooted
# process may not make a user namespace, which the tests that run
# programs in a root of their own need as a user (tests/e2e/conftest.py,
# in_namespaces).
in_root() {
	if [ "$2" = root ]; then spec=0:0 home=/root; else spec=1000:1000 home=/home/builder; fi
	set -- "$1" "$spec" "$home" "$3"
	[ -f "$1/etc/host-pip-cert.pem" ] && set -- "$@" PIP_CERT=/etc/host-pip-cert.pem
	for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
		eval "[ -z \"\${$v:-}\" ] || set -- \"\$@\" $v=\"\$$v\""
	done
	timeout --kill-after=30 "$LIMIT" \
	unshare --mount --pid --fork --propagation private sh -c '
		root=$1 spec=$2 home=$3 cmd=$4; shift 4
		mount --bind "$root" "$root" &&
		mount -t proc proc "$root/proc" &&
		mount -t tmpfs -o mode=1777 shm "$root/dev/shm" &&
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" &&
		cd "$root" && pivot_root . . && umount -l . &&
		exec chroot --userspec="$spec" / /usr/bin/env -i HOME="$home" \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 TERM=dumb "$@" /bin/sh -c "cd && $cmd"
	' sh "$@"
}

# timed NAME ROOT USER COMMAND: COMMAND in the clone (in_root), with the
# seconds it took in T_NAME.
timed() {
	name=$1; shift
	t=$(date +%s)
	say "[$2] $3"
	in_root "$1" "$2" "cd kiln && $3" || fail "[$2] '$3' failed (the root is kept in $1)"
	eval "T_$name=$(($(date +%s) - t))"
}

installed() { chroot "$1" dpkg-query -W -f '${Status}' "$2" 2>/dev/null | grep -q ' installed$'; }

T_root_make=- T_root_test=- T_user_make=- T_user_test=- T_py314_make=- T_py314_test=-

# root: make installs what it lacks.
scenario_root() {
	new_root root root
	R=$WORK/root-root
	timed root_make "$R" root make
	timed root_test "$R" root 'make test'
	for p in libzstd-dev strace; do
		installed "$R" $p || fail "[root] make did not install $p"
	done
	remove_root "$R"
}

# user: make fetches what it lacks into the build folder.
scenario_user() {
	new_root user home/builder
	U=$WORK/root-user
	chown -R 1000:1000 "$U/home/builder"
	in_root "$U" root 'apt-get -qq update' || fail "[root] apt-get update failed"
	for p in libzstd-dev libpython3.11-dev python3.11-venv strace sudo; do
		! installed "$U" $p || fail "[user] $p is installed: the test needs a root without it"
	done

	say "[builder] make INSTALL_DEPS=no BUILD=build-no-install (must stop with one line)"
	if out=$(in_root "$U" builder 'cd kiln && make INSTALL_DEPS=no BUILD=build-no-install' 2>&1); then
		fail "[builder] make succeeded without the -dev packages and with INSTALL_DEPS=no"
	fi
	printf '  %s\n' "$out"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "[builder] make said more than one line"
	case $out in
	*"sudo apt-get install "*) ;;
	*) fail "[builder] the line does not say which command installs what is missing" ;;
	esac

	timed user_make "$U" builder make
	timed user_test "$U" builder 'make test'
	for p in libzstd-dev libpython3.11-dev strace; do
		! installed "$U" $p || fail "[user] $p got installed into the system"
	done
	remove_root "$U"
}

# py314: CPython 3.14 from Debian unstable; make installs its -dev package.
scenario_py314() {
	new_root py314 root "$SID_BASE"
	P=$WORK/root-py314
	M='PYTHON=python3.14 TEST_PYTHON=python3.14'
	timed py314_make "$P" root "make $M"
	timed py314_test "$P" root "make unit e2e $M"
	remove_root "$P"
}

for s in $SCENARIOS; do
	case $s in
	root|user|py314) "scenario_$s" ;;
	*) fail "no scenario $s: say root, user, py314 or several" ;;
	esac
done

say "passed ($SCENARIOS): commit $(git -C "$REPO" rev-parse --short HEAD)"
say "seconds: base roots $T_BASE; as root: make $T_root_make, make test $T_root_test; as a user: make $T_user_make, make test $T_user_test; with python3.14: make $T_py314_make, make unit e2e $T_py314_test"
