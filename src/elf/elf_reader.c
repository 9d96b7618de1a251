/*
 * elf_reader.c: read program headers and the dynamic section of an ELF
 * object in memory, checking every offset before it is used; and, for a
 * built program, hide needed libraries from the loader in a copy, or
 * rename the one symbol an extension module's template exports.
 *
 * Addresses in the dynamic section (the string table, the version-needs
 * table) are virtual addresses; they are turned into file offsets through
 * the PT_LOAD segment that holds them, as the loader would map them.
 */
#include "elf_reader.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(Elf64_Ehdr) == ELF_HEADER_SIZE, "ELF header size");

/* The image and the tables found in it while reading. */
typedef struct elf_image {
    const uint8_t *p;
    uint64_t size;
    Elf64_Ehdr eh;
    uint64_t strtab_off;   /* file offset of the dynamic string table */
    uint64_t strtab_size;
} elf_image;

/* True when [off, off + len) lies inside the image. */
static int elf_in_image(const elf_image *im, uint64_t off, uint64_t len)
{
    uint64_t end;

    return kl_add_size(off, len, &end) == 0 && end <= im->size;
}

/* Program header i (which must exist), copied out: the image may be
 * unaligned. */
static Elf64_Phdr elf_phdr(const elf_image *im, size_t i)
{
    Elf64_Phdr ph;

    memcpy(&ph, im->p + im->eh.e_phoff + i * sizeof ph, sizeof ph);
    return ph;
}

/* The file offset of virtual address [addr, addr + len), through the
 * PT_LOAD segment holding it. */
static int elf_vaddr_to_off(const elf_image *im, uint64_t addr, uint64_t len,
                            uint64_t *off, const char *what, kl_err *err)
{
    size_t i;

    for (i = 0; i < im->eh.e_phnum; i++) {
        Elf64_Phdr ph = elf_phdr(im, i);
        uint64_t end;

        if (ph.p_type != PT_LOAD || addr < ph.p_vaddr ||
            kl_add_size(addr, len, &end) < 0 ||
            end - ph.p_vaddr > ph.p_filesz)
            continue;
        *off = ph.p_offset + (addr - ph.p_vaddr);
        if (!elf_in_image(im, *off, len))
            break;
        return 0;
    }
    return kl_err_set(err, "%s lies outside the file's segments", what);
}

/* The NUL-terminated string at offset `at` of the dynamic string table. */
static int elf_string(const elf_image *im, uint64_t at, const char **out,
                      kl_err *err)
{
    const char *s = (const char *)im->p + im->strtab_off;

    *out = NULL;
    if (at >= im->strtab_size ||
        memchr(s + at, '\0', (size_t)(im->strtab_size - at)) == NULL)
        return kl_err_set(err, "a name lies outside the dynamic string table");
    *out = s + at;
    return 0;
}

/* Check the ELF header and program header table; fill im->eh and
 * info's type, machine and loadable size. */
static int elf_read_headers(elf_image *im, elf_info *info, kl_err *err)
{
    uint64_t end, seg_end;
    size_t i;

    if (im->size < sizeof im->eh || memcmp(im->p, ELFMAG, SELFMAG) != 0)
        return kl_err_set(err, "not an ELF file");
    if (im->p[EI_CLASS] != ELFCLASS64 || im->p[EI_DATA] != ELFDATA2LSB)
        return kl_err_set(err, "not a 64-bit little-endian ELF file");
    memcpy(&im->eh, im->p, sizeof im->eh);
    if (im->eh.e_phnum == 0 || im->eh.e_phentsize != sizeof(Elf64_Phdr) ||
        !elf_in_image(im, im->eh.e_phoff,
                      (uint64_t)im->eh.e_phnum * sizeof(Elf64_Phdr)))
        return kl_err_set(err, "bad program header table");
    info->type = im->eh.e_type;
    info->machine = im->eh.e_machine;
    end = im->eh.e_phoff + (uint64_t)im->eh.e_phnum * sizeof(Elf64_Phdr);
    if (end < sizeof im->eh)
        end = sizeof im->eh;
    for (i = 0; i < im->eh.e_phnum; i++) {
        Elf64_Phdr ph = elf_phdr(im, i);

        if (kl_add_size(ph.p_offset, ph.p_filesz, &seg_end) < 0 ||
            seg_end > im->size)
            return kl_err_set(err, "segment %zu lies outside the file", i);
        if (seg_end > end)
            end = seg_end;
    }
    info->loadable_size = end;
    return 0;
}

