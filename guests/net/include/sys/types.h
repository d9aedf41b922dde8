/* <sys/types.h> for guests (guests/net): the types the socket API uses. */
#ifndef NABLA_SYS_TYPES_H
#define NABLA_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
#define SSIZE_MAX 0x7fffffffffffffffL

#endif
