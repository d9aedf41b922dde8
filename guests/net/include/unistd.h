/* <unistd.h> for guests (guests/net): read, write and close, on sockets
 * (a guest has no other file descriptors). */
#ifndef NABLA_UNISTD_H
#define NABLA_UNISTD_H

#include <sys/types.h>

ssize_t read(int fd, void *buf, size_t len);
ssize_t write(int fd, const void *buf, size_t len);
int close(int fd);

#endif
