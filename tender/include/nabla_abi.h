/*
 * nabla_abi.h: the guest interface of nabla, version 3 (NABLA_ABI_VERSION).
 *
 * This header is shared by the tender (nabla-run) and by every guest. It
 * follows docs/abi.md, which is the single description of the interface:
 * change that document first, then this header, then the Swift side.
 *
 * It is freestanding C: it needs only <stdint.h> and compiles for the
 * host (x86_64-linux-gnu) and for guests (x86_64-unknown-none-elf).
 */
#ifndef NABLA_ABI_H
#define NABLA_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface. A guest states the version it was built
 * for in its ABI note; the tender refuses any other. Version 2: argv[0] is
 * the image, as in C (version 1 had the first guest argument there).
 * Version 3: standard input and standard error (two more hypercalls), the
 * process CPU-time clock, and an environment, the standard streams' kinds,
 * an identity and fresh entropy in the boot info. */
#define NABLA_ABI_VERSION 3u

/* ---- Guest memory layout ------------------------------------------------
 *
 * Guest memory is one region of --mem bytes at a fixed virtual address in
 * the tender's address space:
 *
 *   NABLA_MEM_BASE                  boot info page (struct nabla_boot_info,
 *                                   then the hypercall table)
 *   NABLA_MEM_BASE + 0x1000         command line area (argv array + strings)
 *   NABLA_IMAGE_BASE                lowest address a PT_LOAD may start at
 *   ...                             the image's PT_LOAD segments
 *   heap_start .. heap_end          heap (page aligned, read-write)
 *   heap_end .. +NABLA_GUARD_SIZE   guard page (no access)
 *   stack_top - NABLA_STACK_SIZE .. stack_top   stack (read-write)
 *   stack_top == mem_end == NABLA_MEM_BASE + --mem
 */
#define NABLA_MEM_BASE      0x60000000ull   /* 1.5 GiB: see docs/abi.md */
#define NABLA_IMAGE_BASE    (NABLA_MEM_BASE + 0x100000ull)
#define NABLA_CMDLINE_ADDR  (NABLA_MEM_BASE + 0x1000ull)
#define NABLA_CMDLINE_SIZE  0x2000u         /* argv pointers + strings */
#define NABLA_PAGE_SIZE     0x1000u
#define NABLA_STACK_SIZE    0x80000u        /* 512 KiB */
#define NABLA_GUARD_SIZE    0x1000u

/* ---- ABI note ------------------------------------------------------------
 *
 * Every guest image carries an ELF note, in a PT_NOTE segment, with
 * name NABLA_NOTE_NAME, type NABLA_NOTE_TYPE_ABI and a 4-byte descriptor
 * holding the ABI version it was built for. */
#define NABLA_NOTE_NAME     "nabla"
#define NABLA_NOTE_TYPE_ABI 0x4e41424cu     /* "NABL" */

struct nabla_abi_note {
    uint32_t namesz;        /* sizeof(NABLA_NOTE_NAME) == 6 */
    uint32_t descsz;        /* 4 */
    uint32_t type;          /* NABLA_NOTE_TYPE_ABI */
    char     name[8];       /* "nabla", NUL padded to 4-byte alignment */
    uint32_t abi_version;   /* NABLA_ABI_VERSION */
};

/* The features note (optional; a compatible addition to version 3): same
 * name, type NABLA_NOTE_TYPE_FEATURES, a 4-byte descriptor holding a mask of
 * NABLA_FEATURE_* bits, the things the guest can handle. A tender that does
 * not know a bit ignores it; a guest learns what it got from the boot info
 * (NABLA_DEVICE_NET_OFFLOAD). */
#define NABLA_NOTE_TYPE_FEATURES 0x4e414246u  /* "NABF" */
#define NABLA_FEATURE_NET_OFFLOAD 0x1u        /* NICs with virtio-net headers */

struct nabla_features_note {
    uint32_t namesz;        /* sizeof(NABLA_NOTE_NAME) == 6 */
    uint32_t descsz;        /* 4 */
    uint32_t type;          /* NABLA_NOTE_TYPE_FEATURES */
    char     name[8];
    uint32_t features;      /* NABLA_FEATURE_* */
};