/* Append s to the string-pointer array *arr of *n. */
static int elf_push(const char ***arr, size_t *n, const char *s, kl_err *err)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof **arr);

    if (grown == NULL)
        return kl_err_oom(err);
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* How many version needs image im can hold: in a sound table every one
 * is a record of its own. A walk that meets more (records and versions
 * that point back into one another) stops there, instead of listing the
 * same bytes over and over, without bound. */
static uint64_t elf_verneed_most(const elf_image *im)
{
    return im->size / sizeof(Elf64_Vernaux);
}

static const char elf_verneed_loops[] =
    "the version-needs table lists more versions than the file holds";

/* Walk the version-needs table (DT_VERNEED, `count` records at virtual
 * address `addr`) into info->version_needs. */
static int elf_read_verneed(const elf_image *im, uint64_t addr,
                            uint64_t count, elf_info *info, kl_err *err)
{
    uint64_t off, k;
    size_t cap = 0;

    if (elf_vaddr_to_off(im, addr, sizeof(Elf64_Verneed), &off,
                         "the version-needs table", err) < 0)
        return -1;
    for (k = 0; k < count; k++) {
        Elf64_Verneed vn;
        const char *file = NULL;
        uint64_t aux;
        unsigned j;

        if (!elf_in_image(im, off, sizeof vn))
            return kl_err_set(err, "version-needs record %llu lies outside "
                                   "the file", (unsigned long long)k);
        memcpy(&vn, im->p + off, sizeof vn);
        if (elf_string(im, vn.vn_file, &file, err) < 0)
            return -1;
        aux = off + vn.vn_aux;
        for (j = 0; j < vn.vn_cnt; j++) {
            Elf64_Vernaux va;
            elf_version_need *need;
            const char *version = NULL;

            if (!elf_in_image(im, aux, sizeof va))
                return kl_err_set(err, "a version needed from %s lies "
                                       "outside the file", file);
            memcpy(&va, im->p + aux, sizeof va);
            if (elf_string(im, va.vna_name, &version, err) < 0)
                return -1;
            if (info->n_version_needs >= elf_verneed_most(im))
                return kl_err_set(err, "%s", elf_verneed_loops);
            if (kl_room(&info->version_needs, &cap, info->n_version_needs,
                        sizeof *info->version_needs) < 0)
                return kl_err_oom(err);
            need = &info->version_needs[info->n_version_needs++];
            need->file = file;
            need->version = version;
            if (va.vna_next == 0)
                break;
            aux += va.vna_next;
        }
        if (vn.vn_next == 0)
            break;
        off += vn.vn_next;
    }
    return 0;
}

/* Read the dynamic section (segment ph) into info. */
static int elf_read_dynamic(elf_image *im, const Elf64_Phdr *ph,
                            elf_info *info, kl_err *err)
{
    uint64_t n = ph->p_filesz / sizeof(Elf64_Dyn), i;
    uint64_t strtab = 0, verneed = 0, verneednum = 0;
    int have_strtab = 0, have_strsz = 0, names = 0;
    const char *s;

    /* First pass: where the string table is. */
    for (i = 0; i < n; i++) {
        Elf64_Dyn d;

        memcpy(&d, im->p + ph->p_offset + i * sizeof d, sizeof d);
        if (d.d_tag == DT_NULL)
            break;
        if (d.d_tag == DT_STRTAB) {
            strtab = d.d_un.d_ptr;
            have_strtab = 1;
        } else if (d.d_tag == DT_STRSZ) {
            im->strtab_size = d.d_un.d_val;
            have_strsz = 1;
        } else if (d.d_tag == DT_VERNEED) {
            verneed = d.d_un.d_ptr;
        } else if (d.d_tag == DT_VERNEEDNUM) {
            verneednum = d.d_un.d_val;
        } else if (d.d_tag == DT_NEEDED || d.d_tag == DT_SONAME ||
                   d.d_tag == DT_RPATH || d.d_tag == DT_RUNPATH) {
            names = 1;
        }
    }
    if (!have_strtab || !have_strsz) {
        if (names || verneednum > 0)
            return kl_err_set(err, "the dynamic section names libraries "
                                   "but has no string table");
        return 0;
    }
    if (elf_vaddr_to_off(im, strtab, im->strtab_size, &im->strtab_off,
                         "the dynamic string table", err) < 0)
        return -1;
    /* Second pass: the names. */
    for (i = 0; i < n; i++) {
        Elf64_Dyn d;

        memcpy(&d, im->p + ph->p_offset + i * sizeof d, sizeof d);
        if (d.d_tag == DT_NULL)
            break;
        switch (d.d_tag) {
        case DT_NEEDED:
            if (elf_string(im, d.d_un.d_val, &s, err) < 0 ||
                elf_push(&info->needed, &info->n_needed, s, err) < 0)
                return -1;
            break;
        case DT_SONAME:
            if (elf_string(im, d.d_un.d_val, &info->soname, err) < 0)
                return -1;
            break;
        case DT_RPATH:
            if (elf_string(im, d.d_un.d_val, &info->rpath, err) < 0)
                return -1;
            break;
        case DT_RUNPATH:
            if (elf_string(im, d.d_un.d_val, &info->runpath, err) < 0)
                return -1;
            break;
        default:
            break;
        }
    }
    if (verneednum > 0)
        return elf_read_verneed(im, verneed, verneednum, info, err);
    return 0;
}

