/*
 * arch/cc.h: lwIP's compiler and platform port for nabla guests.
 *
 * lwIP is compiled for the guest target against the library OS
 * (guests/libos) and its C library, newlib. The format macros are given
 * here and lwIP uses its own ctype functions, as it did before newlib.
 */
#ifndef NABLA_LWIP_ARCH_CC_H
#define NABLA_LWIP_ARCH_CC_H

#include <nabla.h>
#include <limits.h>
#include <sys/types.h>      /* ssize_t */

/* newlib's <limits.h> has no SSIZE_MAX; with it defined, lwIP takes
 * ssize_t from the C library instead of defining its own. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H    1
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

/* x86_64 is little-endian: lwIP's default BYTE_ORDER. */

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                  \
    do {                                                                         \
        printf("lwip: assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
        abort();                                                                 \
    } while (0)

/* Initial sequence numbers, ports, ARP and DHCP identifiers. The library's
 * generator is seeded from the clocks: not for secrets, which lwIP has none. */
#define LWIP_RAND() ((u32_t)arc4random())

/* lwIP's copies (pbuf_copy_partial, tcp_write, guests/net's frames): newlib's
 * x86_64 memcpy stores blocks of 256 bytes and more with movnti, past the
 * cache, so the host kernel's read of a frame just copied misses it (measured:
 * docs/performance.md, "Offloads"). `rep movsb` keeps them in the cache
 * and is fast on every x86_64 with ERMS. */
static inline void nl_copy(void *dst, const void *src, size_t len)
{
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
}
#define MEMCPY(dst, src, len)  nl_copy(dst, src, len)
#define SMEMCPY(dst, src, len) nl_copy(dst, src, len)

#endif /* NABLA_LWIP_ARCH_CC_H */