/* Emits the features note: once per image, by the part of the guest that
 * handles the features (guests/net for NABLA_FEATURE_NET_OFFLOAD). */
#define NABLA_FEATURES_NOTE_DEFINE(mask)                                    \
    __attribute__((section(".note.nabla"), used, aligned(4)))               \
    const struct nabla_features_note nabla_features_note = {                \
        sizeof(NABLA_NOTE_NAME), 4, NABLA_NOTE_TYPE_FEATURES,               \
        NABLA_NOTE_NAME, (mask) }

/* Emits the ABI note into a guest. Use it exactly once per image (the
 * library OS does). */
#define NABLA_ABI_NOTE_DEFINE()                                             \
    __attribute__((section(".note.nabla"), used, aligned(4)))               \
    const struct nabla_abi_note nabla_abi_note = {                          \
        sizeof(NABLA_NOTE_NAME), 4, NABLA_NOTE_TYPE_ABI,                    \
        NABLA_NOTE_NAME, NABLA_ABI_VERSION }

/* ---- Hypercall results ---------------------------------------------------
 *
 * Every hypercall returns a signed 64-bit value: zero or a positive count on
 * success, one of these negative codes on failure. No hypercall crashes the
 * tender on bad arguments; each bad argument has its code. */
#define NABLA_OK        0
#define NABLA_EAGAIN   (-1)  /* nothing to read now (netread) */
#define NABLA_EINVAL   (-2)  /* bad argument: clock id, alignment, length */
#define NABLA_EFAULT   (-3)  /* buffer not inside guest memory */
#define NABLA_ENODEV   (-4)  /* no such device, or a device of another kind */
#define NABLA_EROFS    (-5)  /* write to a read-only device */
#define NABLA_EIO      (-6)  /* the host reported an I/O error */
#define NABLA_ERANGE   (-7)  /* request past the device's capacity */

/* Clocks for walltime. */
#define NABLA_CLOCK_REALTIME   0u  /* nanoseconds since the Unix epoch */
#define NABLA_CLOCK_MONOTONIC  1u  /* nanoseconds since an arbitrary start */
#define NABLA_CLOCK_CPUTIME    2u  /* CPU time the process has used (version 3) */

/* ---- Devices -------------------------------------------------------------- */
#define NABLA_MAX_DEVICES      16u
#define NABLA_DEVICE_NAME_MAX  32u  /* including the terminating NUL */

#define NABLA_DEVICE_BLOCK  1u
#define NABLA_DEVICE_NET    2u

/* Device flags. */
#define NABLA_DEVICE_READONLY  0x1u  /* block: blkwrite returns NABLA_EROFS */
#define NABLA_DEVICE_NET_OFFLOAD 0x2u /* net: frames carry a virtio-net header */

/* Block devices have 512-byte sectors (ABI versions 1 and 2). */
#define NABLA_SECTOR_SIZE   512u

struct nabla_block_info {
    uint64_t sector_size;   /* bytes; NABLA_SECTOR_SIZE */
    uint64_t capacity;      /* in sectors */
};

/* Network devices: Ethernet with a 1500-byte MTU (ABI versions 1 and 2). A
 * frame as netread returns it and netwrite takes it is the Ethernet header
 * and the payload, without preamble or FCS: 14 to NABLA_NET_FRAME_MAX bytes. */
#define NABLA_NET_MTU        1500u
#define NABLA_ETHER_HEADER   14u
#define NABLA_NET_FRAME_MAX  (NABLA_NET_MTU + NABLA_ETHER_HEADER)

/* Offloads (NABLA_DEVICE_NET_OFFLOAD, given only to a guest whose features
 * note asks for NABLA_FEATURE_NET_OFFLOAD): every frame netread returns and
 * netwrite takes starts with a struct nabla_net_vnet_header (the Linux
 * virtio_net_hdr, without num_buffers), and the Ethernet frame after it may
 * hold an IPv4 packet of up to 65535 bytes: a TCP segment the host kernel
 * cuts into gso_size pieces (NABLA_NET_GSO_TCPV4), or a checksum the host
 * fills in (NABLA_NET_F_NEEDS_CSUM). docs/abi.md has the contract. */
