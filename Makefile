# kiln: `make` builds build/kiln, build/kiln-stub and build/kiln-ext.so, then packages
# examples/hello.py as dist/hello and runs it; `make test` runs every test.
# Both get what they lack by themselves (mk/configure, mk/testenv).
#
#   make PYTHON=/path/to/python3.X BUILD=build-X   embed another Python
#   make install PREFIX=/usr/local                 install kiln and its stub
#                                                  (pip install . runs it: hatch_build.py)
#   make unit | e2e | e2e-start-route | corpus-fast | matrix   one part of `make test`
#   make corpus                                    the whole compatibility corpus (tests/corpus/)
#   make test MATRIX_REQUIRED=1                    every matrix Python must be installed
#   make bench                                     run the benchmarks (bench/)
#   make asan                                      kiln and its stub with ASan and UBSan,
#                                                  and the unit and end-to-end tests against them
#   make fuzz | fuzz-run FUZZ_SECONDS=60           build the libFuzzer targets and their seeds
#                                                  | run each for that long (tests/fuzz/)
#   make fuzz-coverage                             line coverage of the fuzzed files
#   make INSTALL_DEPS=local                        fetch missing packages into DEPS, never
#                                                  into the system (=no: only say what is missing)

.DEFAULT_GOAL := all

PYTHON ?= python3
BUILD ?= build
# Debian packages unpacked without root (mk/packages.sh).
DEPS ?= $(BUILD)/deps
INSTALL_DEPS ?= auto
# The venv pytest runs in, and the Python it is made from.
VENV ?= $(BUILD)/venv
# The minimal Debian root the portability tests run programs in
# (tests/setup/minbase_root.sh; made once, shared by the matrix's runs).
MINBASE ?= $(BUILD)/minbase-root
TEST_PYTHON ?= python3
MATRIX_REQUIRED ?=
# Workers of each end-to-end run (pytest-xdist's -n): auto is one per CPU,
# 0 runs the tests in pytest's own process. A test file goes to one worker
# whole, so that its module's fixtures are made once.
E2E_JOBS ?= auto
# Jobs of the builds that make test and make asan start in other build
# folders (the start route's, each matrix Python's, the sanitizers'): one
# per CPU, unless make itself was given -j and shares its own.
SUB_JOBS = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))
PREFIX ?= /usr/local

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
# SANITIZE=address,undefined (`make asan`) builds kiln, the runtime stub
# and the unit tests with those sanitizers, their runtimes linked in
# statically (a built program still needs nothing but glibc), any finding
# fatal. The extension-module template stays without: a host python
# cannot load a module that needs a sanitizer's runtime.
SANITIZE ?=
SAN_CFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer)
SAN_LDFLAGS = $(if $(SANITIZE),-fsanitize=$(SANITIZE) $(if $(findstring address,$(SANITIZE)),-static-libasan) $(if $(findstring undefined,$(SANITIZE)),-static-libubsan))
# The sanitizers' defaults, linked into what they build (tests/asan/).
SAN_OBJ = $(if $(SANITIZE),$(BUILD)/obj/san_defaults.o)
LDFLAGS ?=
STUB_LDFLAGS ?= -s

# ---- configuration: $(BUILD)/config.mk, written by mk/configure ----------
# It defines PY_EXE, PY_VERSION, PY_CFLAGS, PY_LINK, PIE_LDFLAGS (what
# linking libpython needs), STUB_PIE_LDFLAGS (the runtime stub's choice, for
# start-up), ZSTD_CFLAGS, ZSTD_LINK and PY_INIT_MAIN (1 when the Python
# has _Py_InitializeMain; 0 has the stub start the main phase another way,
# docs/runtime.md). make writes it again (and starts over) when
# mk/configure changes, when PYTHON, CC or DEPS change or PYTHON names
# another interpreter, and after a run that failed (CONFIG_ERROR).
CONFIG := $(BUILD)/config.mk
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),all)),)
include $(CONFIG)
ifndef MAKE_RESTARTS
  # First pass: is the config.mk there current?
  PY_NOW := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
  ifneq ($(CONFIG_ERROR)$(CONFIG_FOR) $(PY_EXE),$(PYTHON)|$(CC)|$(DEPS) $(PY_NOW))
    $(CONFIG): FORCE
  endif
