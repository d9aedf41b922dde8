/* <sys/stat.h> for guests: newlib's, plus lstat, which newlib declares
 * only for a few platforms (the library OS has it: guests/libos/files.c). */
#ifndef NABLA_SYS_STAT_H
#define NABLA_SYS_STAT_H

#include_next <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

int lstat(const char *__restrict path, struct stat *__restrict st);

#ifdef __cplusplus
}
#endif
#endif
