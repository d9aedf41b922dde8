/* <arpa/inet.h> for guests (guests/net): IPv4 address text conversion. */
#ifndef NABLA_ARPA_INET_H
#define NABLA_ARPA_INET_H

#include <netinet/in.h>

/* 1 and *addr set, or 0 if `text` is not a dotted quad (a.b.c.d). */
int inet_aton(const char *text, struct in_addr *addr);
/* The address, or INADDR_NONE. */
in_addr_t inet_addr(const char *text);
/* Formats into a static buffer. */
char *inet_ntoa(struct in_addr addr);
/* AF_INET only: 1, 0 (not an address) or -1 (errno EAFNOSUPPORT). */
int inet_pton(int af, const char *text, void *addr);
/* AF_INET only: dst, or NULL (errno EAFNOSUPPORT or ENOSPC). */
const char *inet_ntop(int af, const void *addr, char *dst, socklen_t size);

#endif
