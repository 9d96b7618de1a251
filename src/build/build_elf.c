/*
 * build_elf.c: shrink ELF shared objects before they are bundled.
 *
 * The dynamic loader reads only the program headers and the segments they
 * describe. Everything after the last segment (debug information, the
 * static symbol table, section headers) is never looked at when a library
 * is loaded from a memfd, so `--strip` cuts it off and clears the section
 * header fields that pointed into it.
 */
#include "build.h"

#include <elf.h>
#include <string.h>

size_t build_elf_loadable_size(uint8_t *image, size_t size)
{
    Elf64_Ehdr eh;
    uint64_t end, ph_end;
    size_t i;

    if (size < sizeof eh || memcmp(image, ELFMAG, SELFMAG) != 0 ||
        image[EI_CLASS] != ELFCLASS64 || image[EI_DATA] != ELFDATA2LSB)
        return size;
    memcpy(&eh, image, sizeof eh);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        eh.e_phoff > size ||
        (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
        return size;
    ph_end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
    end = ph_end > sizeof eh ? ph_end : sizeof eh;
    for (i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        uint64_t seg_end;

        memcpy(&ph, image + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (kl_add_size(ph.p_offset, ph.p_filesz, &seg_end) < 0 ||
            seg_end > size)
            return size;
        if (seg_end > end)
            end = seg_end;
    }
    if (end >= size)
        return size;
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = SHN_UNDEF;
    memcpy(image, &eh, sizeof eh);
    return (size_t)end;
}
