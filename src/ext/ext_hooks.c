/*
 * ext_hooks.c: paths under an extension module's file, served in its
 * host. The executable kiln builds defines libc's path functions itself;
 * an extension module cannot, since the host's objects were bound to
 * libc's before it was loaded. They call them through slots the dynamic
 * loader filled (their global offset tables, found from their jump-slot
 * and global-data relocations): the slot of each function rt_libc.c wraps
 * is given the wrapper, made writable for the moment when it lies in the
 * object's read-only-after-relocation part.
 */
#include "ext.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define EXT_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define EXT_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define EXT_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define EXT_R_GLOB_DAT R_AARCH64_GLOB_DAT
#else
#error "ext_hooks.c knows the relocations of x86_64 and aarch64 only"
#endif

/* What one walk over the loaded objects needs and finds. */
typedef struct ext_hooks_walk {
    uintptr_t self;   /* load address of this extension module */
} ext_hooks_walk;

/* The wrapper of libc function `name`, or NULL when there is none. */
static void *ext_hooks_wrapper(const char *name)
{
    size_t i;

    for (i = 0; i < rt_libc_n_hooks; i++)
        if (strcmp(rt_libc_hooks[i].name, name) == 0)
            return rt_libc_hooks[i].hook;
    return NULL;
}

/* True for an object whose slots stay as they are: the C library and the
 * dynamic loader (libc's functions call each other directly), and the
 * kernel's vDSO. */
static int ext_hooks_leave(const char *name)
{
    const char *base = strrchr(name, '/');

    base = base ? base + 1 : name;
    return strncmp(base, "libc.so", 7) == 0 ||
           strncmp(base, "ld-linux", 8) == 0 ||
           strncmp(base, "linux-vdso", 10) == 0 ||
           strncmp(base, "linux-gate", 10) == 0;
}

/* An address the loaded dynamic section gives: glibc relocates the
 * pointers in it in place, but an object's own view may be its link-time
 * value (relative to its load address, base). */
static uintptr_t ext_hooks_addr(uintptr_t base, uintptr_t p)
{
    return p < base ? base + p : p;
}

/* Store wrapper in slot; the page holding it is made writable for the
 * moment when it lies in [ro_start, ro_end), the object's part made
 * read-only after relocation. A page that cannot be made writable keeps
 * libc's function. */
static void ext_hooks_point(void **slot, void *wrapper, uintptr_t ro_start,
                           uintptr_t ro_end)
{
    uintptr_t at = (uintptr_t)slot;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    void *start = (void *)(at & ~(page - 1));
    int ro = at >= ro_start && at < ro_end;

    if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == wrapper)
        return;
    if (ro && mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) < 0)
        return;
    __atomic_store_n(slot, wrapper, __ATOMIC_RELEASE);
    if (ro)
        (void)mprotect(start, (size_t)page, PROT_READ);
}

/* dl_iterate_phdr's callback: point the slots of one object. */
static int ext_hooks_object(struct dl_phdr_info *info, size_t size,
                            void *data)
{
    ext_hooks_walk *w = data;
    uintptr_t base = (uintptr_t)info->dlpi_addr, ro_start = 0, ro_end = 0;
    const ElfW(Dyn) *d = NULL;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *rel[2] = {NULL, NULL};
    size_t rel_size[2] = {0, 0}, k, i;
    ElfW(Half) p;

    (void)size;
    if (base == w->self || ext_hooks_leave(info->dlpi_name))
        return 0;
    for (p = 0; p < info->dlpi_phnum; p++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[p];

        if (ph->p_type == PT_DYNAMIC)
            d = (const ElfW(Dyn) *)(base + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            /* The whole pages of it, as the loader protects them: a
             * last page it only partly covers stays writable. */
            uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

            ro_start = (base + ph->p_vaddr) & ~(page - 1);
            ro_end = (base + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
        }
    }
    for (; d != NULL && d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB:
            symtab = (const ElfW(Sym) *)ext_hooks_addr(base, d->d_un.d_ptr);
            break;
        case DT_STRTAB:
            strtab = (const char *)ext_hooks_addr(base, d->d_un.d_ptr);
            break;
        case DT_JMPREL:
            rel[0] = (const ElfW(Rela) *)ext_hooks_addr(base, d->d_un.d_ptr);
            break;
        case DT_PLTRELSZ:
            rel_size[0] = d->d_un.d_val;
            break;
        case DT_RELA:
            rel[1] = (const ElfW(Rela) *)ext_hooks_addr(base, d->d_un.d_ptr);
            break;
        case DT_RELASZ:
            rel_size[1] = d->d_un.d_val;
            break;
        case DT_PLTREL:
            if (d->d_un.d_val != DT_RELA)
                return 0;
            break;
        }
    }
    if (symtab == NULL || strtab == NULL)
        return 0;
    for (k = 0; k < 2; k++) {
        for (i = 0; rel[k] != NULL && i < rel_size[k] / sizeof *rel[k]; i++) {
            const ElfW(Rela) *r = &rel[k][i];
            unsigned type = (unsigned)ELF64_R_TYPE(r->r_info);
            const ElfW(Sym) *sym = &symtab[ELF64_R_SYM(r->r_info)];
            void *wrapper;

            /* Only the object's imports: a function it defines itself (a
             * program kiln built defines libc's) is its own business. */
            if ((type != EXT_R_JUMP_SLOT && type != EXT_R_GLOB_DAT) ||
                ELF64_R_SYM(r->r_info) == 0 || sym->st_shndx != SHN_UNDEF ||
                ELF64_ST_TYPE(sym->st_info) == STT_OBJECT)
                continue;
            wrapper = ext_hooks_wrapper(strtab + sym->st_name);
            if (wrapper != NULL)
                ext_hooks_point((void **)(base + r->r_offset), wrapper,
                                ro_start, ro_end);
        }
    }
    return 0;
}

/* What a program kiln built exports (src/runtime/rt_libc.c) for the
 * extension modules kiln built that it imports. */
typedef int (*ext_hooks_add_tree)(int (*)(const char *), int (*)(DIR *),
                                  const rt_libc_hook *, size_t);

int ext_hooks_install(const void *self)
{
    ext_hooks_walk w = {0};
    ext_hooks_add_tree add;
    Dl_info info;

    if (dladdr(self, &info) != 0)
        w.self = (uintptr_t)info.dli_fbase;
    dl_iterate_phdr(ext_hooks_object, &w);
    /* A program kiln built calls its own wrappers directly, not through
     * slots: it hands this module's paths over itself. */
    *(void **)&add = dlsym(RTLD_DEFAULT, "kiln_libc_add_tree");
    if (add != NULL)
        (void)add(rt_files_claims, rt_libc_owns_dir, rt_libc_hooks,
                  rt_libc_n_hooks);
    return add != NULL;
}
