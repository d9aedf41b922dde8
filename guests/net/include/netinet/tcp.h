/* <netinet/tcp.h> for guests (guests/net). */
#ifndef NABLA_NETINET_TCP_H
#define NABLA_NETINET_TCP_H

#define TCP_NODELAY 1

#endif
