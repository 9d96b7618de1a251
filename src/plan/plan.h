/*
 * plan.h: the plan of a program: one list of every entry it will hold,
 * each with its kind, where its bytes come from, how they are stored and
 * where it lives inside the program, and how the program starts.
 *
 * The import graph and the command line fill a plan (src/freeze/); an
 * emitter turns it into an output (src/emit/). The plan decides nothing and
 * writes nothing; it knows no Python.
 */
#ifndef KILN_PLAN_H
#define KILN_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle/bundle.h"
#include "../common/kl_common.h"

/* Where the bytes of one payload come from and how they are stored. An
 * empty part (no bytes, no file) stores nothing. */
typedef struct plan_part {
    uint8_t *bytes;   /* owned copy of the bytes (not NULL once copied,
                         even when size is 0), or NULL: no such part */
    size_t size;      /* of bytes */
    char *file;       /* or: the bytes of this file (owned path), or NULL */
    int level;        /* zstd level; 0 stores them as they are */
} plan_part;

/* Why an entry is in the program (reports). */
enum plan_why {
    PLAN_WHY_RUN = 1,      /* the module the program starts from */
    PLAN_WHY_IMPORT,       /* an import statement or literal import call */
    PLAN_WHY_ENTRY_POINT,  /* named in a collected distribution's
                              entry_points.txt */
    PLAN_WHY_COMPUTED,     /* a submodule of a package that imports its
                              submodules by computed name */
    PLAN_WHY_NATIVE,       /* imported by native code: named in an
                              extension module, or a distribution's
                              top-level helper module */
    PLAN_WHY_COLLECT,      /* --collect / --collect-data */
    PLAN_WHY_HIDDEN,       /* --hidden-import, or a module C code of the
                              standard library imports */
    PLAN_WHY_ALWAYS,       /* every program carries it */
    PLAN_WHY_DATA,         /* --add-data */
    PLAN_WHY_PKGDATA,      /* a non-code file of a collected package */
    PLAN_WHY_METADATA,     /* a collected distribution's metadata */
    PLAN_WHY_HOOK,         /* a --runtime-hook, run before the app */
    PLAN_WHY_MAX = PLAN_WHY_HOOK
};

/* Why a module the application reaches is not in the program. */
enum plan_omit {
    PLAN_OMIT_MISSING = 1, /* not found anywhere searched */
    PLAN_OMIT_OPTIONAL,    /* optional import of a distribution the
                              importer does not require */
    PLAN_OMIT_EXCLUDED,    /* --exclude-module */
    PLAN_OMIT_DEV_TOOL,    /* a developer tool the standard library only
                              reaches lazily */
    PLAN_OMIT_BROKEN,      /* found, but could not be compiled */
    PLAN_OMIT_KEEP_ONLY,   /* not named in the --keep-only file */
    PLAN_OMIT_HOST,        /* an extension module of the standard library,
                              left to an extension module's host Python */
    PLAN_OMIT_MAX = PLAN_OMIT_HOST
};

/* Short lower-case names of a why and an omission ("import", "optional"),
 * "?" when out of range. */
const char *plan_why_name(unsigned why);
const char *plan_omit_name(unsigned omit);

typedef struct plan_entry {
    unsigned kind;     /* enum bundle_kind */
    char *name;        /* module name, soname or data path; owned */
    char *location;    /* its path inside the program; owned */
    plan_part data;    /* bytecode, shared object or file */
    plan_part aux;     /* a module's source */
    int strip;         /* data is a shared object: keep only what the
                          dynamic loader reads */
    int outside;       /* a file next to the program (in a folder
                          program's folder) rather than inside it */
    int files;         /* a package whose files are to be real files at
                          run time (BUNDLE_FLAG_FILES) */
    char *reason;      /* why it is in, for reports ("imported by x"); owned,
                          may be NULL */
    unsigned why;      /* enum plan_why; 0 when not said */
    char *dist;        /* the distribution it belongs to ("click"), or NULL
                          (standard library, the app's own); owned */
    char *importers;   /* modules that import it, "a, b"; owned, may be
                          NULL */
    char *origin;      /* the file on disk it was made from when its
                          bytes are in memory (a module's source); owned,
                          may be NULL */
} plan_entry;

/* A module the application reaches that is not in the program. */
typedef struct plan_omission {
    char *name;        /* module name; owned */
    unsigned why;      /* enum plan_omit */
    char *importers;   /* "a, b"; owned, may be NULL */
    char *detail;      /* one line more ("rich does not require IPython");
                          owned, may be NULL */
} plan_omission;

typedef struct plan {
    plan_entry *entries;
    size_t n;
    size_t cap;
    plan_omission *omitted; /* in the order they were found */
    size_t n_omitted;
    size_t cap_omitted;
    enum bundle_run_mode run_mode;
    char *run_target;  /* owned; "" for none */
    char *runtime_path; /* owned; NULL, or directories searched on disk
                           for modules after the bundle (':'-separated,
                           $ORIGIN for the program's directory) */
    char *options;      /* owned; NULL, or the interpreter options text
                           (bundle_options) */
    uint32_t python_hex;
} plan;

/* An empty plan. */
void plan_init(plan *p);

/* Free everything the plan owns; it is empty again. */
void plan_free(plan *p);

/* Append an entry (name, location and reason are copied; reason may be
 * NULL) with empty parts, and return it in *out: owned by the plan and
 * valid until the next plan_add or plan_finish. */
int plan_add(plan *p, unsigned kind, const char *name, const char *location,
             const char *reason, plan_entry **out, kl_err *err);

/* Say where entry e comes from for reports: why (enum plan_why), its
 * distribution and importers (copied; either may be NULL). */
int plan_entry_origin(plan_entry *e, unsigned why, const char *dist,
                      const char *importers, kl_err *err);

/* Say which file on disk entry e was made from (copied; may be NULL),
 * when its bytes are held in memory: a module's source file. Reports show
 * it, and the command keeps its output off every such file. */
int plan_entry_set_origin(plan_entry *e, const char *path, kl_err *err);

/* The file on disk entry e was made from or is read from: its origin, or
 * else the file of its data part; NULL when it has none. */
const char *plan_entry_file(const plan_entry *e);

/* Record that module `name` is left out and why (enum plan_omit);
 * importers and detail are copied and may be NULL. */
int plan_omit(plan *p, const char *name, unsigned why, const char *importers,
              const char *detail, kl_err *err);

/* Make part hold a copy of bytes[0, n), stored at `level`; an empty copy
 * is still a part (a module whose source is empty). */
int plan_part_copy(plan_part *part, const void *bytes, size_t n, int level,
                   kl_err *err);

/* Make part the contents of the file at path (copied), stored at `level`.
 * The file is read when the plan is emitted. */
int plan_part_file(plan_part *part, const char *path, int level,
                   kl_err *err);

/* Set how the program starts: run mode, target (copied) and the
 * PY_VERSION_HEX of the Python that compiled the bytecode. */
int plan_set_run(plan *p, enum bundle_run_mode mode, const char *target,
                 uint32_t python_hex, kl_err *err);

/* Place every entry whose kind is in `kinds` (a mask of 1u << kind) in a
 * file next to the program instead of inside it: what a folder program
 * does. Only kinds whose data is a whole file can be placed so
 * (bundle_kind_can_be_external()); others are left inside. */
void plan_place_outside(plan *p, unsigned kinds);

/* Put the entries in bundle order (bundle_entry_order), which is the order
 * every output lays them out in, so that the same plan always gives the
 * same bytes. Fails when two entries share a name in one namespace, naming
 * both reasons. */
int plan_finish(plan *p, kl_err *err);

#endif
