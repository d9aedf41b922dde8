/*
 * nabla.h: the nabla library OS, the guest side of nabla.
 *
 * A guest is a static x86_64 ELF image that the tender (nabla-run) loads
 * into its own address space and calls as a C function. The guest reaches
 * the host only through the seven hypercalls of nabla_abi.h; this library
 * turns them into the small set of services a unikernel needs:
 *
 *   - start-up and shutdown: _start, main, exit, abort, assert;
 *   - a freestanding C library subset: memory and string functions, number
 *     parsing, a printf family;
 *   - a heap allocator over the heap region the tender gives the guest;
 *   - the console, the clocks, sleeping, and the attached devices.
 *
 * Everything here is single-threaded: a nabla guest has exactly one thread
 * and no signals, so no function takes a lock.
 *
 * Error convention: functions that wrap a hypercall return its result
 * unchanged, a count (>= 0) or a negative NABLA_E* code from nabla_abi.h.
 * C library functions follow their C standard contracts; where the
 * standard would set errno, they return the error instead (there is no
 * errno), as documented next to each.
 *
 * See guests/README.md for how to build a guest and for the memory layout.
 */
#ifndef NABLA_H
#define NABLA_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "nabla_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define NABLA_NORETURN      __attribute__((noreturn))
#define NABLA_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define NABLA_NORETURN
#define NABLA_PRINTF(f, a)
#endif

/* ---- Start-up and shutdown ------------------------------------------------
 *
 * The tender calls _start(info) (the ELF entry point). The library checks
 * the ABI version, records `info`, sets up the heap and calls
 *
 *     int main(int argc, char **argv);
 *
 * as in C: argv[0] is the image (as named on the nabla-run command line),
 * the guest arguments that followed it come next, and argv[argc] is NULL. The value main returns is the exit status of
 * nabla-run (modulo 256).
 *
 * exit(), abort() and a failed assert() may be called from anywhere: they
 * unwind straight back to _start (see guests/README.md, "How a guest
 * halts"), skipping the frames in between, exactly as if main had returned
 * the status.
 */

/* Status _start returns when the boot info is missing or of another ABI
 * version (the tender should have refused such an image already). */
#define NABLA_EXIT_BAD_BOOT  127

/* Status of abort(), as a shell reports death by SIGABRT. */
#define NABLA_EXIT_ABORT     134

/* Ends the guest with `status`. Flushes putchar's buffer first. */
NABLA_NORETURN void exit(int status);
/* Same as exit(): there is nothing else to flush or run. */
NABLA_NORETURN void _Exit(int status);
/* Prints "abort" on the console and ends the guest with status 134. */
NABLA_NORETURN void abort(void);

/* The boot info the tender passed to _start (read-only to the guest). */
const struct nabla_boot_info *nabla_boot_info(void);

/* The hypercall table, for guests that need to call a hypercall directly
 * (for instance to test the tender with arguments no wrapper would pass). */
const struct nabla_hypercalls *nabla_hypercall_table(void);

/* ---- Assertions -------------------------------------------------------------
 *
 * assert(e) prints "assertion failed: e (file:line, function)" and aborts
 * (status 134). Define NDEBUG before including this header to compile the
 * checks out. */
