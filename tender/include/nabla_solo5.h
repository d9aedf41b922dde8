/*
 * nabla_solo5.h: Solo5's spt interface (Solo5 v0.12, spt ABI version 2), as
 * nabla-run and nabla's own Solo5 test bindings (guests/solo5) use it.
 *
 * Written for nabla from the layout Solo5 publishes (its include/elf_abi.h,
 * mft_abi.h and spt_abi.h); the names are nabla's. docs/solo5.md describes
 * the interface; the offsets are checked below, so that a change that would
 * break binary compatibility fails the build.
 *
 * Freestanding C: only <stdint.h>; compiles for the host and for guests.
 */
#ifndef NABLA_SOLO5_H
#define NABLA_SOLO5_H

#include <stdint.h>

/* ---- The ABI note: which Solo5 target and version an image is for ------- */
#define SOLO5_NOTE_NAME         "Solo5"         /* namesz 6, padded to 8 */
#define SOLO5_NOTE_TYPE_ABI     0x31494241u     /* "ABI1" */
#define SOLO5_NOTE_TYPE_MFT     0x3154464du     /* "MFT1" */
#define SOLO5_TARGET_HVT        1u
#define SOLO5_TARGET_SPT        2u
#define SOLO5_SPT_ABI_VERSION   2u

/* The ABI note's descriptor (16 bytes, right after the 20-byte header). */
struct solo5_abi_info {
    uint32_t target;            /* SOLO5_TARGET_* */
    uint32_t version;           /* SOLO5_SPT_ABI_VERSION for spt */
    uint32_t reserved[2];
};

/* ---- The manifest note: the devices an image declares ------------------- */
#define SOLO5_MFT_VERSION       1u
#define SOLO5_MFT_MAX_ENTRIES   64u
#define SOLO5_MFT_NAME_SIZE     68u             /* including the NUL */
#define SOLO5_MFT_BLOCK_BASIC   1u
#define SOLO5_MFT_NET_BASIC     2u
#define SOLO5_MFT_RESERVED_FIRST (1u << 30)     /* entry 0's type; at and above: ignored */
/* The manifest starts 24 bytes after its note's header begins (the 20-byte
 * header padded to the manifest's 8-byte alignment), so it is
 * descsz - SOLO5_MFT_NOTE_PAD bytes long. */
#define SOLO5_MFT_NOTE_OFFSET   24u
#define SOLO5_MFT_NOTE_PAD      4u

struct solo5_mft_entry {
    char     name[SOLO5_MFT_NAME_SIZE];
    uint32_t type;              /* SOLO5_MFT_* */
    union {
        struct { uint64_t capacity; uint16_t block_size; } block;   /* bytes; bytes */
        struct { uint8_t mac[6]; uint16_t mtu; } net;
    } u;
    union {
        int32_t  hostfd;        /* the host descriptor, written by the tender */
        uint64_t data;
    } b;
    uint8_t  attached;          /* written by the tender; 0 in the image */
    uint8_t  pad[7];
};

struct solo5_mft {
    uint32_t version;           /* SOLO5_MFT_VERSION */
    uint32_t entries;           /* at most SOLO5_MFT_MAX_ENTRIES, entry 0 reserved */
    struct solo5_mft_entry e[];
};

/* ---- Guest memory and the boot info -------------------------------------
 *
 * Guest memory is identity mapped from SOLO5_SPT_MEM_BASE to --mem (the
 * guest's addresses are the tender's). The boot info sits at
 * SOLO5_SPT_BOOT_INFO, the manifest right after it, then the command line
 * (SOLO5_SPT_CMDLINE_SIZE bytes, one string). Images load at
 * SOLO5_SPT_IMAGE_BASE and above. The entry is called with the boot info in
 * rdi and the stack at the top of guest memory. */
#define SOLO5_SPT_MEM_BASE      0x10000ull
#define SOLO5_SPT_BOOT_INFO     0x11000ull
#define SOLO5_SPT_IMAGE_BASE    0x100000ull
#define SOLO5_SPT_CMDLINE_SIZE  8192u
#define SOLO5_SPT_TIMERFD_DATA  0xfffffffeull   /* epoll data of the internal timerfd */

struct solo5_spt_boot_info {
    uint64_t mem_size;          /* the top of guest memory */
    uint64_t kernel_end;        /* first page past the image */
    uint64_t cmdline;           /* address of the command line */
    uint64_t mft;               /* address of the manifest copy */
    int32_t  epollfd;           /* for yield: epoll_pwait */
    int32_t  timerfd;           /* for yield: timerfd_settime */
};

_Static_assert(sizeof(struct solo5_abi_info) == 16, "solo5_abi_info");
_Static_assert(sizeof(struct solo5_mft_entry) == 104, "solo5_mft_entry");
_Static_assert(__builtin_offsetof(struct solo5_mft_entry, type) == 68, "mft type");
_Static_assert(__builtin_offsetof(struct solo5_mft_entry, u) == 72, "mft u");
_Static_assert(__builtin_offsetof(struct solo5_mft_entry, b) == 88, "mft b");
_Static_assert(__builtin_offsetof(struct solo5_mft_entry, attached) == 96, "mft attached");
_Static_assert(sizeof(struct solo5_mft) == 8, "solo5_mft");
_Static_assert(sizeof(struct solo5_spt_boot_info) == 40, "solo5_spt_boot_info");

#endif /* NABLA_SOLO5_H */