#define NABLA_NET_VNET_HEADER       10u
#define NABLA_NET_IP_MAX            65535u  /* an IPv4 total length */
/* Literals, so that Swift imports them; the asserts below spell them out. */
#define NABLA_NET_OFFLOAD_FRAME_MIN 24u     /* header + Ethernet header */
#define NABLA_NET_OFFLOAD_FRAME_MAX 65559u  /* header + Ethernet header + NABLA_NET_IP_MAX */

#define NABLA_NET_F_NEEDS_CSUM  0x1u  /* checksum from csum_start, stored at csum_start + csum_offset */
#define NABLA_NET_F_DATA_VALID  0x2u  /* netread: the host verified the checksums */
#define NABLA_NET_GSO_NONE      0x0u
#define NABLA_NET_GSO_TCPV4     0x1u

struct nabla_net_vnet_header {
    uint8_t  flags;         /* NABLA_NET_F_* */
    uint8_t  gso_type;      /* NABLA_NET_GSO_* */
    uint16_t hdr_len;       /* Ethernet + IP + TCP header bytes (a hint) */
    uint16_t gso_size;      /* payload bytes per segment on the wire */
    uint16_t csum_start;    /* from the start of the Ethernet header */
    uint16_t csum_offset;   /* of the checksum field, from csum_start */
};
#ifndef __cplusplus
_Static_assert(sizeof(struct nabla_net_vnet_header) == NABLA_NET_VNET_HEADER, "virtio_net_hdr");
_Static_assert(NABLA_NET_OFFLOAD_FRAME_MIN == NABLA_NET_VNET_HEADER + NABLA_ETHER_HEADER, "frame min");
_Static_assert(NABLA_NET_OFFLOAD_FRAME_MAX == NABLA_NET_VNET_HEADER + NABLA_ETHER_HEADER + NABLA_NET_IP_MAX, "frame max");
#endif

struct nabla_net_info {
    uint8_t  mac[6];
    uint16_t reserved;
    uint32_t mtu;           /* payload bytes, excluding the Ethernet header */
};

/* A NIC's IPv4 configuration (nabla-run --net-ipv4, --net-gw), at the
 * NIC's handle in nabla_boot_info.net_config. Addresses in network byte
 * order (a.b.c.d is {a, b, c, d}); prefix 0: no address given; gateway
 * 0.0.0.0: none. Zero for a device that is not a NIC. */
struct nabla_net_config {
    uint8_t  ipv4[4];
    uint8_t  gateway[4];
    uint8_t  prefix;        /* 1..32, or 0 */
    uint8_t  reserved[3];
};

/* One attached device. Its handle is its index in nabla_boot_info.devices. */
struct nabla_device {
    char     name[NABLA_DEVICE_NAME_MAX];
    uint32_t kind;          /* NABLA_DEVICE_BLOCK or NABLA_DEVICE_NET */
    uint32_t flags;
    union {
        struct nabla_block_info block;
        struct nabla_net_info   net;
    } u;
};

typedef uint32_t nabla_handle_t;

/* ---- Hypercalls ------------------------------------------------------------
 *
 * Nine entries, called with the x86_64 System V calling convention. The
 * guest calls on its own stack; the tender switches to a stack of its own
 * for the handler and back before it returns. See docs/abi.md for each
 * contract. Each entry's index in the table: */
#define NABLA_HYPERCALL_WALLTIME  0u
#define NABLA_HYPERCALL_PUTS      1u
#define NABLA_HYPERCALL_POLL      2u
#define NABLA_HYPERCALL_BLKREAD   3u
#define NABLA_HYPERCALL_BLKWRITE  4u
#define NABLA_HYPERCALL_NETREAD   5u
#define NABLA_HYPERCALL_NETWRITE  6u
#define NABLA_HYPERCALL_STDINREAD 7u
#define NABLA_HYPERCALL_STDERRWRITE 8u
#define NABLA_HYPERCALL_COUNT     9u

/* The most bytes one stdinread returns (it reads into a tender buffer of
 * this size; docs/security.md, "Standard streams"). */
#define NABLA_STDIN_CHUNK  0x10000u

