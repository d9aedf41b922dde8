/*
 * libos.h: what the pieces of the library OS share with each other and
 * nothing else. Guests include <nabla.h>, never this file.
 */
#ifndef NABLA_LIBOS_H
#define NABLA_LIBOS_H

#include "nabla.h"

/* The guest's main. Declared here, not in nabla.h, so that a guest may
 * define it as int main(void) too: the extra arguments are harmless in
 * the System V calling convention. */
int main(int argc, char **argv);

/* The boot info, set by _start before anything else runs. */
extern const struct nabla_boot_info *nabla__info;

/* The hypercall table. Only valid once _start has checked the boot info. */
static inline const struct nabla_hypercalls *nabla__hc(void)
{
    return nabla__info->hypercalls;
}

/*
 * The exit context (exit.S). nabla__call_main saves what it takes to come
 * back to its caller: the callee-saved registers go on its own stack frame,
 * the stack pointer and the floating point control words (also
 * callee-saved in the System V ABI) into the context. nabla__exit_to, called
 * from any depth below, reloads them and makes nabla__call_main return
 * `status` as if `fn` had returned it.
 */
struct nabla_exit_context {
    uint64_t rsp;       /* stack pointer after the saves, before the call */
    uint32_t mxcsr;     /* SSE control and status */
    uint16_t fpucw;     /* x87 control word */
    uint16_t reserved;
};

int nabla__call_main(struct nabla_exit_context *ctx,
                     int (*fn)(int, char **), int argc, char **argv);
NABLA_NORETURN void nabla__exit_to(const struct nabla_exit_context *ctx,
                                   int status);

/* Start-up steps of the other files, called once by _start, in this order:
 * the heap sbrk hands to newlib's malloc (newlib.c), the random generator. */
void nabla__heap_init(uint64_t start, uint64_t end);
void nabla__random_init(void);

/* The descriptor table's standard streams (fd.c), installed by _start. */
void nabla__fd_init(void);

/* Sets errno (newlib's global one and the caller's) to `code`; returns -1. */
int nabla__fail(int code);

/* Writes a NUL-terminated message to the console, for the fatal paths that
 * must not depend on printf. */
void nabla__console_str(const char *s);


#endif /* NABLA_LIBOS_H */
