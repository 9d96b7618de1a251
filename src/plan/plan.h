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
    uint8_t *bytes;   /* owned copy of the bytes, or NULL */
    size_t size;      /* of bytes */
    char *file;       /* or: the bytes of this file (owned path), or NULL */
    int level;        /* zstd level; 0 stores them as they are */
} plan_part;

typedef struct plan_entry {
    unsigned kind;     /* enum bundle_kind */
    char *name;        /* module name, soname or data path; owned */
    char *location;    /* its path inside the program; owned */
    plan_part data;    /* bytecode, shared object or file */
    plan_part aux;     /* a module's source */
    int strip;         /* data is a shared object: keep only what the
                          dynamic loader reads */
    char *reason;      /* why it is in, for reports ("imported by x"); owned,
                          may be NULL */
} plan_entry;

typedef struct plan {
    plan_entry *entries;
    size_t n;
    size_t cap;
    enum bundle_run_mode run_mode;
    char *run_target;  /* owned; "" for none */
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

/* Make part hold a copy of bytes[0, n), stored at `level`. */
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

/* Put the entries in bundle order (bundle_entry_order), which is the order
 * every output lays them out in, so that the same plan always gives the
 * same bytes. Fails when two entries share a name in one namespace, naming
 * both reasons. */
int plan_finish(plan *p, kl_err *err);

#endif
