/* <fcntl.h> for guests (guests/net): F_GETFL and F_SETFL with O_NONBLOCK,
 * on sockets. */
#ifndef NABLA_FCNTL_H
#define NABLA_FCNTL_H

#define F_GETFL     3
#define F_SETFL     4
#define O_RDWR      02
#define O_NONBLOCK  04000

int fcntl(int fd, int cmd, ...);

#endif
