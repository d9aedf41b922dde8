/* <sys/time.h> for guests (guests/net): struct timeval, for SO_RCVTIMEO. */
#ifndef NABLA_SYS_TIME_H
#define NABLA_SYS_TIME_H

struct timeval {
    long tv_sec;
    long tv_usec;
};

#endif