int elf_read(const void *image, uint64_t size, elf_info *info, kl_err *err)
{
    elf_image im;
    size_t i;
    int have_dynamic = 0;

    memset(info, 0, sizeof *info);
    memset(&im, 0, sizeof im);
    im.p = image;
    im.size = size;
    if (elf_read_headers(&im, info, err) < 0)
        return -1;
    for (i = 0; i < im.eh.e_phnum; i++) {
        Elf64_Phdr ph = elf_phdr(&im, i);

        if (ph.p_type == PT_INTERP)
            info->program = 1;
        if (ph.p_type != PT_DYNAMIC)
            continue;
        if (have_dynamic++) {
            elf_info_free(info);
            return kl_err_set(err, "more than one dynamic section");
        }
        if (elf_read_dynamic(&im, &ph, info, err) < 0) {
            elf_info_free(info);
            return -1;
        }
    }
    if (info->type == ET_EXEC)
        info->program = 1;
    return 0;
}

void elf_info_free(elf_info *info)
{
    free(info->needed);
    free(info->version_needs);
    memset(info, 0, sizeof *info);
}

void elf_cut_header(const void *image, uint8_t out[ELF_HEADER_SIZE])
{
    Elf64_Ehdr eh;

    memcpy(&eh, image, sizeof eh);
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = SHN_UNDEF;
    memcpy(out, &eh, sizeof eh);
}

/* Where the dynamic section and its string table lie in an image. */
typedef struct elf_dynamic {
    uint64_t off;   /* file offset of the first entry */
    uint64_t n;     /* entries before DT_NULL */
    uint64_t verneed, verneednum;
    uint64_t symtab, gnu_hash; /* virtual addresses, 0 when absent */
} elf_dynamic;

/* Find image im's dynamic section and string table (im->strtab_*). 1 when
 * it has both, 0 when it has no dynamic section, -1 on damage. */
static int elf_find_dynamic(elf_image *im, elf_dynamic *dyn, kl_err *err)
{
    uint64_t strtab = 0, i;
    int have_strtab = 0, have_strsz = 0;
    size_t k;

    memset(dyn, 0, sizeof *dyn);
    for (k = 0; k < im->eh.e_phnum; k++) {
        Elf64_Phdr ph = elf_phdr(im, k);

        if (ph.p_type == PT_DYNAMIC) {
            dyn->off = ph.p_offset;
            dyn->n = ph.p_filesz / sizeof(Elf64_Dyn);
            break;
        }
    }
    if (k == im->eh.e_phnum)
        return 0;
    for (i = 0; i < dyn->n; i++) {
        Elf64_Dyn d;

        memcpy(&d, im->p + dyn->off + i * sizeof d, sizeof d);
        if (d.d_tag == DT_NULL) {
            dyn->n = i;
            break;
        }
        if (d.d_tag == DT_STRTAB)
            strtab = d.d_un.d_ptr, have_strtab = 1;
        else if (d.d_tag == DT_STRSZ)
            im->strtab_size = d.d_un.d_val, have_strsz = 1;
        else if (d.d_tag == DT_VERNEED)
            dyn->verneed = d.d_un.d_ptr;
        else if (d.d_tag == DT_VERNEEDNUM)
            dyn->verneednum = d.d_un.d_val;
        else if (d.d_tag == DT_SYMTAB)
            dyn->symtab = d.d_un.d_ptr;
        else if (d.d_tag == DT_GNU_HASH)
            dyn->gnu_hash = d.d_un.d_ptr;
    }
    if (!have_strtab || !have_strsz)
        return kl_err_set(err, "the dynamic section has no string table");
    if (elf_vaddr_to_off(im, strtab, im->strtab_size, &im->strtab_off,
                         "the dynamic string table", err) < 0)
        return -1;
    return 1;
}

