# mk/packages.sh: how the set-up scripts get a Debian package they lack.
# Sourced by mk/configure and mk/testenv, which set DEPS (the folder for
# packages unpacked without root) and INSTALL_DEPS (auto, local or no).
#
#   pkg_how          prints how a missing package is got:
#                      apt    apt-get install (running as root)
#                      sudo   sudo -n apt-get install (passwordless sudo)
#                      local  apt-get download + dpkg -x into $DEPS/root
#                      no     not at all (INSTALL_DEPS=no, or no apt/dpkg)
#                    INSTALL_DEPS=auto picks the first that works,
#                    INSTALL_DEPS=local never touches the system.
#   pkg_get PKG...   gets the packages that way; 1 when it could not.
#                    PKG may be NAME=VERSION: only `local` keeps the
#                    version (to match an installed interpreter), and it
#                    falls back to the current one.
#   pkg_lib_dirs     the library folders under $DEPS/root, colon-separated.
#
# `local` unpacks each package and those of its direct dependencies that
# are not installed; nothing runs as root and the system is unchanged.

say() { printf '%s\n' "$*" >&2; }

pkg_how() {
	[ "${INSTALL_DEPS:-auto}" != no ] &&
		command -v apt-get >/dev/null 2>&1 &&
		command -v dpkg >/dev/null 2>&1 || { echo no; return; }
	if [ "${INSTALL_DEPS:-auto}" = auto ]; then
		if [ "$(id -u)" = 0 ]; then echo apt; return; fi
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			echo sudo; return
		fi
	fi
	echo local
}

pkg_get() {
	case $(pkg_how) in
	apt) pkg_apt "" "$@" ;;
	sudo) pkg_apt "sudo -n" "$@" ;;
	local) pkg_fetch "$@" ;;
	*) return 1 ;;
	esac
}

# pkg_apt SUDO PKG...: apt-get install; with an empty or stale package
# list (a fresh machine) it updates the list and tries once more.
pkg_apt() {
	sudo=$1; shift
	names=$(pkg_names "$@")
	say "installing$names (apt-get install)"
	# shellcheck disable=SC2086 # $sudo and $names are word lists
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
		-o DPkg::Lock::Timeout=300 --no-install-recommends install $names >&2 ||
	{ $sudo apt-get -qq update >&2 &&
	  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
		-o DPkg::Lock::Timeout=300 --no-install-recommends install $names >&2; }
}

pkg_names() { for p in "$@"; do printf ' %s' "${p%%=*}"; done; }

pkg_installed() {
	dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q ' installed$'
}

# The direct dependencies of a package (real packages, not virtual ones).
pkg_depends() {
	apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$1" 2>/dev/null |
	sed -n 's/^ *|\{0,1\}Depends: \([^<:][^:]*\).*$/\1/p' | sort -u
}

# pkg_fetch PKG...: apt-get download + dpkg -x into $DEPS/root.
pkg_fetch() {
	want=""
	for p in "$@"; do
		want="$want $p"
		for d in $(pkg_depends "${p%%=*}"); do
			pkg_installed "$d" || want="$want $d"
		done
	done
	mkdir -p "$DEPS/debs" "$DEPS/root" || return 1
	dl=$(mktemp -d "$DEPS/debs/download.XXXXXX") || return 1
	say "fetching$want into $DEPS/root (apt-get download, dpkg -x)"
	# shellcheck disable=SC2086 # $want is a word list
	if ! (cd "$dl" && apt-get -qq download $want) >&2; then
		case $want in
		*=*) say "not on the mirror in that version; fetching the current one"
		     # shellcheck disable=SC2046 # a word list
		     (cd "$dl" && apt-get -qq download $(pkg_names $want)) >&2 ;;
		*) false ;;
		esac || { rm -rf "$dl"; return 1; }
	fi
	for deb in "$dl"/*.deb; do
		dpkg -x "$deb" "$DEPS/root" && mv "$deb" "$DEPS/debs/" ||
			{ rm -rf "$dl"; return 1; }
	done
	rmdir "$dl"
}

pkg_lib_dirs() {
	dirs=""
	for d in "$DEPS"/root/usr/lib/*-linux-gnu* "$DEPS"/root/lib/*-linux-gnu*; do
		[ -d "$d" ] && dirs="$dirs${dirs:+:}$d"
	done
	echo "$dirs"
}
