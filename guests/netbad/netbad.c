/*
 * netbad: calls netread, netwrite and poll with bad arguments on a real NIC
 * and checks the tender's error codes, one line per case (as hypercall-bad).
 * Run it with a NIC named `net` (on an idle TAP) and a disk named `disk`:
 *   nabla-run --disk d.img --net tap0 netbad.nabla
 * It asks for offloads: with them (the default) it checks the offload
 * frame sizes and the virtio-net header's checks (docs/abi.md, "Offloads");
 * with --no-net-offload, the plain frame sizes.
 */
#include <nabla_check.h>
#include <string.h>

NABLA_FEATURES_NOTE_DEFINE(NABLA_FEATURE_NET_OFFLOAD);

static uint8_t frame[NABLA_NET_OFFLOAD_FRAME_MAX + 64];

static int text_target(void) { return 1; }

/* A frame of `len` bytes (header included) whose virtio-net header is `h`
 * and whose Ethernet frame is a broadcast ARP-sized frame of zeros. */
static int64_t send_with(int net, struct nabla_net_vnet_header h, uint64_t len)
{
    const struct nabla_hypercalls *hc = nabla_hypercall_table();
    memset(frame, 0, len < sizeof frame ? len : sizeof frame);
    memcpy(frame, &h, sizeof h);
    memset(frame + NABLA_NET_VNET_HEADER, 0xff, 6);
    return hc->netwrite(net, frame, len);
}

/* The offload NIC's cases: sizes, then each lie in the header. */
static void offload_cases(int net)
{
    const struct nabla_hypercalls *hc = nabla_hypercall_table();
    const uint64_t max = NABLA_NET_OFFLOAD_FRAME_MAX, plain = NABLA_NET_VNET_HEADER + NABLA_NET_FRAME_MAX;
    expect("read-small-buffer", hc->netread(net, frame, max - 1), NABLA_EINVAL);
    expect("read-plain-frame-buffer", hc->netread(net, frame, NABLA_NET_FRAME_MAX), NABLA_EINVAL);
    int64_t last = 0;
    for (int i = 0; i < 1000 && (last = hc->netread(net, frame, max)) > 0; i++)
        ;
    expect("read-empty-queue", last, NABLA_EAGAIN);

    struct nabla_net_vnet_header none = {0};
    expect("write-shorter-than-headers", send_with(net, none, NABLA_NET_OFFLOAD_FRAME_MIN - 1), NABLA_EINVAL);
    expect("write-plain-frame", send_with(net, none, 64), NABLA_OK);
    expect("write-one-mtu", send_with(net, none, plain), NABLA_OK);
    expect("write-over-mtu-without-gso", send_with(net, none, plain + 1), NABLA_EINVAL);
    expect("write-past-largest", send_with(net, none, max + 1), NABLA_EINVAL);

    struct nabla_net_vnet_header h = none;
    h.flags = NABLA_NET_F_DATA_VALID;
    expect("write-data-valid", send_with(net, h, 64), NABLA_EINVAL);
    h.flags = 0x80;
    expect("write-unknown-flag", send_with(net, h, 64), NABLA_EINVAL);
    h = none;
    h.flags = NABLA_NET_F_NEEDS_CSUM;
    h.csum_start = 10;
    h.csum_offset = 16;
    expect("write-csum-in-ethernet-header", send_with(net, h, 64), NABLA_EINVAL);
    h.csum_start = 34;
    h.csum_offset = 20;
    expect("write-csum-field-past-end", send_with(net, h, NABLA_NET_VNET_HEADER + 55), NABLA_EINVAL);
    h.csum_offset = 0xffff;
    expect("write-csum-offset-huge", send_with(net, h, 64), NABLA_EINVAL);
    h = none;
    h.flags = NABLA_NET_F_NEEDS_CSUM;
    h.csum_start = 34;
    h.csum_offset = 16;
    h.gso_type = NABLA_NET_GSO_TCPV4;
    h.hdr_len = 54;
    h.gso_size = 0;
    expect("write-gso-size-0", send_with(net, h, 4000), NABLA_EINVAL);
    h.gso_size = NABLA_NET_MTU - 40 + 1;
    expect("write-gso-size-over-mtu", send_with(net, h, 4000), NABLA_EINVAL);
    h.gso_size = 1460;
    h.hdr_len = 4000;
    expect("write-hdr-len-past-frame", send_with(net, h, 4000), NABLA_EINVAL);
    h.hdr_len = 54;
    h.flags = 0;
    expect("write-gso-without-csum", send_with(net, h, 4000), NABLA_EINVAL);
    h.flags = NABLA_NET_F_NEEDS_CSUM;
    h.gso_type = NABLA_NET_GSO_TCPV4 | 0x80;
    expect("write-gso-ecn", send_with(net, h, 4000), NABLA_EINVAL);
    h.gso_type = 3; /* UDP: not offered */
    expect("write-gso-udp", send_with(net, h, 4000), NABLA_EINVAL);
    /* A header the tender's checks pass but that lies about the frame: a
     * TCPv4 segmentation of a frame of zeros (no IPv4 header at all). The
     * host kernel drops it; either it says so (NABLA_EIO) or the frame
     * is lost past the TAP (NABLA_OK). The tender and host go on. */
    h.gso_type = NABLA_NET_GSO_TCPV4;
    int64_t lie = send_with(net, h, 4000);
    expect("write-gso-on-garbage-dropped", lie == NABLA_OK || lie == NABLA_EIO ? 0 : lie, 0);
    lie = send_with(net, h, max);
    expect("write-largest-gso-on-garbage-dropped", lie == NABLA_OK || lie == NABLA_EIO ? 0 : lie, 0);
}