NABLA_NORETURN void __nabla_assert_fail(const char *expr, const char *file,
                                        int line, const char *func);
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) \
    ((e) ? (void)0 : __nabla_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

/* ---- Console ---------------------------------------------------------------- */

/* Writes len bytes to the console (the tender's standard output) with the
 * puts hypercall. Returns len, or NABLA_EFAULT if the buffer is not inside
 * guest memory, or NABLA_EIO if the host could not write. */
int64_t nabla_console_write(const char *buf, size_t len);

/* ---- Clocks and sleeping ----------------------------------------------------- */

/* Nanoseconds since an arbitrary point (CLOCK_MONOTONIC on the host); never
 * goes backwards. Returns 0 only if the host clock failed. */
uint64_t nabla_clock_monotonic(void);
/* Nanoseconds since the Unix epoch (CLOCK_REALTIME on the host). Returns 0
 * only if the host clock failed. */
uint64_t nabla_clock_wall(void);
/* Waits at least `ns` nanoseconds. Uses the poll hypercall, which may return
 * early (on network input or a signal), and polls again until the deadline
 * on the monotonic clock has passed. Network input arriving meanwhile stays
 * queued for nabla_net_read. */
void nabla_sleep_ns(uint64_t ns);
/* The poll hypercall: waits up to timeout_ns for input on any network
 * device. Returns how many devices have input and sets *ready (if ready is
 * not NULL) to the bitmask of their handles; NABLA_EFAULT if `ready` is not
 * writable guest memory; NABLA_EIO on a host error. */
int64_t nabla_poll(uint64_t timeout_ns, uint64_t *ready);

/* ---- Devices -------------------------------------------------------------------
 *
 * A device handle is the device's index in nabla_boot_info()->devices. The
 * wrappers take an int so that the -1 of a failed nabla_device_find can be
 * passed straight in: a negative handle returns NABLA_ENODEV without a
 * hypercall. */

/* The handle of the device named `name` of kind `kind` (NABLA_DEVICE_BLOCK
 * or NABLA_DEVICE_NET; 0 matches any kind), or -1 if there is none. */
int nabla_device_find(const char *name, uint32_t kind);
/* The description of device `handle`, or NULL if there is no such device. */
const struct nabla_device *nabla_device(int handle);

/* Block devices. `offset` and `len` are in bytes and must be multiples of
 * the device's sector size (512). Return NABLA_OK, or NABLA_ENODEV (no
 * block device `handle`), NABLA_EINVAL (misaligned offset or length),
 * NABLA_ERANGE (past the capacity), NABLA_EFAULT (buffer outside guest
 * memory, or not writable for a read), NABLA_EROFS (write to a read-only
 * device), NABLA_EIO (host I/O error). */
int64_t nabla_blk_read(int handle, uint64_t offset, void *buf, size_t len);
int64_t nabla_blk_write(int handle, uint64_t offset, const void *buf, size_t len);

/* Network devices, one Ethernet frame per call. nabla_net_read returns the
 * length of the frame it stored in buf, or NABLA_EAGAIN if none is waiting
 * (use nabla_poll to wait); nabla_net_write returns NABLA_OK. Both may also
 * return NABLA_ENODEV, NABLA_EINVAL (a bad length, such as a frame larger
 * than the MTU allows), NABLA_EFAULT or NABLA_EIO. */
int64_t nabla_net_read(int handle, void *buf, size_t size);
int64_t nabla_net_write(int handle, const void *buf, size_t len);

/* ---- Memory and strings (C standard semantics) -------------------------------- */

void  *memcpy(void *restrict dst, const void *restrict src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
void  *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);
char  *strchr(const char *s, int c);
char  *strrchr(const char *s, int c);

/* ---- Number parsing -------------------------------------------------------------
 *
 * strtoul/strtol/strtoull/strtoll accept leading white space, an optional
 * sign, and digits in `base` (2 to 36), or, with base 0, decimal, 0x/0X
 * hexadecimal or 0-prefixed octal. *end (if end is not NULL) is set past the
 * last digit used, or to s when there were none. On overflow they return
 * the largest value of the type (or the smallest, for negative signed
 * values) and, there being no errno, set *end as usual: use
 * nabla_parse_u64 when overflow must be detected. */
unsigned long      strtoul(const char *s, char **end, int base);
long               strtol(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
long long          strtoll(const char *s, char **end, int base);
/* strtol(s, NULL, 10) truncated to int. */
int atoi(const char *s);
long atol(const char *s);

/* Strict parsing of a whole string: optional "0x"/"0X" (hexadecimal) or
 * decimal digits, nothing before or after. Returns 0 and stores the value,
 * or NABLA_EINVAL (not a number) or NABLA_ERANGE (does not fit in 64 bits). */
int nabla_parse_u64(const char *s, uint64_t *value);

/* ---- Formatted output -------------------------------------------------------------
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %% with the flags '-', '0', '+',
 * ' ' and '#', a width and a precision (numbers or '*'), and the length
 * modifiers hh h l ll z j t. %s of NULL prints "(null)"; %p prints 0x and
 * the address in hexadecimal. An unknown conversion is copied as is.
 *
 * printf formats into a buffer on the stack and writes it to the console
 * with one puts hypercall per call (more only if the output does not fit in
 * the buffer). The printing functions return the number of bytes written
 * (or, for snprintf, that would have been written), or a negative
 * NABLA_E* code if the console write failed. */
int printf(const char *fmt, ...) NABLA_PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap) NABLA_PRINTF(1, 0);
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...) NABLA_PRINTF(3, 4);
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap) NABLA_PRINTF(3, 0);
/* Writes s and a newline with one hypercall. Returns a non-negative number
 * or a negative NABLA_E* code. */
