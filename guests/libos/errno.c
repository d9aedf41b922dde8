/* errno.c: the one errno of a guest (one thread, so a plain variable). */
#include <errno.h>

int errno;
