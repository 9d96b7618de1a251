#!/bin/sh
# tests/fuzz/seeds.sh: makes the seed corpora of the fuzz targets, one
# folder per target under FUZZ/corpus/, from real files:
#
#   bundle  the bundles of programs BUILD/kiln builds from tests/fuzz/app
#           (a script with every interpreter option, a runtime path, a hook,
#           data, real files and a distribution from a venv of PYTHON; -m
#           with everything compressed; --entry as a folder program; an
#           extension module; an interpreter), each cut down to a few
#           entries of each kind by FUZZ/seed_bundle, and the -m program
#           with every entry of up to 2 KiB (an index of five pages)
#   elf     the unit tests' fixtures (BUILD/fixtures), the extension-module
#           template, and the smallest extension modules and libraries the
#           folder program holds as files
#   config  tests/fuzz/seeds/config/*.toml, hand-written: every [tool.kiln]
#           key of docs/config.md, wrong types, project scripts
#   ldso    this machine's /etc/ld.so.cache, alone and after an (empty)
#           1.7.0 part
#
#   sh tests/fuzz/seeds.sh BUILD FUZZ PYTHON
#
# The programs are built in FUZZ/programs; nothing is written elsewhere.
# Errors: one line on stderr, exit status 1.
set -eu

BUILD=$1 FUZZ=$2 PYTHON=$3
kiln=$(cd "$BUILD" && pwd)/kiln
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "fuzz seeds: $*" >&2; exit 1; }

progs=$FUZZ/programs corpus=$FUZZ/corpus
rm -rf "$progs" "$corpus"
mkdir -p "$progs" "$corpus/bundle" "$corpus/elf" "$corpus/config" "$corpus/ldso"
progs=$(cd "$progs" && pwd)

# ---- bundle ------------------------------------------------------------------
# A venv with the app's distribution installed, as pip would leave it.
"$PYTHON" -m venv --without-pip "$progs/venv" >&2 || fail "$PYTHON -m venv failed"
cp -R "$here"/app/site/. "$(echo "$progs"/venv/lib/python*/site-packages)/"
build() {
	out=$1; shift
	(cd "$here/app" && "$kiln" build -q "$@" -o "$progs/$out") >&2 ||
		fail "kiln build $* failed"
}
build script main.py --venv "$progs/venv" --add-data pkg/greeting.txt:data/greeting.txt \
	--runtime-path '$ORIGIN/plugins' --runtime-hook hook.py -O \
	-W ignore::DeprecationWarning -X utf8 --hash-seed 0 --meipass --files pkg
build module -m pkg --compress --no-source
build onedir --entry pkg:greet --onedir --paths site
build ext.so --target extension main.py --paths site
build python --interpreter --collect pkg
for p in script module onedir/onedir ext.so python; do
	"$FUZZ/seed_bundle" "$progs/$p" "$corpus/bundle/$(basename "$p")" ||
		fail "seed_bundle $p failed"
done
# An index of five pages, two of which no check at open reads: every
# entry of up to 2 KiB of the -m program.
"$FUZZ/seed_bundle" "$progs/module" "$corpus/bundle/module-pages" 2048 ||
	fail "seed_bundle module 2048 failed"

# ---- elf ---------------------------------------------------------------------
cp "$BUILD"/fixtures/*.so "$BUILD/kiln-ext.so" "$corpus/elf/"
# shellcheck disable=SC2012 # names kiln gave: no spaces
for so in $(ls -S "$progs"/onedir/_internal/*.cpython-*.so | tail -n 3) \
	$(ls -S "$progs"/onedir/_internal/lib*.so.* | tail -n 2); do
	cp "$so" "$corpus/elf/"
done

# ---- config ------------------------------------------------------------------
cp "$here"/seeds/config/*.toml "$corpus/config/"

# ---- ldso --------------------------------------------------------------------
if [ -f /etc/ld.so.cache ]; then
	cp /etc/ld.so.cache "$corpus/ldso/cache"
	# The old format's header, no entries, then the 1.1 part.
	{ printf 'ld.so-1.7.0\0\0\0\0\0'; cat /etc/ld.so.cache; } > "$corpus/ldso/cache-old"
fi

echo "fuzz seeds: $(ls "$corpus/bundle" | wc -l) bundle, $(ls "$corpus/elf" | wc -l) elf, $(ls "$corpus/config" | wc -l) config, $(ls "$corpus/ldso" | wc -l) ldso in $corpus"