int puts(const char *s);
/* Writes s, without a newline. */
int nabla_puts(const char *s);
/* Writes one character. putchar buffers a line at a time (it is what
 * Embedded Swift's print() calls); the buffer is written out at each
 * newline, when full, before any other console output from this library,
 * and when the guest exits. Returns c as an unsigned char. */
int putchar(int c);
/* Writes out what putchar has buffered. Returns 0 or a NABLA_E* code. */
int nabla_flush(void);

/* ---- Heap -----------------------------------------------------------------------
 *
 * A first-fit allocator over [heap_start, heap_end) of the boot info, with
 * an address-ordered free list whose neighbours are merged on free. Every
 * block is 16-byte aligned. malloc, calloc, realloc and aligned_alloc
 * return NULL when the heap cannot satisfy the request (including sizes
 * that would overflow). free, realloc and malloc_usable_size check the
 * block header, and abort() on a pointer that is not a live block (a double
 * free, or a pointer the allocator never returned) rather than corrupt the
 * heap. */
void  *malloc(size_t size);
void   free(void *ptr);
void  *calloc(size_t count, size_t size);
/* realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL.
 * On failure p is left untouched and NULL is returned. */
void  *realloc(void *ptr, size_t size);
/* Returns 0, or EINVAL (22) if `alignment` is not a power of two multiple of
 * sizeof(void *), or ENOMEM (12) when out of memory; *out is then unchanged. */
int    posix_memalign(void **out, size_t alignment, size_t size);
/* NULL if `alignment` is not a power of two, or when out of memory. */
void  *aligned_alloc(size_t alignment, size_t size);
/* The usable size of a live block, at least what was asked for. */
size_t malloc_usable_size(void *ptr);

struct nabla_heap_stats {
    size_t heap_size;     /* bytes the allocator manages */
    size_t used_bytes;    /* bytes in live blocks, headers included */
    size_t free_bytes;    /* bytes in free blocks, headers included */
    size_t free_blocks;   /* length of the free list */
    size_t largest_free;  /* largest free block, header included */
};
/* Walks the heap, checking every header; aborts if it finds corruption. */
void nabla_heap_stats(struct nabla_heap_stats *stats);

#define EINVAL 22
#define ENOMEM 12

/* ---- Floating point ---------------------------------------------------------------
 *
 * The few <math.h> functions compiled code needs (Embedded Swift's hash
 * tables call ceil), with C semantics for signed zeros, infinities and
 * NaNs. */
double fabs(double x);
double copysign(double x, double y);
double trunc(double x);
double floor(double x);
double ceil(double x);
double round(double x);
double sqrt(double x);
float  fabsf(float x);
float  truncf(float x);
float  floorf(float x);
float  ceilf(float x);
float  roundf(float x);
float  sqrtf(float x);

/* ---- Miscellaneous ---------------------------------------------------------------- */

/* Fills buf with bytes from a small non-cryptographic generator seeded from
 * the clocks at start-up. Embedded Swift uses it to seed hashing; it must
 * not be used for secrets (nabla has no entropy hypercall). */
void arc4random_buf(void *buf, size_t n);
uint32_t arc4random(void);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_H */
