/*
 * test-misreport: guests that try to make nabla-test report something
 * other than what happened (for nabla-test's own tests).
 *
 *   late-failure  a passing case, 2 MiB of diagnostics, then a failing
 *                 case; exits 0
 *   late-plan     a passing case, 2 MiB of diagnostics, then a plan of
 *                 3 cases; exits 0
 *   status-124    exits 124 (nabla-run's timeout status) at once
 *   redraw        fails one case, then prints escape sequences that, raw
 *                 on a terminal, erase the FAIL line above and write a
 *                 PASS line in its place; exits 1
 */
#include <nabla.h>

/* 2 MiB of TAP diagnostic lines, 64 bytes each. */
static void flood(void)
{
    for (int i = 0; i < 32768; i++)
        printf("# filler %054d\n", i);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "late-failure") == 0) {
        printf("TAP version 13\nok 1 - before\n");
        flood();
        printf("# the second case fails after 2 MiB\nnot ok 2 - after\n1..2\n");
        return 0;
    }
    if (strcmp(mode, "late-plan") == 0) {
        printf("TAP version 13\nok 1 - before\n");
        flood();
        printf("1..3\n");
        return 0;
    }
    if (strcmp(mode, "status-124") == 0)
        return 124;
    if (strcmp(mode, "redraw") == 0) {
        printf("not ok 1 - redrawn\n");
        /* Up to the FAIL line, erase it, write a PASS line. */
        printf("\x1b[2A\r\x1b[2KPASS  test-misreport  (0.1 ms)\x1b[K\n\x1b[2K\r");
        return 1;
    }
    printf("usage: test-misreport late-failure|late-plan|status-124|redraw\n");
    return 64;
}
