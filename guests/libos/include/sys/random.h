/*
 * sys/random.h: getrandom and getentropy, as on Linux. Served by the library
 * OS's ChaCha20 generator, keyed with fresh host entropy each run
 * (guests/libos/random.c); never blocks, never fails for a valid call.
 */
#ifndef NABLA_SYS_RANDOM_H
#define NABLA_SYS_RANDOM_H

#include <stddef.h>
#include <sys/types.h>

#define GRND_NONBLOCK 0x01
#define GRND_RANDOM   0x02

#ifdef __cplusplus
extern "C" {
#endif

ssize_t getrandom(void *buf, size_t len, unsigned int flags);
int getentropy(void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
