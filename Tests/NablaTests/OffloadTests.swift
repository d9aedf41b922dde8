// OffloadTests.swift: NICs with offloads (docs/abi.md, "Offloads") on real
// TAP interfaces: 100 MB each way byte for byte through a TCP echo guest,
// writes at every segment-size boundary, the tender's header checks and
// their --trace lines, and the boot line that says a NIC has offloads. The
// same suite runs again without offloads in `make test`'s second pass
// (NABLA_TEST_NO_NET_OFFLOAD=1), where the guests get plain frames.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("NIC offloads")
struct OffloadTests {
    /// Starts echo-swift (port 7) on `tap`.
    private func echoGuest(_ tap: Tap, trace: Bool = false) throws -> RunningGuest {
        let guest = try RunningGuest((trace ? ["--trace"] : []) + ["--net", tap.name, "--net-mac", tap.guestMAC,
                                      try Paths.guest("echo-swift"), "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace)
        try guest.waitFor("echo-swift: ready")
        return guest
    }

    @Test("100 MB through a TCP echo guest: every byte arrives, in order, both ways", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func hundredMegabytes() throws {
        let tap = try Tap(subnet: 30)
        let guest = try echoGuest(tap)
        let nc = try NetHost.tool("nc", package: "netcat-openbsd")
        try withTemporaryDirectory { dir in
            let sent = dir + "/sent", echoed = dir + "/echoed"
            let made = try run("/bin/sh", ["-c", "head -c 100000000 /dev/urandom > \"$0\"", sent])
            #expect(made.status == 0, "\(made)")
            let client = try tap.namespace.run("/bin/sh", ["-c", "\"$0\" -N -w 10 \"$1\" 7 < \"$2\" > \"$3\"",
                                                           nc, tap.guestAddress, sent, echoed], timeout: 120)
            #expect(client.status == 0, "\(client)")
            let compared = try run("/usr/bin/cmp", [sent, echoed])
            #expect(compared.status == 0, "the echo differs from what was sent: \(compared)")
        }
        #expect(try guest.finish(timeout: 20) == 0, "\(guest.stdout)\(guest.stderr)")
        #expect(guest.stdout.contains("echo-swift: echoed 100000000 bytes"), "\(guest.stdout)")
    }

    @Test("writes at every segment-size boundary (one byte, one wire MSS and one past it, a TSO segment, 64 KiB, past 64 KiB) come back whole", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func segmentBoundaries() throws {
        let tap = try Tap(subnet: 31)
        let guest = try echoGuest(tap)
        let sizes = [1, 1459, 1460, 1461, 2920, 2921, 64239, 64240, 64241, 65483, 65495, 65496, 65535, 65536, 131_072, 200_000]
        try tap.namespace.withEntered {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(7).bigEndian
            inet_pton(AF_INET, tap.guestAddress, &address.sin_addr)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw HarnessError("connect: \(String(cString: strerror(errno)))") }
            for (round, size) in sizes.enumerated() {
                let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ round) }
                let written = message.withUnsafeBytes { send(fd, $0.baseAddress, size, 0) }
                #expect(written == size, "send \(size)")
                var back = [UInt8](repeating: 0, count: size)
                var got = 0
                while got < size {
                    let n = back.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, size - got, 0) }
                    if n <= 0 { break }
                    got += n
                }
                #expect(got == size && back == message, "a write of \(size) bytes: \(got) came back\(got == size ? ", different" : "")")
            }
            shutdown(fd, Int32(SHUT_WR))
        }
        #expect(try guest.finish(timeout: 20) == 0, "\(guest.stdout)\(guest.stderr)")
    }

    @Test("--trace: the NIC's boot line names its offloads, and every netwrite line shows the virtio-net header, the refused ones with -2", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func traceShowsHeaderChecks() throws {
        let tap = try Tap(subnet: 32)
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let outcome = try tap.namespace.run(Paths.tender, ["--trace", "--disk", disk, "--net", tap.name, try Paths.guest("netbad")])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome.stdout)")
            let lines = outcome.stderr.split(separator: "\n")
            if Paths.withoutNetOffload {
                #expect(!outcome.stderr.contains("offloads"), "\(outcome.stderr)")
                #expect(!outcome.stderr.contains("gso="), "no header on a plain NIC's lines")
                return
            }
            #expect(lines.contains { $0.contains("device 1 'net': tap \(tap.name)") && $0.contains("offloads (virtio-net header, csum, tso4), frames up to 65559") },
                    "\(outcome.stderr)")
            // The lie netbad calls write-gso-size-0, as the tender saw it.
            #expect(lines.contains { $0.hasPrefix("nabla-run: hypercall netwrite(dev=1, ") && $0.contains("len=4000, flags=1, gso=1, gso_size=0, hdr_len=54, csum_start=34, csum_offset=16) = -2") },
                    "\(outcome.stderr)")
            // write-csum-in-ethernet-header.
            #expect(lines.contains { $0.contains("len=64, flags=1, gso=0, gso_size=0, hdr_len=0, csum_start=10, csum_offset=16) = -2") },
                    "\(outcome.stderr)")
            // write-plain-frame passes.
            #expect(lines.contains { $0.contains("len=64, flags=0, gso=0, gso_size=0, hdr_len=0, csum_start=0, csum_offset=0) = 0") },
                    "\(outcome.stderr)")
        }
    }

    @Test("a guest that does not ask for offloads, or a run with --no-net-offload, keeps plain 1514-byte frames and pins", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func plainWhenNotAsked() throws {
        let tap = try Tap(subnet: 33)
        // hello asks for nothing; netbad asks, and is declined.
        for arguments in [["--net", tap.name, try Paths.guest("hello")],
                          ["--no-net-offload", "--net", tap.name, try Paths.guest("netbad")]] {
            let policy = try tap.namespace.run(Paths.tender, ["--policy"] + arguments)
            #expect(policy.status == 0, "\(policy)")
            #expect(policy.stdout.contains("&& count == 1514 [largest frame]"), "\(arguments): \(policy.stdout)")
            #expect(policy.stdout.contains("&& count <= 1514 [largest frame]"), "\(arguments): \(policy.stdout)")
            #expect(!policy.stdout.contains("0x10017"), "\(arguments): \(policy.stdout)")
        }
        let asked = try tap.namespace.run(Paths.tender, ["--policy", "--net", tap.name, try Paths.guest("netbad")])
        #expect(asked.stdout.contains("&& count == 0x10017 [largest offload frame, header included]"), "\(asked.stdout)")
    }
}