struct nabla_hypercalls {
    /* Nanoseconds on clock `clock` (NABLA_CLOCK_*); NABLA_EINVAL otherwise. */
    int64_t (*walltime)(uint32_t clock);
    /* Writes len bytes to the console; returns len or an error. */
    int64_t (*puts)(const char *buf, uint64_t len);
    /* Waits up to timeout_ns for input on any NIC. Returns the number of
     * NICs with input and sets *ready to the bitmask of their handles. */
    int64_t (*poll)(uint64_t timeout_ns, uint64_t *ready);
    /* Reads/writes len bytes at byte offset `offset`; both multiples of the
     * sector size. Returns NABLA_OK or an error. */
    int64_t (*blkread)(nabla_handle_t dev, uint64_t offset, void *buf, uint64_t len);
    int64_t (*blkwrite)(nabla_handle_t dev, uint64_t offset, const void *buf, uint64_t len);
    /* Reads one frame into buf; returns its length, or NABLA_EAGAIN. */
    int64_t (*netread)(nabla_handle_t dev, void *buf, uint64_t size);
    /* Sends one frame; returns NABLA_OK or an error. */
    int64_t (*netwrite)(nabla_handle_t dev, const void *buf, uint64_t len);
    /* Reads up to min(len, NABLA_STDIN_CHUNK) bytes of standard input into
     * buf, blocking as read(2) does; returns the count, 0 at end of file,
     * NABLA_EAGAIN if stdin is non-blocking and empty, or an error. */
    int64_t (*stdinread)(void *buf, uint64_t len);
    /* Writes len bytes to standard error; returns len or an error. */
    int64_t (*stderrwrite)(const char *buf, uint64_t len);
};

/* ---- Boot info -------------------------------------------------------------
 *
 * Passed as the single argument of the guest entry point:
 *
 *     int entry(const struct nabla_boot_info *info);
 *
 * The entry's return value, modulo 256, is the exit status of nabla-run. */
#define NABLA_BOOT_CONSOLE  0x1u  /* puts reaches the tender's stdout */
/* Standard stream `fd` (0, 1 or 2) is a terminal (isatty(3) on the host,
 * asked before the guest starts). */
#define NABLA_BOOT_TTY(fd)  (0x2u << (fd))
/* net_config below is filled in (a tender that predates it leaves the
 * flag clear and the bytes after entropy are not boot info). */
#define NABLA_BOOT_NET_CONFIG  0x10u

/* Bytes of fresh randomness in every boot info (getrandom(2) on the host). */
#define NABLA_ENTROPY_SIZE  32u

struct nabla_boot_info {
    uint32_t abi_version;       /* NABLA_ABI_VERSION */
    uint32_t flags;             /* NABLA_BOOT_* */
    uint64_t mem_start;         /* guest memory: [mem_start, mem_end) */
    uint64_t mem_end;
    uint64_t heap_start;        /* heap: [heap_start, heap_end) */
    uint64_t heap_end;
    uint64_t stack_top;         /* initial stack pointer (16-byte aligned) */
    uint64_t argc;              /* 1 + the guest arguments after the image */
    char   **argv;              /* the image path, the arguments, then NULL, in the cmdline area */
    const struct nabla_hypercalls *hypercalls;
    uint32_t device_count;
    uint32_t reserved;
    struct nabla_device devices[NABLA_MAX_DEVICES];
    /* Version 3. */
    uint64_t envc;              /* entries of envp before its NULL */
    char   **envp;              /* "KEY=VALUE" strings, then NULL, in the cmdline area */
    uint32_t stdio_mode[3];     /* fds 0, 1, 2: Linux's S_IFMT bits of each
                                   (0010000 FIFO, 0020000 CHR, 0100000 REG...),
                                   0 if the tender found it closed */
    uint32_t pid;               /* the tender's process id */
    uint32_t uid;               /* its real user and group ids */
    uint32_t gid;
    uint8_t  entropy[NABLA_ENTROPY_SIZE];   /* fresh random bytes, per run */
    /* Version 3, flag NABLA_BOOT_NET_CONFIG: per device handle. */
    struct nabla_net_config net_config[NABLA_MAX_DEVICES];
};

#ifdef __cplusplus
}
#endif
#endif /* NABLA_ABI_H */
