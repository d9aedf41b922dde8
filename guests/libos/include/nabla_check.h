/*
 * nabla_check.h: the case-by-case checks of the guests that test the
 * tender's hypercall argument checks (hypercall-bad, blkbad, netbad). Each
 * case prints one line; nabla_check_summary prints the total and returns the
 * guest's exit status.
 */
#ifndef NABLA_CHECK_H
#define NABLA_CHECK_H

#include <nabla.h>

static int nabla_check_failures;

/* Prints `case NAME: got R, expected W: ok|MISMATCH` and counts mismatches. */
static inline void expect(const char *name, int64_t got, int64_t want)
{
    printf("case %s: got %lld, expected %lld: %s\n", name, (long long)got,
           (long long)want, got == want ? "ok" : "MISMATCH");
    if (got != want)
        nabla_check_failures++;
}

/* Prints `all cases ok: 0 mismatches` or `FAILED: N mismatches`; returns
 * 0 or 1. */
static inline int nabla_check_summary(void)
{
    printf("%s: %d mismatches\n", nabla_check_failures == 0 ? "all cases ok" : "FAILED", nabla_check_failures);
    return nabla_check_failures == 0 ? 0 : 1;
}

#endif
