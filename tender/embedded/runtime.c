/*
 * runtime.c: what nabla-run's Embedded Swift build on musl needs from
 * outside the Embedded standard library and musl: main, which keeps argc and
 * argv (Embedded Swift has no CommandLine) and finishes musl's start-up;
 * the random source the standard library asks for; and the C-locale number
 * parser Double(String) calls.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include "glibc.h"

int nabla_glibc_argc;
char **nabla_glibc_argv;

/* main.swift's top-level code, compiled under this name
 * (-entry-point-function-name; Makefile). */
int nabla_swift_main(int argc, char **argv);

/* The linker's name for this binary's own ELF header: its load address. */
extern const Elf64_Ehdr __ehdr_start;

/*
 * musl 1.2.3's static-PIE start-up (rcrt1.o) applies the relocations but,
 * unlike glibc's, leaves PT_GNU_RELRO writable: the GOT, the hypercall
 * thunk table and the Swift tables would stay writable by the guest. Made
 * read-only here, before any Swift code runs; nabla-run refuses to go on
 * (abort) if it cannot.
 */
static void protect_relro(void)
{
    const unsigned char *base = (const unsigned char *)&__ehdr_start;
    const Elf64_Phdr *header = (const Elf64_Phdr *)(base + __ehdr_start.e_phoff);
    for (int i = 0; i < __ehdr_start.e_phnum; i++) {
        if (header[i].p_type != PT_GNU_RELRO) continue;
        uintptr_t start = ((uintptr_t)base + header[i].p_vaddr) & ~(uintptr_t)4095;
        uintptr_t end = ((uintptr_t)base + header[i].p_vaddr + header[i].p_memsz) & ~(uintptr_t)4095;
        if (end > start && mprotect((void *)start, end - start, PROT_READ) != 0) abort();
    }
}

int main(int argc, char **argv)
{
    protect_relro();
    nabla_glibc_argc = argc;
    nabla_glibc_argv = argv;
    return nabla_swift_main(argc, argv);
}

/*
 * The Embedded standard library's random source (hashing seeds,
 * SystemRandomNumberGenerator); musl 1.2.3 has no arc4random. Like glibc's,
 * it cannot fail: it aborts if the kernel gives no random bytes.
 */
void arc4random_buf(void *buffer, size_t size)
{
    unsigned char *p = buffer;
    while (size > 0) {
        ssize_t n = getrandom(p, size, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            abort();
        }
        p += n;
        size -= (size_t)n;
    }
}

/*
 * Double(String)'s parser: returns where the number ends (the standard
 * library accepts the text only if that is its end). Leading white space is
 * refused, as the full runtime refuses it. nabla-run never calls setlocale,
 * so strtod parses in the C locale. "snan" is not recognised (the full
 * runtime's one extension); no nabla option accepts a NaN.
 */
const char *_swift_stdlib_strtod_clocale(const char *text, double *result)
{
    if (isspace((unsigned char)*text)) {
        *result = 0;
        return text;
    }
    char *end;
    *result = strtod(text, &end);
    return end;
}
