/*
 * sys/utsname.h: uname, as POSIX has it. A nabla guest reports sysname
 * "nabla", release the ABI version, machine "x86_64" (guests/libos/newlib.c).
 */
#ifndef NABLA_SYS_UTSNAME_H
#define NABLA_SYS_UTSNAME_H

#define NABLA_UTSNAME_LENGTH 65

#ifdef __cplusplus
extern "C" {
#endif

struct utsname {
    char sysname[NABLA_UTSNAME_LENGTH];
    char nodename[NABLA_UTSNAME_LENGTH];
    char release[NABLA_UTSNAME_LENGTH];
    char version[NABLA_UTSNAME_LENGTH];
    char machine[NABLA_UTSNAME_LENGTH];
};

int uname(struct utsname *name);

#ifdef __cplusplus
}
#endif
#endif
