/* globals: initialised data, bss and rodata where the image says. */
#include "spt.h"
SPT_MANIFEST(1);

static int counter = 42;
static char zeroes[8192];
static const char message[] = "globals ok\n";

int app_main(const char *cmdline) {
    (void)cmdline;
    for (unsigned i = 0; i < sizeof zeroes; i++) if (zeroes[i] != 0) return 1;
    if (counter != 42) return 2;
    counter++;
    zeroes[100] = 1;
    if (counter != 43 || zeroes[100] != 1) return 3;
    spt_puts(message);
    return 0;
}