else ifdef CONFIG_ERROR
  # Just written, and something is missing: say what, in one line.
  $(error $(CONFIG_ERROR))
endif
endif

$(CONFIG): mk/configure mk/packages.sh
	@mkdir -p $(@D)
	@sh mk/configure '$(PYTHON)' '$(CC)' '$(DEPS)' '$(INSTALL_DEPS)' > $@.tmp || :
	@mv $@.tmp $@

# Headers unpacked into DEPS are named by their system path in what the
# build writes (assert messages, debugging information): a kiln built in
# a temporary folder (pip's build) names nothing of it.
DEPS_PREFIX_MAP = -ffile-prefix-map=$(abspath $(DEPS))/root/=/
ALL_CFLAGS = -std=c17 $(WARN) -D_GNU_SOURCE=1 $(CFLAGS) $(PY_CFLAGS) $(ZSTD_CFLAGS) $(DEPS_PREFIX_MAP) \
             -DKILN_PYTHON_EXE='"$(PY_EXE)"' -DKILN_INIT_MAIN=$(PY_INIT_MAIN) \
             -DKILN_OWN_UNMARSHAL=$(PY_OWN_UNMARSHAL)

obj = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))

# >>> sources: which files make each program (kept in step with src/)
# One folder per part (docs/architecture.md); every .c file of a folder
# belongs to it.
src_of = $(sort $(wildcard $(addsuffix /*.c,$(addprefix src/,$(1)))))
COMMON_SRC  := $(call src_of,common)
KILN_SRC    := $(call src_of,cli freeze emit plan elf report common) \
               src/bundle/bundle_reader.c src/bundle/bundle_writer.c
# The command's own messages and JSON are no part of a built program.
STUB_SRC    := $(filter-out src/common/kl_msg.c src/common/kl_json.c,\
                 $(call src_of,stub runtime common)) src/bundle/bundle_reader.c \
               src/elf/elf_reader.c
# The extension-module template's one exported symbol (KL_EXT_INIT_PREFIX).
EXT_INIT := $(shell grep -o -m1 'PyInit_kiln_extension_module_name_placeholder_x*' src/ext/ext_init.c)
# The extension-module template: the runtime core and its entry point,
# position-independent, with only the entry point exported.
EXT_SRC     := $(filter-out src/common/kl_msg.c src/common/kl_json.c,\
                 $(call src_of,ext runtime common)) src/bundle/bundle_reader.c \
               src/elf/elf_reader.c
# Python-free code the C unit tests link against.
PURE_SRC    := $(call src_of,common bundle elf plan emit report) \
               src/runtime/rt_files.c src/runtime/rt_memfd.c src/runtime/rt_cache.c src/runtime/rt_cachedir.c \
               src/freeze/fz_names.c src/freeze/fz_data.c \
               src/freeze/fz_dist.c src/freeze/fz_distfile.c \
               src/freeze/fz_native.c src/freeze/fz_pkgdata.c \
               src/freeze/fz_libs.c src/freeze/fz_ldso.c
UNIT_TESTS  := $(patsubst tests/unit/test_%.c,$(BUILD)/test_%,\
                 $(wildcard tests/unit/test_*.c))

# The C unit tests: tests/unit/test_NAME.c becomes $(BUILD)/test_NAME, run
# with the folder of the fixtures they read.
FIXTURES := $(BUILD)/fixtures/libkltest.so $(BUILD)/fixtures/libkltest-rpath.so \
            $(BUILD)/fixtures/libkltest-one.so

$(BUILD)/test_%: tests/unit/test_%.c $(call obj,$(PURE_SRC)) $(SAN_OBJ)
	$(CC) -std=c17 $(WARN) -D_GNU_SOURCE=1 $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^) $(SAN_LDFLAGS) $(ZSTD_LINK) -ldl
-include $(addsuffix .d,$(UNIT_TESTS))

# Shared objects for the ELF reader's tests: debug information to cut, a
# SONAME, RUNPATH or RPATH, and libm's symbol versions.
$(BUILD)/fixtures/libkltest.so: tests/unit/fixtures/kltest.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -g -O1 -o $@ $< -Wl,-soname,libkltest.so.1 \
	      -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/../lib' -lm
$(BUILD)/fixtures/libkltest-one.so: tests/unit/fixtures/kltest_one.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O1 -fvisibility=hidden -o $@ $<
$(BUILD)/fixtures/libkltest-rpath.so: tests/unit/fixtures/kltest.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -g -O1 -o $@ $< \
	      -Wl,--disable-new-dtags -Wl,-rpath,/opt/kltest/lib -lm

unit: $(UNIT_TESTS) $(FIXTURES)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t $(BUILD)/fixtures; done
# <<< sources

.PHONY: all programs example test testenv unit e2e asan e2e-start-route corpus-fast corpus matrix install clean bench fuzz fuzz-run fuzz-coverage FORCE
all: programs example
programs: $(BUILD)/kiln $(BUILD)/kiln-stub $(BUILD)/kiln-ext.so

# Header dependencies: each object's .d file, written by the compiler.
-include $(patsubst %.o,%.d,$(call obj,$(sort $(KILN_SRC) $(STUB_SRC) $(PURE_SRC))) \
                            $(call pic_obj,$(EXT_SRC)))

$(BUILD)/obj/%.o: src/%.c $(CONFIG) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

# The template's objects: position-independent, their symbols hidden.
pic_obj = $(patsubst src/%.c,$(BUILD)/obj-pic/%.o,$(1))
$(BUILD)/obj-pic/%.o: src/%.c $(CONFIG) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DKILN_EXT=1 -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

# kiln checks that the embedded Python's standard library is there before
# starting it, and names its licence text; `kiln extract` gives bytecode
# that Python's .pyc header.
$(call obj,src/freeze/fz_python.c src/cli/cli_licenses.c): ALL_CFLAGS += -DKILN_PYTHON_STDLIB='"$(PY_STDLIB)"'
$(call obj,src/cli/cli_extract.c): ALL_CFLAGS += -DKILN_PYC_MAGIC=$(PY_PYC_MAGIC)

# An extension module's file name ends as the embedded Python's do.
$(call obj,src/cli/cli_build.c src/cli/cli_options.c): ALL_CFLAGS += -DKILN_EXT_SUFFIX='"$(PY_EXT_SUFFIX)"'

# The report's page (src/report/report_page.html) as a C string literal,
# line by line: backslashes, quotes and question marks (trigraphs) escaped.
$(BUILD)/gen/report_page.h: src/report/report_page.html
	@mkdir -p $(@D)
	sed -e 's/[\\"?]/\\&/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@.tmp
	@mv $@.tmp $@
$(call obj,src/report/report_html.c): $(BUILD)/gen/report_page.h
$(call obj,src/report/report_html.c): ALL_CFLAGS += -I$(BUILD)/gen

# The runtime's Python glue, compiled by the Python kiln embeds into
# marshalled code (C arrays): a built program runs it without compiling.
GLUE_PY := src/runtime/rt_glue.py src/runtime/rt_glue_metadata.py \
           src/runtime/rt_reexec.py
$(BUILD)/gen/rt_glue_code.h: $(GLUE_PY) mk/glue_code.py $(CONFIG)
	@mkdir -p $(@D)
	$(PY_EXE) -I mk/glue_code.py rt_glue_code=src/runtime/rt_glue.py \
	  rt_glue_metadata_code=src/runtime/rt_glue_metadata.py \
	  rt_reexec_code=src/runtime/rt_reexec.py > $@.tmp
	@mv $@.tmp $@
$(call obj,src/runtime/rt_glue.c) $(call pic_obj,src/runtime/rt_glue.c): $(BUILD)/gen/rt_glue_code.h
$(call obj,src/runtime/rt_glue.c) $(call pic_obj,src/runtime/rt_glue.c): ALL_CFLAGS += -I$(BUILD)/gen

$(BUILD)/obj/san_defaults.o: tests/asan/san_defaults.c $(CONFIG) Makefile
	@mkdir -p $(dir $@)
	$(CC) -std=c17 $(WARN) $(CFLAGS) -c $< -o $@

$(BUILD)/kiln: $(call obj,$(KILN_SRC)) $(SAN_OBJ)
	$(CC) $(PIE_LDFLAGS) $(LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(PY_LINK) $(ZSTD_LINK)

$(BUILD)/kiln-stub: $(call obj,$(STUB_SRC)) $(SAN_OBJ)
	$(CC) $(STUB_PIE_LDFLAGS) $(LDFLAGS) $(STUB_LDFLAGS) $(SAN_LDFLAGS) -o $@ $^ $(PY_LINK) $(ZSTD_LINK)

# The extension-module template (docs/extension.md): linked against no
# libpython (the host Python provides its symbols), every reference to
# them weak, so that a host of another version loads it and gets the
# version check's ImportError instead of the loader's "undefined symbol";
# libc named all the same, so that the glibc versions it needs are
# recorded (kiln analyze reports them).
$(BUILD)/kiln-ext.so: $(call pic_obj,$(EXT_SRC))
	$(CC) -r -nostdlib -o $@.r.o $^ $(ZSTD_LINK)
	@! nm -u $@.r.o | grep -E ' (rt|kl|bundle|elf|ext|stub)_' || \
	  { echo "$@: the functions above are used but not defined"; rm -f $@.r.o; exit 1; }
	objcopy --keep-global-symbol=$(EXT_INIT) $@.r.o
	objcopy --weaken $@.r.o
	$(CC) -shared $(LDFLAGS) $(STUB_LDFLAGS) -o $@ $@.r.o -Wl,--no-as-needed -lc
	@rm -f $@.r.o

# The example, packaged and run once: a check that kiln works on this machine.
# A dist/hello that is not a kiln program is someone's file: left alone.
example: dist/hello
dist/hello: $(BUILD)/kiln $(BUILD)/kiln-stub examples/hello.py
	@if [ -e $@ ] && ! $(BUILD)/kiln inspect $@ >/dev/null 2>&1; then \
	  echo "make: $@ exists and is not a kiln program: move it away, then run make again" >&2; \
	  exit 1; fi
	$(BUILD)/kiln build examples/hello.py -o $@
	@echo ./$@; ./$@ || { rm -f $@; exit 1; }

# pytest and pytest-xdist (in VENV) and strace, got by mk/testenv when
# missing.
testenv:
	@sh mk/testenv '$(TEST_PYTHON)' '$(VENV)' '$(DEPS)' '$(INSTALL_DEPS)'

# DEPS/bin holds what mk/testenv unpacked without root (strace).
# The matrix's runs (mk/matrix, MATRIX_RUN=1) leave out what does not
# depend on the Python kiln embeds and is slow: installing kiln with pip
# builds it three times (test_pip_install; `make e2e` runs it once).
E2E_ONCE := tests/e2e/test_pip_install.py
PYTEST_E2E = $(VENV)/bin/python -m pytest -q -n $(E2E_JOBS) --dist loadfile
e2e: programs testenv
	PATH="$(abspath $(DEPS))/bin:$$PATH" KILN_BUILD=$(abspath $(BUILD)) KILN_PYTHON=$(PY_EXE) \
	  KILN_MINBASE=$(abspath $(MINBASE)) $(PYTEST_E2E) tests/e2e \
	  $(if $(MATRIX_RUN),$(E2E_ONCE:%=--ignore=%))

# The start-up tests once more, against a runtime stub that starts CPython's
# main phase the way it must where _Py_InitializeMain is missing (3.14;
# docs/runtime.md, "Two phases"), built for this Python in BUILD/start-route.
START_ROUTE_TESTS := start_route hello stdio locale interpreter interp_options \
                     fast_exit bad_input exit
e2e-start-route: testenv
	@$(MAKE) --no-print-directory $(SUB_JOBS) programs BUILD=$(BUILD)/start-route \
	  DEPS=$(abspath $(DEPS)) PY_INIT_MAIN=0
	@! nm $(BUILD)/start-route/obj/stub/stub_start.o | grep -q _Py_InitializeMain || \
	  { echo "e2e-start-route: the stub in $(BUILD)/start-route still calls _Py_InitializeMain"; exit 1; }
	PATH="$(abspath $(DEPS))/bin:$$PATH" KILN_BUILD=$(abspath $(BUILD))/start-route \
	  KILN_PYTHON=$(PY_EXE) $(PYTEST_E2E) \
	  $(START_ROUTE_TESTS:%=tests/e2e/test_%.py)

# The sanitizers' run: kiln, the runtime stub and the unit tests built
# with AddressSanitizer and UBSan in BUILD/asan (SANITIZE above), then the
# unit tests and the end-to-end tests run against them. A finding ends the
# process with status 86 (tests/asan/san_defaults.c).
ASAN_BUILD = $(BUILD)/asan
asan: testenv
	@$(MAKE) --no-print-directory $(SUB_JOBS) programs unit BUILD=$(ASAN_BUILD) \
	  DEPS=$(abspath $(DEPS)) SANITIZE=address,undefined STUB_LDFLAGS=
	PATH="$(abspath $(DEPS))/bin:$$PATH" KILN_BUILD=$(abspath $(ASAN_BUILD)) KILN_PYTHON=$(PY_EXE) \
	  KILN_SANITIZED=1 KILN_MINBASE=$(abspath $(MINBASE)) $(PYTEST_E2E) tests/e2e \
	  $(E2E_ONCE:%=--ignore=%)

# The compatibility corpus (tests/corpus/): real PyPI packages, each built
# as a one-file and a folder program and compared with the venv's python.
# `make test` runs its cheap apps; `make corpus` runs all of them, builds
# each with PyInstaller too, and writes tests/corpus/README.md from the
# results (the README is written even when a test failed; the status is
# pytest's).
CORPUS_RUN = KILN_BUILD=$(abspath $(BUILD)) KILN_PYTHON=$(PY_EXE) $(VENV)/bin/python -m pytest -q
CORPUS_RESULTS = $(abspath $(BUILD))/corpus-results.json
corpus-fast: programs testenv
	$(CORPUS_RUN) -m fast tests/corpus
corpus: programs testenv
	@rm -f $(CORPUS_RESULTS)
	$(CORPUS_RUN) tests/corpus --corpus-results $(CORPUS_RESULTS); st=$$?; \
	  $(VENV)/bin/python tests/corpus/report.py $(CORPUS_RESULTS) tests/corpus/README.md && \
	  echo "wrote tests/corpus/README.md" && exit $$st

# The end-to-end tests once more per installed matrix Python (mk/matrix).
matrix: testenv
	@sh mk/matrix '$(MAKE)' '$(BUILD)' '$(PY_EXE)' '$(MATRIX_REQUIRED)' $(SUB_JOBS) \
	  DEPS='$(abspath $(DEPS))' VENV='$(abspath $(VENV))' MINBASE='$(abspath $(MINBASE))' \
	  INSTALL_DEPS='$(INSTALL_DEPS)' \
	  TEST_PYTHON='$(TEST_PYTHON)'

# One part after the other: they share the venv and the machine's cores.
test: all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory e2e-start-route
	@$(MAKE) --no-print-directory corpus-fast
	@$(MAKE) --no-print-directory matrix

# ---- fuzzing (tests/fuzz/README.md) ---------------------------------------
# libFuzzer targets of the readers that take what a file says: the bundle,
# ELF objects, pyproject.toml's [tool.kiln], the ld.so cache. Built with
# clang (FUZZ_CC; mk/fuzzenv checks that it links libFuzzer, AddressSanitizer
# and UBSan, and gets it as mk/packages.sh gets what make lacks) from
# objects of their own in $(FUZZ)/obj, never gcc's; their seeds are made
# from programs this kiln builds. `make fuzz-run` runs each target for
# FUZZ_SECONDS over a copy of its seeds and fails on any finding.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= bundle elf config ldso
FUZZ := $(BUILD)/fuzz
ifneq ($(filter fuzz fuzz-run fuzz-coverage,$(MAKECMDGOALS)),)
ifndef MAKE_RESTARTS
  FUZZ_MISSING := $(shell sh mk/fuzzenv '$(FUZZ_CC)' '$(INSTALL_DEPS)')
  ifneq ($(FUZZ_MISSING),)
    $(error $(FUZZ_MISSING))
  endif
endif
endif

# Every kiln object but main's, each file's own defines given to all.
FUZZ_SRC := $(filter-out src/cli/cli_main.c,$(KILN_SRC))
FUZZ_CFLAGS = -std=c17 $(WARN) -D_GNU_SOURCE=1 -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              $(PY_CFLAGS) $(ZSTD_CFLAGS) -I$(BUILD)/gen \
              -DKILN_PYTHON_EXE='"$(PY_EXE)"' -DKILN_INIT_MAIN=$(PY_INIT_MAIN) \
              -DKILN_PYTHON_STDLIB='"$(PY_STDLIB)"' -DKILN_EXT_SUFFIX='"$(PY_EXT_SUFFIX)"' \
              -DKILN_PYC_MAGIC=$(PY_PYC_MAGIC)
fuzz_obj = $(patsubst src/%.c,$(FUZZ)/obj/%.o,$(1))
-include $(patsubst %.o,%.d,$(call fuzz_obj,$(FUZZ_SRC))) \
         $(FUZZ_TARGETS:%=$(FUZZ)/fuzz_%.d)

$(FUZZ)/obj/%.o: src/%.c $(CONFIG) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(call fuzz_obj,src/report/report_html.c): $(BUILD)/gen/report_page.h

# An archive: each target links only the objects it reaches.
$(FUZZ)/libkiln.a: $(call fuzz_obj,$(FUZZ_SRC))
	@rm -f $@
	ar rcs $@ $^

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/libkiln.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $(PIE_LDFLAGS) -o $@ $< \
	  $(FUZZ)/libkiln.a $(PY_LINK) $(ZSTD_LINK)

# The seeds (tests/fuzz/seeds.sh): the bundles of programs this kiln
# builds from tests/fuzz/app, cut down to a few entries by seed_bundle
# (made with CC from the ordinary objects, as the unit tests are), their
# shared objects and the unit tests' fixtures, tests/fuzz/seeds/, and this
# machine's ld.so cache.
$(FUZZ)/seed_bundle: tests/fuzz/seed_bundle.c $(call obj,$(PURE_SRC))
	@mkdir -p $(@D)
	$(CC) -std=c17 $(WARN) -D_GNU_SOURCE=1 $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(ZSTD_LINK)
$(FUZZ)/corpus/.made: tests/fuzz/seeds.sh $(shell find tests/fuzz/app tests/fuzz/seeds -type f) \
                      $(BUILD)/kiln $(BUILD)/kiln-stub $(BUILD)/kiln-ext.so $(FUZZ)/seed_bundle $(FIXTURES)
	sh tests/fuzz/seeds.sh $(BUILD) $(FUZZ) $(PY_EXE)
	@touch $@

fuzz: $(FUZZ_TARGETS:%=$(FUZZ)/fuzz_%) $(FUZZ)/corpus/.made
fuzz-run: fuzz
	sh tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Line coverage of the fuzzed files by each target's corpus (the last
# fuzz-run's, else its seeds): the targets built again in $(FUZZ)/cov
# with clang's source-based coverage instead of the sanitizers, each run
# once over its corpus, and llvm-cov's report (tests/fuzz/coverage.sh).
FUZZ_COV_CFLAGS = $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(FUZZ_CFLAGS)) \
                  -fprofile-instr-generate -fcoverage-mapping
cov_obj = $(patsubst src/%.c,$(FUZZ)/cov/obj/%.o,$(1))
-include $(patsubst %.o,%.d,$(call cov_obj,$(FUZZ_SRC))) \
         $(FUZZ_TARGETS:%=$(FUZZ)/cov/fuzz_%.d)

$(FUZZ)/cov/obj/%.o: src/%.c $(CONFIG) Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(call cov_obj,src/report/report_html.c): $(BUILD)/gen/report_page.h
$(FUZZ)/cov/libkiln.a: $(call cov_obj,$(FUZZ_SRC))
	@rm -f $@
	ar rcs $@ $^
$(FUZZ)/cov/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/cov/libkiln.a
	$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer -MMD -MP $(PIE_LDFLAGS) -o $@ $< \
	  $(FUZZ)/cov/libkiln.a $(PY_LINK) $(ZSTD_LINK)
fuzz-coverage: fuzz $(FUZZ_TARGETS:%=$(FUZZ)/cov/fuzz_%)
	sh tests/fuzz/coverage.sh $(FUZZ) $(FUZZ_TARGETS)

# pip's build (hatch_build.py) runs this target with PREFIX in a folder of
# its own: what it installs there is what the wheel carries (bin/ as
# scripts, the rest as data under the environment's prefix).
install: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln
	install -m 0755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 0755 $(BUILD)/kiln-stub $(DESTDIR)$(PREFIX)/lib/kiln/kiln-stub
	install -m 0755 $(BUILD)/kiln-ext.so $(DESTDIR)$(PREFIX)/lib/kiln/kiln-ext.so

# bench/run.py uses the Python kiln embeds; with Debian's python3.11 it also
# compares instruction counts against a kiln that embeds that one.
DEBIAN_PYTHON ?= /usr/bin/python3.11
bench: programs
	$(MAKE) --no-print-directory programs BUILD=$(BUILD)/start-route \
	  DEPS=$(abspath $(DEPS)) PY_INIT_MAIN=0
	$(MAKE) --no-print-directory programs BUILD=$(BUILD)/bench-symbols \
	  DEPS=$(abspath $(DEPS)) STUB_LDFLAGS=
	if [ -x $(DEBIAN_PYTHON) ]; then \
	  $(MAKE) --no-print-directory programs PYTHON=$(DEBIAN_PYTHON) BUILD=$(BUILD)/bench-debian \
	    DEPS=$(abspath $(DEPS)); \
	  $(TEST_PYTHON) bench/run.py --build $(abspath $(BUILD)) --python $(PY_EXE) \
	    --start-route-build $(abspath $(BUILD)/start-route) \
	    --symbols-build $(abspath $(BUILD)/bench-symbols) \
	    --debian-build $(abspath $(BUILD)/bench-debian); \
	else \
	  $(TEST_PYTHON) bench/run.py --build $(abspath $(BUILD)) --python $(PY_EXE) \
	    --start-route-build $(abspath $(BUILD)/start-route) \
	    --symbols-build $(abspath $(BUILD)/bench-symbols); \
	fi

# What make made: the build folder and the packaged example.
clean:
	@if [ -x $(BUILD)/kiln ] && $(BUILD)/kiln inspect dist/hello >/dev/null 2>&1; then \
	  echo rm -f dist/hello; rm -f dist/hello; rmdir dist 2>/dev/null || :; fi
	rm -rf $(BUILD)
