/*
 * nabla.h: the nabla library OS, the guest side of nabla.
 *
 * A guest is a static x86_64 ELF image that the tender (nabla-run) loads
 * into its own address space and calls as a C function. The guest reaches
 * the host only through the nine hypercalls of nabla_abi.h; this library
 * turns them into what a unikernel needs:
 *
 *   - start-up and shutdown: _start, main, exit, abort;
 *   - the platform of the C library, newlib 3.3.0 (built from Debian's
 *     newlib-source by guests/libc): <stdio.h>, <stdlib.h>, <string.h>,
 *     <math.h>, <time.h>, <errno.h>, <ctype.h>, <assert.h>, ... are
 *     newlib's, with stdin, stdout and stderr the tender's own, the heap
 *     over the boot info's heap region, the clocks and sleeping on the
 *     hypercalls, getenv over `nabla-run --env`, randomness from a
 *     ChaCha20 generator keyed with fresh host entropy, and file calls
 *     failing with ENOSYS (there is no file system);
 *   - the console, the clocks, sleeping, and the attached devices, below.
 *
 * Everything here is single-threaded: a nabla guest has exactly one thread
 * and no signals, so no function takes a lock.
 *
 * Error convention: functions that wrap a hypercall return its result
 * unchanged, a count (>= 0) or a negative NABLA_E* code from nabla_abi.h.
 * C library functions follow their C standard contracts, errno included.
 *
 * See guests/README.md for how to build a guest and for the memory layout.
 */
#ifndef NABLA_H
#define NABLA_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* exit() (newlib's) runs the atexit handlers, flushes stdio and ends the
 * guest with `status`; _exit() and _Exit() end it at once. abort() flushes
 * stdout, prints "abort" and ends the guest with status 134. */

/* The boot info the tender passed to _start (read-only to the guest). */
const struct nabla_boot_info *nabla_boot_info(void);

/* The hypercall table, for guests that need to call a hypercall directly
 * (for instance to test the tender with arguments no wrapper would pass). */
const struct nabla_hypercalls *nabla_hypercall_table(void);

/* ---- Assertions -------------------------------------------------------------
 *
 * assert(e) is newlib's: it prints `assertion "e" failed: file "F", line N,
 * function: FN` on stderr and aborts (status 134). */

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

/* ---- Numbers ------------------------------------------------------------------ */

/* Strict parsing of a whole string: optional "0x"/"0X" (hexadecimal) or
 * decimal digits, nothing before or after. Returns 0 and stores the value,
 * or NABLA_EINVAL (not a number) or NABLA_ERANGE (does not fit in 64 bits). */
int nabla_parse_u64(const char *s, uint64_t *value);

/* ---- Output ----------------------------------------------------------------------
 *
 * stdout is line-buffered (newlib's choice without fcntl, whatever it is),
 * stderr unbuffered; stdout goes to the tender's standard output (the
 * console), stderr to its standard error, and stdin reads its standard
 * input. */

/* Writes s, without a newline, through stdout. */
int nabla_puts(const char *s);
/* Writes out what stdout has buffered (fflush(stdout)). Returns 0, or EOF
 * if the console write failed. */
int nabla_flush(void);

/* ---- Miscellaneous ---------------------------------------------------------------- */

/* Fills buf from the library's ChaCha20 generator, keyed at start-up with
 * the boot info's NABLA_ENTROPY_SIZE bytes from the host's getrandom(2):
 * different in every run, fit for keys. getentropy() and getrandom()
 * (<sys/random.h>) and arc4random_uniform() draw from it too. Embedded
 * Swift seeds its hashing with it. */
void arc4random_buf(void *buf, size_t n);
uint32_t arc4random(void);
uint32_t arc4random_uniform(uint32_t bound);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_H */