int main(void)
{
    const struct nabla_boot_info *info = nabla_boot_info();
    const struct nabla_hypercalls *hc = nabla_hypercall_table();
    int net = nabla_device_find("net", NABLA_DEVICE_NET);
    int disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    if (net < 0 || disk < 0) {
        printf("netbad: needs a NIC named net and a disk named disk\n");
        return 2;
    }
    expect("mtu", info->devices[net].u.net.mtu, NABLA_NET_MTU);
    if (info->devices[net].flags & NABLA_DEVICE_NET_OFFLOAD) {
        printf("netbad: offloads\n");
        offload_cases(net);
        return nabla_check_summary();
    }

    /* netread: the buffer must hold the largest frame, and be writable. */
    expect("read-small-buffer", hc->netread(net, frame, NABLA_NET_FRAME_MAX - 1), NABLA_EINVAL);
    expect("read-outside", hc->netread(net, (void *)0x1000, sizeof frame), NABLA_EFAULT);
    expect("read-into-text", hc->netread(net, (void *)(uintptr_t)&text_target, sizeof frame), NABLA_EFAULT);
    expect("read-past-mem-end", hc->netread(net, (void *)(uintptr_t)(info->mem_end - 512), sizeof frame),
           NABLA_EFAULT);
    /* Drain what the host sent (IPv6 router solicitations, say): then the
     * queue is empty and netread returns NABLA_EAGAIN without blocking. */
    int64_t last = 0;
    for (int i = 0; i < 1000 && (last = hc->netread(net, frame, sizeof frame)) > 0; i++)
        ;
    expect("read-empty-queue", last, NABLA_EAGAIN);

    /* netwrite: 14 to 1514 bytes from readable guest memory. */
    expect("write-empty", hc->netwrite(net, frame, 0), NABLA_EINVAL);
    expect("write-shorter-than-header", hc->netwrite(net, frame, NABLA_ETHER_HEADER - 1), NABLA_EINVAL);
    expect("write-longer-than-mtu", hc->netwrite(net, frame, NABLA_NET_FRAME_MAX + 1), NABLA_EINVAL);
    expect("write-outside", hc->netwrite(net, (const void *)0x1000, 64), NABLA_EFAULT);
    expect("write-from-guard-page", hc->netwrite(net, (const void *)(uintptr_t)(info->heap_end - 32), 64),
           NABLA_EFAULT);

    /* Handles of the other kind. */
    expect("netread-on-disk", hc->netread(disk, frame, sizeof frame), NABLA_ENODEV);
    expect("netwrite-on-disk", hc->netwrite(disk, frame, 64), NABLA_ENODEV);
    expect("blkread-on-nic", hc->blkread(net, 0, frame, 512), NABLA_ENODEV);

    /* poll: ready must be writable guest memory; NULL is allowed. */
    expect("poll-ready-in-text", hc->poll(0, (uint64_t *)(uintptr_t)&text_target), NABLA_EFAULT);
    int64_t polled = hc->poll(1000000, 0);
    expect("poll-null-ready", polled < 0 ? polled : 0, 0);

    return nabla_check_summary();
}