/* Read image[0, size)'s headers into im and find its dynamic section
 * (dyn): 1 when it has one, 0 when not, -1 on damage (err says why). */
static int elf_open_dynamic(const void *image, uint64_t size, elf_image *im,
                            elf_dynamic *dyn, kl_err *err)
{
    elf_info info;

    memset(im, 0, sizeof *im);
    im->p = image;
    im->size = size;
    if (elf_read_headers(im, &info, err) < 0)
        return -1;
    return elf_find_dynamic(im, dyn, err);
}

int elf_dynstr_has(const void *image, uint64_t size, const char *name)
{
    elf_image im;
    elf_dynamic dyn;
    kl_err err;
    size_t n = strlen(name) + 1;
    const uint8_t *t, *end, *hit;

    if (elf_open_dynamic(image, size, &im, &dyn, &err) <= 0 ||
        !elf_in_image(&im, im.strtab_off, im.strtab_size))
        return 0;
    t = im.p + im.strtab_off;
    end = t + im.strtab_size;
    for (; (size_t)(end - t) >= n &&
           (hit = memmem(t, (size_t)(end - t), name, n)) != NULL;
         t = hit + 1)
        if (hit == im.p + im.strtab_off || hit[-1] == '\0')
            return 1;
    return 0;
}

size_t elf_origin_len(const char *s, size_t n)
{
    if (n >= 7 && memcmp(s, "$ORIGIN", 7) == 0)
        return 7;
    if (n >= 9 && memcmp(s, "${ORIGIN}", 9) == 0)
        return 9;
    return 0;
}

int elf_fixed_paths(const void *image, uint64_t size, uint64_t offs[2],
                    size_t *n)
{
    elf_image im;
    elf_dynamic dyn;
    kl_err err;
    uint64_t i;

    *n = 0;
    if (elf_open_dynamic(image, size, &im, &dyn, &err) <= 0)
        return 0;
    for (i = 0; i < dyn.n && *n < 2; i++) {
        uint64_t at = dyn.off + i * sizeof(Elf64_Dyn);
        Elf64_Dyn d;
        const char *s;

        memcpy(&d, im.p + at, sizeof d);
        if ((d.d_tag != DT_RPATH && d.d_tag != DT_RUNPATH) ||
            elf_string(&im, d.d_un.d_val, &s, &err) < 0)
            continue;
        if (strstr(s, "$ORIGIN") == NULL && strstr(s, "${ORIGIN}") == NULL)
            offs[(*n)++] = at;
    }
    return 0;
}

