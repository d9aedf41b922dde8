/* <sys/dirent.h> for guests (newlib's <dirent.h> includes it): directory
 * streams over the library OS's file systems (guests/libos/files.c). */
#ifndef NABLA_SYS_DIRENT_H
#define NABLA_SYS_DIRENT_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DT_UNKNOWN  0
#define DT_FIFO     1
#define DT_CHR      2
#define DT_DIR      4
#define DT_BLK      6
#define DT_REG      8
#define DT_LNK      10
#define DT_SOCK     12

struct dirent {
    ino_t          d_ino;
    off_t          d_off;
    unsigned short d_reclen;
    unsigned char  d_type;      /* DT_* */
    char           d_name[256];
};

/* A directory stream: a descriptor of the directory and the entry readdir
 * returned last. */
typedef struct nabla_dir {
    int fd;
    struct dirent entry;
} DIR;

DIR *opendir(const char *path);
DIR *fdopendir(int fd);
struct dirent *readdir(DIR *dir);
void rewinddir(DIR *dir);
int closedir(DIR *dir);
int dirfd(DIR *dir);

#ifdef __cplusplus
}
#endif
#endif
