// The network guests (ping-serve, udp-echo, on lwIP through guests/net) on
// real TAP interfaces: pings, UDP echo, and malformed frames injected with
// AF_PACKET, counted by lwIP's own statistics.
//
// Each test makes its own network namespace with its TAP interfaces in it
// (Support/Tap.swift), so they need root and /dev/net/tun; without them
// they fail saying so. ping and nabla-run run in the namespace.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs ping; returns (transmitted, received, loss %) from its summary.
func pingSummary(_ address: String, count: Int, interval: String, in namespace: NetNamespace) throws -> (Int, Int, Double, String) {
    let tool = try NetHost.tool("ping", package: "iputils-ping")
    let outcome = try namespace.run(tool, ["-c", String(count), "-i", interval, "-W", "1", address], timeout: 60)
    let text = outcome.stdout
    guard let match = text.firstMatch(of: /(\d+) packets transmitted, (\d+) received.*?([0-9.]+)% packet loss/) else {
        throw HarnessError("no summary in ping's output (status \(outcome.status)):\n\(text)\(outcome.stderr)")
    }
    return (Int(match.1)!, Int(match.2)!, Double(match.3)!, text)
}

@Suite("Network guests")
struct NetTests {
    @Test("ping-serve answers 200 pings with no loss, then exits after limit=200", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func pingServe() throws {
        let tap = try Tap(subnet: 1)
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("ping-serve"),
                                      "--ipv4=\(tap.guestAddress)/24", "limit=200"], in: tap.namespace)
        try guest.waitFor("ping-serve: ready")
        let (sent, received, loss, text) = try pingSummary(tap.guestAddress, count: 200, interval: "0.002", in: tap.namespace)
        #expect(sent == 200 && received == 200 && loss == 0, "\(text)")
        let status = try guest.finish()
        #expect(status == 0, "stdout: \(guest.stdout)\nstderr: \(guest.stderr)")
        #expect(guest.stdout.contains("\nreplies 200\n"), "\(guest.stdout)")
        let counters = parseCounters(guest.stdout.split(separator: "\n").first { $0.hasPrefix("stats: ") }.map(String.init) ?? "")
        #expect(counters["icmp.echoreps"] == 200, "\(guest.stdout)")
        #expect(counters["link.xmit"].map { $0 >= 200 } == true, "\(guest.stdout)")
        #expect(counters["icmp.chkerr"] == 0 && counters["ip.chkerr"] == 0, "\(guest.stdout)")
    }

    @Test("configured only by nabla-run --net-ipv4 and --net-gw (the boot info), ping-serve answers pings and reports the address and gateway; the guest's own --ipv4= wins",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func bootInfoAddress() throws {
        let tap = try Tap(subnet: 13)
        let options = ["--net", tap.name, "--net-mac", tap.guestMAC, "--net-ipv4", tap.guestAddress + "/24", "--net-gw", tap.hostAddress]
        let guest = try RunningGuest(options + [try Paths.guest("ping-serve"), "limit=20"], in: tap.namespace)
        try guest.waitFor("ping-serve: ready")
        let (sent, received, _, text) = try pingSummary(tap.guestAddress, count: 20, interval: "0.01", in: tap.namespace)
        #expect(sent == 20 && received == 20, "\(text)")
        #expect(try guest.finish() == 0, "stdout: \(guest.stdout)\nstderr: \(guest.stderr)")
        #expect(guest.stdout.contains("net: net handle 0 mac \(tap.guestMAC) ipv4 \(tap.guestAddress)/24 gw \(tap.hostAddress)\n"),
                "the boot info's address, prefix and gateway reach lwIP: \(guest.stdout)")

        // The command line's --ipv4= for the same NIC wins over the boot info's.
        let other = "10.211.13.3"
        let overridden = try RunningGuest(options + [try Paths.guest("ping-serve"), "--ipv4=\(other)/24", "limit=5"], in: tap.namespace)
        try overridden.waitFor("ping-serve: ready")
        let (_, answered, _, again) = try pingSummary(other, count: 5, interval: "0.01", in: tap.namespace)
        #expect(answered == 5, "\(again)")
        #expect(try overridden.finish() == 0, "\(overridden.stderr)")
        #expect(overridden.stdout.contains("ipv4 \(other)/24 gw none\n"), "\(overridden.stdout)")
    }

    @Test("a guest with two NICs answers pings on both addresses", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func twoNICs() throws {
        let namespace = try NetNamespace()
        let a = try Tap(subnet: 2, in: namespace), b = try Tap(subnet: 3, in: namespace)
        let guest = try RunningGuest(["--net", "net=" + a.name, "--net", "net1=" + b.name,
                                      "--net-mac", "net=" + a.guestMAC, "--net-mac", "net1=" + b.guestMAC,
                                      try Paths.guest("ping-serve"),
                                      "--ipv4=net:\(a.guestAddress)/24", "--ipv4=net1:\(b.guestAddress)/24", "limit=60"],
                                     in: namespace)
        try guest.waitFor("ping-serve: ready")
        #expect(guest.stdout.contains("net: net handle 0 mac \(a.guestMAC) ipv4 \(a.guestAddress)/24"), "\(guest.stdout)")
        #expect(guest.stdout.contains("net: net1 handle 1 mac \(b.guestMAC) ipv4 \(b.guestAddress)/24"), "\(guest.stdout)")
        let first = try pingSummary(a.guestAddress, count: 30, interval: "0.005", in: namespace)
        #expect(first.1 == 30 && first.2 == 0, "\(first.3)")
        let second = try pingSummary(b.guestAddress, count: 30, interval: "0.005", in: namespace)
        #expect(second.1 == 30 && second.2 == 0, "\(second.3)")
        #expect(try guest.finish() == 0, "\(guest.stdout)")
        #expect(guest.stdout.contains("\nreplies 60\n"), "\(guest.stdout)")
    }

    @Test("udp-echo echoes datagrams of 1, 100, 1000 and 1472 bytes byte for byte", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func udpEcho() throws {
        let tap = try Tap(subnet: 4)
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("udp-echo"),
                                      "--ipv4=\(tap.guestAddress)/24", "--port=7007"], in: tap.namespace)
        try guest.waitFor("udp-echo: ready on port 7007")
        let socket = try UDPSocket(bindTo: tap.hostAddress, in: tap.namespace)
        for size in [1, 100, 1000, 1472] {
            let payload = (0..<size).map { _ in UInt8.random(in: 0...255) }
            let echo = try socket.exchange(payload, with: tap.guestAddress, port: 7007)
            #expect(echo == payload, "size \(size): got \(echo.map { "\($0.count) bytes" } ?? "no answer within 2 s")")
        }
        let stats = try socket.exchange(Array("nabla:stats".utf8), with: tap.guestAddress, port: 7007)
        let line = String(decoding: stats ?? [], as: UTF8.self)
        #expect(line.hasPrefix("stats: link.recv="), "\(line)")
        #expect(parseCounters(line)["udp.chkerr"] == 0 && parseCounters(line)["udp.recv"].map { $0 >= 5 } == true, "\(line)")
        try socket.send(Array("nabla:quit".utf8), to: tap.guestAddress, port: 7007)
        #expect(try guest.finish() == 0, "\(guest.stdout)")
        #expect(guest.stdout.contains("stats: link.recv=") && guest.stdout.contains("echoed 4"), "\(guest.stdout)")
    }

    @Test("malformed frames are dropped and counted by lwIP, and the guest still echoes", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func malformedFrames() throws {
        let tap = try Tap(subnet: 5)
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("udp-echo"),
                                      "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace)
        try guest.waitFor("udp-echo: ready on port 7")
        let socket = try UDPSocket(bindTo: tap.hostAddress, in: tap.namespace)
        // A first exchange settles ARP on both sides.
        #expect(try socket.exchange([1, 2, 3], with: tap.guestAddress, port: 7) == [1, 2, 3])
        func stats() throws -> [String: UInt64] {
            let reply = try socket.exchange(Array("nabla:stats".utf8), with: tap.guestAddress, port: 7)
            return parseCounters(String(decoding: reply ?? [], as: UTF8.self))
        }
        let before = try stats()
        try #require(before["link.recv"] != nil, "no stats line from the guest")

        let guestMAC = try parseMAC(tap.guestMAC), hostMAC = try tap.hostMAC()
        let host = try ipv4Bytes(tap.hostAddress), me = try ipv4Bytes(tap.guestAddress)
        let port = socket.localPort
        // Each malformed datagram is addressed to the echo port from our
        // socket's port: had the guest accepted it, its echo would reach us.
        func udpFrame(_ tag: String, dstMAC: [UInt8]? = nil, dstIP: [UInt8]? = nil, badIP: Bool = false,
                      badUDP: Bool = false, totalLength: UInt16? = nil, options: Bool = false,
                      flags: UInt16 = 0x4000, udpLength: UInt16? = nil, proto: UInt8 = 17) -> [UInt8] {
            let udp = Frame.udp(src: host, dst: dstIP ?? me, sport: port, dport: 7, Array(("malformed " + tag).utf8),
                                badChecksum: badUDP, lengthField: udpLength)
            let ip = Frame.ipv4(src: host, dst: dstIP ?? me, proto: proto, udp, totalLength: totalLength,
                                badChecksum: badIP, options: options, flags: flags)
            return Frame.ethernet(dst: dstMAC ?? guestMAC, src: hostMAC, type: 0x0800, ip)
        }
        let good = udpFrame("good")
        let badARP = Frame.ethernet(dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], src: hostMAC, type: 0x0806,
                                    [0, 1, 8, 0, 5, 4, 0, 1] + hostMAC + [0] + host + [0, 0, 0, 0, 0, 0] + me)
        let badICMP = Frame.ethernet(dst: guestMAC, src: hostMAC, type: 0x0800,
                                     Frame.ipv4(src: host, dst: me, proto: 1,
                                                Frame.echoRequest(id: 7, seq: 1, Array("bad".utf8), badChecksum: true)))
        // Each case and the lwip_stats counter that counts it (link.othermac
        // and udp.lenerr for a long length field are the glue's checks,
        // guests/net/netif.c).
        let cases: [(name: String, counter: String, frame: [UInt8])] = [
            ("IPv4 header cut to 10 bytes", "ip.lenerr", Array(good.prefix(14 + 10))),
            ("bad IP header checksum", "ip.chkerr", udpFrame("ipcsum", badIP: true)),
            ("bad UDP checksum", "udp.chkerr", udpFrame("udpcsum", badUDP: true)),
            ("IP total length larger than the frame", "ip.lenerr", udpFrame("iplen", totalLength: 1400)),
            ("unicast to another MAC", "link.othermac", udpFrame("othermac", dstMAC: [0x02, 0, 0, 0, 0, 0x99])),
            ("unknown ethertype", "etharp.proterr", Frame.ethernet(dst: guestMAC, src: hostMAC, type: 0x88b5, Array(repeating: 0xab, count: 46))),
            ("IP options", "ip.opterr", udpFrame("options", options: true)),
            ("IP fragment", "ip.opterr", udpFrame("fragment", flags: 0x2000)),
            ("IP to another address", "ip.addrerr", udpFrame("notours", dstIP: try ipv4Bytes("10.211.5.77"))),
            ("bad ICMP checksum", "icmp.chkerr", badICMP),
            ("UDP length field past the datagram", "udp.lenerr", udpFrame("udplen", udpLength: 900)),
            ("unknown IP protocol", "ip.proterr", udpFrame("proto", proto: 253)),
            ("ARP with a 5-byte hardware address", "etharp.proterr", badARP),
        ]
        let raw = try RawEthernetSocket(tap)
        var expected = Set(cases.map(\.counter))
        // A frame shorter than the Ethernet header: Linux refuses to send
        // it (EINVAL: AF_PACKET pads nothing below the 14-byte header), so
        // "short" can only be checked if the kernel lets it through.
        let short = raw.send(Array(good.prefix(10)))
        if short == 0 { expected.insert("link.lenerr") } else { #expect(short == EINVAL, "sending 10 bytes: errno \(short)") }
        for c in cases {
            let error = raw.send(c.frame)
            #expect(error == 0, "\(c.name): sendto failed: \(String(cString: strerror(error)))")
        }

        // The guest still echoes, and none of the malformed datagrams came back.
        try socket.send(Array("after".utf8), to: tap.guestAddress, port: 7)
        var answer = socket.receive()
        while let bytes = answer, bytes != Array("after".utf8) {
            Issue.record("a malformed datagram was echoed: \(String(decoding: bytes, as: UTF8.self))")
            answer = socket.receive()
        }
        #expect(answer == Array("after".utf8), "no echo after the malformed frames")

        // Every counter rises (the frames may reach the guest after the
        // stats request, so ask again for up to 5 s).
        var after = try stats()
        let deadline = Date().addingTimeInterval(5)
        while expected.contains(where: { (after[$0] ?? 0) <= (before[$0] ?? 0) }) && Date() < deadline {
            usleep(50_000)
            after = try stats()
        }
        for counter in expected.sorted() {
            #expect((after[counter] ?? 0) > (before[counter] ?? 0), "counter \(counter) did not rise: before \(before), after \(after)")
        }
        for (counter, count) in [("ip.lenerr", 2), ("ip.opterr", 2), ("etharp.proterr", 2)] {
            #expect(after[counter].map { $0 >= (before[counter] ?? 0) + UInt64(count) } == true, "all \(count) \(counter) cases: \(after)")
        }

        try socket.send(Array("nabla:quit".utf8), to: tap.guestAddress, port: 7)
        #expect(try guest.finish() == 0, "\(guest.stdout)")
        #expect(guest.stdout.contains("stats: link.recv="), "\(guest.stdout)")
    }

    @Test("udp-echo resolves an unknown sender with ARP, and keeps asking for one that never answers", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func arpResolution() throws {
        let tap = try Tap(subnet: 6)
        // A second host address the guest has never heard of: the host
        // answers ARP for it, but never sends ARP from it on its own here.
        let other = "10.211.6.3"
        try tap.namespace.ip(["addr", "add", other + "/24", "dev", tap.name])
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("udp-echo"),
                                      "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace)
        try guest.waitFor("udp-echo: ready on port 7")
        let socket = try UDPSocket(bindTo: other, in: tap.namespace)
        let guestMAC = try parseMAC(tap.guestMAC), hostMAC = try tap.hostMAC()
        let me = try ipv4Bytes(tap.guestAddress)
        func datagram(from source: String, _ text: String) throws -> [UInt8] {
            let src = try ipv4Bytes(source)
            let udp = Frame.udp(src: src, dst: me, sport: socket.localPort, dport: 7, Array(text.utf8))
            return Frame.ethernet(dst: guestMAC, src: hostMAC, type: 0x0800, Frame.ipv4(src: src, dst: me, proto: 17, udp))
        }
        // Injected straight onto the link, so the guest has no ARP entry for
        // the sender and must ask before it can answer.
        let raw = try RawEthernetSocket(tap)
        #expect(raw.send(try datagram(from: other, "resolve me")) == 0)
        #expect(socket.receive() == Array("resolve me".utf8), "no echo to a sender the guest had to resolve")

        // A sender nobody answers ARP for: lwIP queues the echo and asks
        // again every second (etharp.xmit rises) until the entry expires,
        // while it goes on serving others.
        let stats = try UDPSocket(bindTo: tap.hostAddress, in: tap.namespace)
        func counters() throws -> [String: UInt64] {
            let reply = try stats.exchange(Array("nabla:stats".utf8), with: tap.guestAddress, port: 7)
            return parseCounters(String(decoding: reply ?? [], as: UTF8.self))
        }
        let before = try counters()
        #expect(raw.send(try datagram(from: "10.211.6.9", "nobody")) == 0)
        var after = before
        let deadline = Date().addingTimeInterval(5)
        repeat {
            usleep(200_000)
            after = try counters()
        } while (after["etharp.xmit"] ?? 0) < (before["etharp.xmit"] ?? 0) + 2 && Date() < deadline
        #expect((after["etharp.xmit"] ?? 0) >= (before["etharp.xmit"] ?? 0) + 2, "ARP requests for an address nobody has: \(before) then \(after)")
        #expect(try socket.exchange(Array("still here".utf8), with: tap.guestAddress, port: 7) == Array("still here".utf8))
        try stats.send(Array("nabla:quit".utf8), to: tap.guestAddress, port: 7)
        #expect(try guest.finish() == 0, "\(guest.stdout)")
    }

    @Test("the socket API: each call works and each misuse gets its errno (sockets-test against a host echo server)", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func socketAPI() throws {
        let tap = try Tap(subnet: 11)
        let server = try TCPEchoServer(bindTo: tap.hostAddress, in: tap.namespace)
        let outcome = try tap.namespace.run(Paths.tender, ["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("sockets-test"),
                                                           "--ipv4=\(tap.guestAddress)/24", "--peer=\(tap.hostAddress):\(server.port)"],
                                            timeout: 30)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome.stdout)")
        #expect(server.finish() == 100_004, "bytes the host echoed")
    }

    @Test("echo-swift: an Embedded Swift guest on NablaNetwork echoes a TCP connection byte for byte",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func swiftTCPEcho() throws {
        let tap = try Tap(subnet: 62)
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("echo-swift"),
                                      "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace)
        try guest.waitFor("echo-swift: ready")
        let text = String(repeating: "nabla over TCP, in Swift. ", count: 400)  // 10,400 bytes: several segments
        let nc = try NetHost.tool("nc", package: "netcat-openbsd")
        let outcome = try tap.namespace.run("/bin/sh", ["-c", "printf '%s' \"$1\" | \"$0\" -N -w 5 \"$2\" 7", nc, text, tap.guestAddress])
        #expect(outcome.stdout == text, "\(outcome.stderr)")
        #expect(try guest.finish() == 0, "\(guest.stdout)\(guest.stderr)")
        #expect(guest.stdout.contains("echo-swift: echoed \(text.utf8.count) bytes"), "\(guest.stdout)")
    }

    @Test("nabla_net_flush: a C guest that sends 1 MiB to a slow reader and returns delivers every byte and its FIN",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func flushBeforeReturn() throws {
        let tap = try Tap(subnet: 64)
        let nc = try NetHost.tool("nc", package: "netcat-openbsd")
        // A small receive window and a reader that starts late: the guest's
        // last send returns with segments still queued in lwIP, which only
        // the flush sends (without it they are lost: checked by hand).
        let window = try tap.namespace.run("/bin/sh", ["-c", "echo '4096 16384 16384' > /proc/sys/net/ipv4/tcp_rmem"])
        #expect(window.status == 0, "\(window)")
        let size = 1 << 20
        let expected = (0..<size).map { UInt8($0 % 251) }
        try withTemporaryDirectory { dir in
            let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("blast"),
                                          "--ipv4=\(tap.guestAddress)/24", "--bytes=\(size)"], in: tap.namespace)
            try guest.waitFor("blast: ready")
            let received = dir + "/received"
            let client = try tap.namespace.run("/bin/sh", ["-c", "\"$0\" -d -w 5 \"$1\" 9000 | (sleep 1; cat > \"$2\")",
                                                           nc, tap.guestAddress, received], timeout: 30)
            #expect(client.status == 0, "\(client)")
            #expect(try guest.finish() == 0, "\(guest.stdout)\(guest.stderr)")
            #expect(guest.stdout.contains("blast: sent \(size) bytes, flush 0"), "\(guest.stdout)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: received)))
            #expect(bytes == expected, "received \(bytes.count) of \(size) bytes")
        }
    }

    @Test("bad network arguments are refused before the guest touches the network")
    func badArguments() throws {
        let cases: [([String], String)] = [
            (["--ipv4=10.0.0.300/24"], "bad argument '--ipv4=10.0.0.300/24'"),
            (["--ipv4=10.0.0.2"], "expected --ipv4=ADDR/PREFIX"),
            (["--ipv4=10.0.0.2/33"], "PREFIX 1-32"),
            (["--ipv4=10.0.0.0/24"], "network or broadcast address"),
            (["--ipv4=10.0.0.2/24"], "no NIC is attached"),
            (["--ipv4=eth9:10.0.0.2/24"], "no NIC named 'eth9'"),
            (["--ipv4=10.0.0.2/24", "limit=x"], "bad argument 'limit=x'"),
            ([], "no address"),
        ]
        for (arguments, message) in cases {
            let outcome = try nablaRun([try Paths.guest("ping-serve")] + arguments)
            #expect(outcome.status == 2, "\(arguments): \(outcome)")
            #expect(outcome.stdout.contains(message), "\(arguments): \(outcome)")
        }
        let echo = try nablaRun([try Paths.guest("udp-echo"), "--ipv4=10.0.0.2/24", "--port=70000"])
        #expect(echo.status == 2 && echo.stdout.contains("bad argument '--port=70000'"), "\(echo)")
    }
}
