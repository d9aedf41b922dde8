/*
 * arch/cc.h: lwIP's compiler and platform port for nabla guests.
 *
 * lwIP is compiled freestanding against the library OS (guests/libos):
 * clang's own <stdint.h>, <stddef.h> and <limits.h>, the library's
 * <string.h> and <stdlib.h>. There is no <inttypes.h> or <ctype.h>, so
 * the format macros are given here and lwIP uses its own ctype functions.
 */
#ifndef NABLA_LWIP_ARCH_CC_H
#define NABLA_LWIP_ARCH_CC_H

#include <nabla.h>
#include <sys/types.h>      /* ssize_t and SSIZE_MAX, so lwIP defines neither */

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

#endif /* NABLA_LWIP_ARCH_CC_H */
