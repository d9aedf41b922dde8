/*
 * runtime.c: the two things nabla-run's Embedded Swift build needs from
 * outside the Embedded standard library, which has no CommandLine and leaves
 * the C-locale number parser to the platform.
 */
#include <ctype.h>
#include <stdlib.h>
#include "glibc.h"

int nabla_glibc_argc;
char **nabla_glibc_argv;

/* glibc calls each .init_array function with (argc, argv, envp) before
 * main, static executables included. */
static void nabla_glibc_save_arguments(int argc, char **argv, char **envp)
{
    (void)envp;
    nabla_glibc_argc = argc;
    nabla_glibc_argv = argv;
}

__attribute__((section(".init_array"), used))
static void (*const nabla_glibc_save_arguments_entry)(int, char **, char **) = nabla_glibc_save_arguments;

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