/* True when s is one of names[0, n). */
static int elf_among(const char *s, const char *const *names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

/* Point every version-needs record of image (writable copy of im) whose
 * file is among names at the empty string, and make its versions weak. */
static int elf_hide_verneed(const elf_image *im, uint8_t *image,
                            const elf_dynamic *dyn, const char *const *names,
                            size_t n_names, kl_err *err)
{
    uint64_t off, k, seen = 0;

    if (elf_vaddr_to_off(im, dyn->verneed, sizeof(Elf64_Verneed), &off,
                         "the version-needs table", err) < 0)
        return -1;
    for (k = 0; k < dyn->verneednum; k++) {
        Elf64_Verneed vn;
        const char *file;
        uint64_t aux;
        unsigned j;

        if (!elf_in_image(im, off, sizeof vn))
            return kl_err_set(err, "a version-needs record lies outside the "
                                   "file");
        memcpy(&vn, im->p + off, sizeof vn);
        if (elf_string(im, vn.vn_file, &file, err) < 0)
            return -1;
        for (aux = off + vn.vn_aux, j = 0;
             elf_among(file, names, n_names) && j < vn.vn_cnt; j++) {
            Elf64_Vernaux va;

            if (!elf_in_image(im, aux, sizeof va))
                return kl_err_set(err, "a version needed from %s lies "
                                       "outside the file", file);
            if (++seen > elf_verneed_most(im))
                return kl_err_set(err, "%s", elf_verneed_loops);
            memcpy(&va, im->p + aux, sizeof va);
            va.vna_flags |= VER_FLG_WEAK;
            memcpy(image + aux, &va, sizeof va);
            if (va.vna_next == 0)
                break;
            aux += va.vna_next;
        }
        if (elf_among(file, names, n_names)) {
            vn.vn_file = 0;
            memcpy(image + off, &vn, sizeof vn);
        }
        if (vn.vn_next == 0)
            break;
        off += vn.vn_next;
    }
    return 0;
}

int elf_hide_needed(uint8_t *image, uint64_t size, const char *const *names,
                    size_t n_names, kl_err *err)
{
    elf_image im;
    elf_dynamic dyn;
    uint64_t i;
    int hidden = 0, r;

    if ((r = elf_open_dynamic(image, size, &im, &dyn, err)) <= 0)
        return r;
    for (i = 0; i < dyn.n; i++) {
        uint64_t at = dyn.off + i * sizeof(Elf64_Dyn);
        Elf64_Dyn d;
        const char *s;

        memcpy(&d, image + at, sizeof d);
        if (d.d_tag != DT_NEEDED)
            continue;
        if (elf_string(&im, d.d_un.d_val, &s, err) < 0)
            return -1;
        if (elf_among(s, names, n_names)) {
            d.d_tag = ELF_DT_HIDDEN_NEEDED;
            memcpy(image + at, &d, sizeof d);
            hidden = 1;
        }
    }
    if (hidden && dyn.verneednum > 0 &&
        elf_hide_verneed(&im, image, &dyn, names, n_names, err) < 0)
        return -1;
    return hidden;
}

/* The hash the GNU hash table files a symbol name under (the loader's
 * dl_new_hash). */
static uint32_t elf_gnu_hash(const char *s)
{
    uint32_t h = 5381;

    for (; *s != '\0'; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

int elf_rename_export(uint8_t *image, uint64_t size, const char *prefix,
                      const char *name, kl_err *err)
{
    elf_image im;
    elf_dynamic dyn;
    uint32_t head[4], nbuckets, symoffset, bloom, h, k, chain;
    uint64_t off, sym_off, at;
    Elf64_Sym sym;
    const char *old;
    size_t room, n = strlen(name);
    int r;

    if ((r = elf_open_dynamic(image, size, &im, &dyn, err)) <= 0)
        return r < 0 ? -1 : kl_err_set(err, "no dynamic section");
    if (dyn.symtab == 0 || dyn.gnu_hash == 0)
        return kl_err_set(err, "no symbol table or GNU hash table");
    if (elf_vaddr_to_off(&im, dyn.gnu_hash, sizeof head, &off,
                         "the GNU hash table", err) < 0)
        return -1;
    memcpy(head, image + off, sizeof head);
    nbuckets = head[0];
    symoffset = head[1];
    bloom = head[2];
    if (nbuckets == 0 ||
        !elf_in_image(&im, off + sizeof head,
                      (uint64_t)bloom * 8 + (uint64_t)nbuckets * 4 + 4))
        return kl_err_set(err, "the GNU hash table lies outside the file");
    at = off + sizeof head + (uint64_t)bloom * 8;
    memcpy(&chain, image + at + (uint64_t)nbuckets * 4, 4);
    for (k = 0; k < nbuckets; k++) {
        uint32_t b;

        memcpy(&b, image + at + (uint64_t)k * 4, 4);
        if (b != 0 && b != symoffset)
            break;
    }
    if (k < nbuckets || (chain & 1u) == 0)
        return kl_err_set(err, "it exports more than one symbol");
    if (elf_vaddr_to_off(&im, dyn.symtab + (uint64_t)symoffset * sizeof sym,
                         sizeof sym, &sym_off, "the exported symbol", err) < 0)
        return -1;
    memcpy(&sym, image + sym_off, sizeof sym);
    if (elf_string(&im, sym.st_name, &old, err) < 0)
        return -1;
    room = strlen(old);
    if (strncmp(old, prefix, strlen(prefix)) != 0)
        return kl_err_set(err, "its exported symbol %s is not %s...", old,
                          prefix);
    if (n > room)
        return kl_err_set(err, "the name %s is longer than the %zu bytes "
                               "the template leaves for it", name, room);
    memset(image + im.strtab_off + sym.st_name, 0, room);
    memcpy(image + im.strtab_off + sym.st_name, name, n);
    h = elf_gnu_hash(name);
    memset(image + off + sizeof head, 0xff, (size_t)bloom * 8);
    for (k = 0; k < nbuckets; k++) {
        uint32_t b = k == h % nbuckets ? symoffset : 0;

        memcpy(image + at + (uint64_t)k * 4, &b, 4);
    }
    chain = h | 1u;
    memcpy(image + at + (uint64_t)nbuckets * 4, &chain, 4);
    return 0;
}
