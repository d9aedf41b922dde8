/*
 * start.c: the entry point, and the ways out of a guest.
 *
 * The tender calls the ELF entry point as a C function,
 *
 *     int _start(const struct nabla_boot_info *info);
 *
 * on the guest stack, and makes the value it returns the exit status of
 * nabla-run. _start prepares the library and runs main() under an exit
 * context (exit.S), so that _exit() (where newlib's exit(), abort() and
 * failed assertions end) can return a status from any depth.
 */
#include "libos.h"

#include <unistd.h>

/* The image's ABI note: the tender refuses an image without it. It is
 * defined here, once, so that every image linked with the library has
 * exactly one. */
NABLA_ABI_NOTE_DEFINE();

/* The Makefile passes the address guests/nabla.ld links at. */
#ifdef NABLA_LD_IMAGE_BASE
_Static_assert(NABLA_LD_IMAGE_BASE == NABLA_IMAGE_BASE,
               "guests/nabla.ld does not link at NABLA_IMAGE_BASE (nabla_abi.h)");
#endif

const struct nabla_boot_info *nabla__info;

/* newlib's (getenv, setenv and putenv use it). */
extern char **environ;

/* stdin's stdio buffer: one stdinread's worth. newlib's own would be
 * BUFSIZ (1 KiB: it has no st_blksize here), so fread of a large input
 * would cost a hypercall per KiB. In .bss: no memory until stdin is read. */
static char stdin_buffer[NABLA_STDIN_CHUNK];

/* Where exit() goes back to; valid while `exit_armed` is set. */
static struct nabla_exit_context exit_context;
static int exit_armed;

/* Constructor tables, delimited by the linker script (guests/nabla.ld).
 * C code gets entries with __attribute__((constructor)). */
typedef void (*nabla_ctor_fn)(void);
extern nabla_ctor_fn __preinit_array_start[], __preinit_array_end[];
extern nabla_ctor_fn __init_array_start[], __init_array_end[];

static void run_constructors(void)
{
    for (nabla_ctor_fn *f = __preinit_array_start; f < __preinit_array_end; f++)
        (*f)();
    for (nabla_ctor_fn *f = __init_array_start; f < __init_array_end; f++)
        (*f)();
}

/* Returning from main is exit(status): newlib's exit runs the atexit
 * handlers and flushes stdio, then calls _exit. */
static int run_main(int argc, char **argv)
{
    exit(main(argc, argv));
}

int _start(const struct nabla_boot_info *info);

int _start(const struct nabla_boot_info *info)
{
    /* The tender checked the ABI note, so a mismatch here means the image
     * was started by something else. Without a known hypercall table there
     * is no way to say so: just fail. */
    if (info == NULL || info->abi_version != NABLA_ABI_VERSION ||
        info->hypercalls == NULL)
        return NABLA_EXIT_BAD_BOOT;

    nabla__info = info;
    /* The strings stay in the command line area, which is writable guest
     * memory: setenv and putenv work as with any C library. */
    environ = info->envp;
    nabla__heap_init(info->heap_start, info->heap_end);
    nabla__fd_init();
    /* Line-buffered on a terminal, as newlib would make it: reading it then
     * flushes stdout first, so a prompt without a newline shows. */
    setvbuf(stdin, stdin_buffer, isatty(0) ? _IOLBF : _IOFBF, sizeof stdin_buffer);
    /* Keys the random generator with the boot info's entropy, and fills
     * the stack protector guard. Nothing compiled with a stack protector
     * has run yet: the library is built without. */
    nabla__random_init();
    run_constructors();

    exit_armed = 1;
    int status = nabla__call_main(&exit_context, run_main, (int)info->argc,
                                  info->argv);
    exit_armed = 0;
    return status;
}

const struct nabla_boot_info *nabla_boot_info(void)
{
    return nabla__info;
}

const struct nabla_hypercalls *nabla_hypercall_table(void)
{
    return nabla__info->hypercalls;
}

void _exit(int status)
{
    if (exit_armed)
        nabla__exit_to(&exit_context, status);
    /* Called from a constructor, before main: there is no context to go
     * back to. Crash visibly rather than run on. */
    __builtin_trap();
}

/* Defined here rather than taken from newlib, whose abort raises SIGABRT:
 * a guest has no signals. */
void abort(void)
{
    fflush(stdout);
    nabla__console_str("abort\n");
    _exit(NABLA_EXIT_ABORT);
}

/* ---- Stack protector -------------------------------------------------------
 *
 * Code compiled with -fstack-protector (Embedded Swift enables it by
 * default) reads __stack_chk_guard in its prologue and calls
 * __stack_chk_fail when the copy on its frame has changed. The guard is
 * filled by nabla__random_init before main runs. */
uintptr_t __stack_chk_guard;

NABLA_NORETURN void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
    nabla__console_str("stack smashing detected\n");
    abort();
}
