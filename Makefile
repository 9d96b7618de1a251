# kiln: `make` builds build/kiln and build/kiln-stub; `make test` runs every test.
#
#   make PYTHON=/path/to/python3.X BUILD=build-X   embed another Python
#   make install PREFIX=/usr/local                 install kiln and its stub
#   make matrix                                    test against every Python in MATRIX
#   make bench                                     run the benchmarks (bench/)

.DEFAULT_GOAL := all

PYTHON ?= python3
PYCONFIG ?= $(PYTHON)-config
BUILD ?= build
PREFIX ?= /usr/local
TEST_PYTHON ?= python3
CC ?= cc

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
# The default build (PYTHON) is tested by `e2e`; these are the others.
MATRIX ?= /usr/bin/python3.11 \
          $(PYENV_ROOT)/versions/3.12.1/bin/python3.12 \
          $(PYENV_ROOT)/versions/3.13.0/bin/python3.13

# ---- what the chosen Python says about itself (through its -config script)
PY_EXE       := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
PY_INCLUDES  := $(patsubst -I%,-isystem %,$(shell $(PYCONFIG) --includes))
PY_CONFIGDIR := $(shell $(PYCONFIG) --configdir 2>/dev/null)
PY_VAR        = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("$(1)") or "")')
PY_LIBRARY   := $(call PY_VAR,LIBRARY)
PY_STATIC    := $(wildcard $(PY_CONFIGDIR)/$(PY_LIBRARY))
ifneq ($(PY_STATIC),)
  # Static libpython: fastest start-up. The archive may hold non-PIC code
  # (Debian's does), hence -no-pie; its symbols are exported so that
  # extension modules can link against them.
  PY_LINK := $(PY_STATIC) -Wl,--export-dynamic \
             $(filter -l%,$(call PY_VAR,MODLIBS) $(call PY_VAR,LIBS) $(call PY_VAR,SYSLIBS)) \
             -lpthread -lutil -ldl -lm
else
  PY_LINK := $(shell $(PYCONFIG) --ldflags --embed) -Wl,--export-dynamic
endif

ZSTD_A := $(firstword $(wildcard /usr/lib/$(shell $(CC) -print-multiarch)/libzstd.a \
                                 /usr/lib/libzstd.a /usr/local/lib/libzstd.a))
ZSTD_LINK := $(if $(ZSTD_A),$(ZSTD_A),-lzstd)

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
ALL_CFLAGS := -std=c17 $(WARN) -D_GNU_SOURCE=1 $(CFLAGS) $(PY_INCLUDES) \
              -DKILN_PYTHON_EXE='"$(PY_EXE)"'
LDFLAGS ?=
STUB_LDFLAGS ?= -s

obj = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))

# >>> sources: which files make each program (kept in step with src/)
# One folder per part (docs/architecture.md); every .c file of a folder
# belongs to it.
src_of = $(sort $(wildcard $(addsuffix /*.c,$(addprefix src/,$(1)))))
COMMON_SRC  := $(call src_of,common)
KILN_SRC    := $(call src_of,cli freeze emit plan elf common) \
               src/bundle/bundle_reader.c src/bundle/bundle_writer.c
STUB_SRC    := $(call src_of,stub runtime common) src/bundle/bundle_reader.c
# Python-free code the C unit tests link against.
PURE_SRC    := $(call src_of,common bundle elf plan emit) \
               src/freeze/fz_names.c src/freeze/fz_data.c
UNIT_TESTS  := $(patsubst tests/unit/test_%.c,$(BUILD)/test_%,\
                 $(wildcard tests/unit/test_*.c))

# The C unit tests: tests/unit/test_NAME.c becomes $(BUILD)/test_NAME, run
# with the folder of the fixtures they read.
FIXTURES := $(BUILD)/fixtures/libkltest.so $(BUILD)/fixtures/libkltest-rpath.so

$(BUILD)/test_%: tests/unit/test_%.c tests/unit/check.h $(call obj,$(PURE_SRC))
	$(CC) -std=c17 $(WARN) -D_GNU_SOURCE=1 $(CFLAGS) -o $@ $(filter %.c %.o,$^) $(ZSTD_LINK) -ldl

# Shared objects for the ELF reader's tests: debug information to cut, a
# SONAME, RUNPATH or RPATH, and libm's symbol versions.
$(BUILD)/fixtures/libkltest.so: tests/unit/fixtures/kltest.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -g -O1 -o $@ $< -Wl,-soname,libkltest.so.1 \
	      -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/../lib' -lm
$(BUILD)/fixtures/libkltest-rpath.so: tests/unit/fixtures/kltest.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -g -O1 -o $@ $< \
	      -Wl,--disable-new-dtags -Wl,-rpath,/opt/kltest/lib -lm

unit: $(UNIT_TESTS) $(FIXTURES)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t $(BUILD)/fixtures; done
# <<< sources

HEADERS := $(wildcard src/*/*.h)

.PHONY: all test unit e2e matrix install clean bench
all: $(BUILD)/kiln $(BUILD)/kiln-stub

$(BUILD)/obj/%.o: src/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/kiln: $(call obj,$(KILN_SRC))
	$(CC) -no-pie $(LDFLAGS) -o $@ $^ $(PY_LINK) $(ZSTD_LINK)

$(BUILD)/kiln-stub: $(call obj,$(STUB_SRC))
	$(CC) -no-pie $(LDFLAGS) $(STUB_LDFLAGS) -o $@ $^ $(PY_LINK) $(ZSTD_LINK)

e2e: all
	KILN_BUILD=$(abspath $(BUILD)) KILN_PYTHON=$(PY_EXE) $(TEST_PYTHON) -m pytest -q tests/e2e

# Build and run the end-to-end tests once per Python in MATRIX, each in
# its own build directory.
matrix:
	@set -e; for py in $(MATRIX); do \
	  dir=build-matrix/$$(echo $$py | tr '/' '_'); \
	  echo "== $$py ($$dir)"; \
	  $(MAKE) --no-print-directory e2e PYTHON=$$py BUILD=$$dir; \
	done

test: unit e2e matrix

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln
	install -m 0755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 0755 $(BUILD)/kiln-stub $(DESTDIR)$(PREFIX)/lib/kiln/kiln-stub

DEBIAN_PYTHON ?= /usr/bin/python3.11
bench: all
	if [ -x $(DEBIAN_PYTHON) ]; then \
	  $(MAKE) --no-print-directory all PYTHON=$(DEBIAN_PYTHON) BUILD=build-bench-debian; \
	  $(TEST_PYTHON) bench/run.py --build $(abspath $(BUILD)) \
	    --debian-build $(abspath build-bench-debian); \
	else \
	  $(TEST_PYTHON) bench/run.py --build $(abspath $(BUILD)); \
	fi

clean:
	rm -rf $(BUILD) build-matrix dist
