/*
 * nabla_net.h: the network stack of the nabla library OS.
 *
 * lwIP (Debian's source package, built by guests/Makefile) does the
 * protocol work; guests/net is the glue that runs it in a nabla guest:
 *
 *   - one lwIP netif per attached NIC (--net), named after the device,
 *     whose frames go in and out through the netread and netwrite
 *     hypercalls;
 *   - sys_now() on the monotonic clock hypercall;
 *   - a main loop that sleeps in the poll hypercall until a frame arrives
 *     or lwIP's next timer is due;
 *   - the network arguments of the guest command line, parsed here and
 *     nowhere else;
 *   - the BSD socket API (<sys/socket.h>, <poll.h>, ...), on lwIP's raw
 *     API in the guest's one thread: a blocking call runs this loop while
 *     it waits.
 *
 * A guest that includes this header (or <sys/socket.h>) is linked with the
 * stack; see docs/network-stack.md.
 *
 * Use:
 *     for each argument: nabla_net_arg(arg)   1 taken, 0 not ours, -1 bad
 *     nabla_net_start()                       addresses onto the NICs
 *     ... sockets, or lwIP's raw API ...
 *     nabla_net_run(program, &stop) or nabla_net_wait(deadline) in the guest's loop
 *     nabla_net_flush(ms) before returning from main
 */
#ifndef NABLA_NET_H
#define NABLA_NET_H

#include <nabla.h>
#include <errno.h>
#include <unistd.h>

/* The longest line nabla_net_format_stats writes. */
#define NABLA_NET_STATS_MAX 1024

/* Takes one guest argument:
 *   --ipv4=ADDR/PREFIX        the address of the NIC named "net" (or the first NIC)
 *   --ipv4=NAME:ADDR/PREFIX   the address of the NIC named NAME
 *   --gw=ADDR                 default gateway, on the NIC whose subnet holds it
 *   --gw=NAME:ADDR            default gateway on NIC NAME (assumed on-link)
 * Returns 1 if it is one of these, 0 if not, -1 if it is one but malformed
 * (a line saying why is printed). */
int nabla_net_arg(const char *arg);

/* Takes every network argument out of argv[1..*argc-1] with nabla_net_arg,
 * moving the guest's own arguments down in order and lowering *argc to
 * match. Returns 0, or -1 at the first malformed one (a line saying why
 * was printed). */
int nabla_net_args(int *argc, char **argv);

/* Starts lwIP and brings up a netif for every attached NIC, with the
 * addresses given to nabla_net_arg, printing one line per configured NIC:
 *   net: NAME handle H mac M ipv4 A/P gw G
 * Returns 0, or -1 (with a message) if a named NIC is missing, a NIC has
 * two addresses, a gateway is in no subnet, or no NIC has an address. */
int nabla_net_start(void);

/* One round of the network loop: reads and processes the frames waiting on
 * every NIC, runs lwIP's due timers and, if nothing was waiting, sleeps in
 * the poll hypercall until a frame arrives, the next lwIP timer is due or
 * the monotonic clock reaches `deadline_ns` (0: do not sleep; UINT64_MAX:
 * no deadline). Returns the number of frames read, or a negative NABLA_E*
 * code if a hypercall failed. */
int64_t nabla_net_wait(uint64_t deadline_ns);

/* Runs the loop until *stop is set (by a callback). Returns 0, or 1 after
 * printing a line naming `program` if a network hypercall failed. */
int nabla_net_run(const char *program, volatile int *stop);

/* Runs the loop until every TCP connection has sent its data and had it
 * acknowledged, and every close has been answered, or `timeout_ms` passes.
 * The stack runs only while the guest does: a guest calls this after its
 * last send or close and before it returns from main, or what lwIP still
 * holds (unsent or unacknowledged segments, the FIN) is lost with it.
 * Returns 0 when everything went out, 1 if the time ran out first, or a
 * negative NABLA_E* code if a hypercall failed. */
int nabla_net_flush(uint64_t timeout_ms);

/* lwIP's counters (lwip_stats) summed over the NICs, as one line without a
 * newline:
 *   stats: link.recv=N link.xmit=N link.drop=N ... tcp.memerr=N
 * (docs/network-stack.md lists each). Returns the length, as snprintf. */
int nabla_net_format_stats(char *buf, size_t size);

/* How many sockets are open (accepted connections not yet accept()ed
 * included): a guest can report it to show it leaks none. */
int nabla_net_open_sockets(void);

/* "a.b.c.d" (exactly four decimal parts, each 0-255) into *ip, host byte
 * order: 0 or -1. */
int nabla_net_parse_ipv4(const char *text, uint32_t *ip);

/* For languages that cannot read C's errno macro or reach <unistd.h>
 * (Embedded Swift's NablaNetwork): the socket API's last errno, and close. */
static inline int nabla_net_errno(void) { return errno; }
static inline int nabla_net_close(int fd) { return close(fd); }

#endif /* NABLA_NET_H */
