// Tap.swift: network namespaces, TAP interfaces in them, a guest running on
// them, UDP, TCP and raw Ethernet sockets for the network tests.
//
// Every network test makes its own network namespace (nl-t + random hex)
// and its TAP interfaces inside it, so nothing it does reaches the host's
// own interfaces or another test's; nabla-run and the clients (ping, curl,
// ab, iperf) run in it with `ip netns exec`, and the test's own sockets are
// created in it (NetNamespace.withEntered). The namespace is deleted when
// its value goes away, also when the test fails; namespaces left by a
// killed run are deleted before the first new one is made. Creating them
// needs root and /dev/net/tun: without them the test fails and says so.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum NetHost {
    /// The path of tool `name` in the usual directories, or an error naming
    /// the Debian package that provides it.
    static func tool(_ name: String, package: String) throws -> String {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where access(dir + "/" + name, X_OK) == 0 {
            return dir + "/" + name
        }
        throw HarnessError("'\(name)' is missing: the network tests need it (apt-get install \(package), or tools/install-deps)")
    }

    /// Fails unless network namespaces and TAP interfaces can be created here.
    static func requireTapSupport() throws {
        guard geteuid() == 0 else {
            throw HarnessError("the network tests need root: they create network namespaces and TAP interfaces with 'ip' (run swift test as root)")
        }
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            throw HarnessError("/dev/net/tun is missing or not accessible: the network tests need the tun driver (modprobe tun; in a container, pass --device /dev/net/tun)")
        }
        _ = try tool("ip", package: "iproute2")
    }

    /// Runs `ip` with arguments; throws with its output if it fails.
    @discardableResult
    static func ip(_ arguments: [String]) throws -> Outcome {
        let outcome = try run(try tool("ip", package: "iproute2"), arguments, timeout: 10)
        guard outcome.status == 0 else {
            throw HarnessError("ip \(arguments.joined(separator: " ")) failed: \(outcome.stderr)\(outcome.stdout)")
        }
        return outcome
    }
}

/// A network namespace of the tests' own, `nl-t` + 8 hex digits, with its
/// loopback up. Deleted on deinit.
final class NetNamespace {
    static let prefix = "nl-t"
    let name: String

    /// Deletes the namespaces a killed test run left behind, once per process
    /// (before this process has made any of its own).
    private static let staleRemoved: Void = {
        let list = (try? NetHost.ip(["netns", "list"]).stdout) ?? ""
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            if name.hasPrefix(prefix) { _ = try? NetHost.ip(["netns", "del", name]) }
        }
    }()

    init() throws {
        try NetHost.requireTapSupport()
        _ = Self.staleRemoved
        name = Self.prefix + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        try NetHost.ip(["netns", "add", name])
        do {
            try NetHost.ip(["-n", name, "link", "set", "lo", "up"])
        } catch {
            _ = try? NetHost.ip(["netns", "del", name])
            throw error
        }
    }

    deinit { _ = try? NetHost.ip(["netns", "del", name]) }

    /// `ip -n NAME arguments`.
    @discardableResult
    func ip(_ arguments: [String]) throws -> Outcome { try NetHost.ip(["-n", name] + arguments) }

    /// The command line that runs `executable` in this namespace. With
    /// NABLA_TEST_NO_NET_OFFLOAD=1 in the environment (`make test`'s second
    /// pass over the network suites), a run of the tender under test gets
    /// `--no-net-offload` first: every network test also runs without offloads.
    func command(_ executable: String, _ arguments: [String]) throws -> (String, [String]) {
        var arguments = arguments
        if Paths.withoutNetOffload && executable == Paths.tender && arguments.first != "--policy" {
            arguments.insert("--no-net-offload", at: 0)
        }
        return (try NetHost.tool("ip", package: "iproute2"), ["netns", "exec", name, executable] + arguments)
    }

    /// Runs `executable` in this namespace and waits for it.
    func run(_ executable: String, _ arguments: [String], timeout: Double = 20) throws -> Outcome {
        let (ip, full) = try command(executable, arguments)
        return try NablaTests.run(ip, full, timeout: timeout)
    }

    /// Starts `executable` in this namespace.
    func start(_ executable: String, _ arguments: [String], stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> Child {
        let (ip, full) = try command(executable, arguments)
        return try Child(ip, full, stdout: stdout, stderr: stderr)
    }

    /// Runs `body` with the calling thread in this namespace: sockets it
    /// creates belong to the namespace for good. The thread returns to its
    /// own namespace afterwards.
    func withEntered<T>(_ body: () throws -> T) throws -> T {
        let own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/run/netns/" + name, O_RDONLY | O_CLOEXEC)
        defer {
            if own >= 0 { close(own) }
            if target >= 0 { close(target) }
        }
        guard own >= 0, target >= 0 else {
            throw HarnessError("cannot open the network namespaces of this thread and \(name): \(String(cString: strerror(errno)))")
        }
        let newNet: Int32 = 0x4000_0000     // CLONE_NEWNET
        let setns = try Self.setns()
        guard setns(target, newNet) == 0 else {
            throw HarnessError("setns \(name): \(String(cString: strerror(errno)))")
        }
        defer {
            // A thread left in the test's namespace would run later tests
            // there: that must never happen silently.
            if setns(own, newNet) != 0 { fatalError("cannot return to the test thread's network namespace") }
        }
        return try body()
    }

    /// glibc's setns(2) wrapper, which the Glibc module does not import
    /// (it is declared only under _GNU_SOURCE).
    private static func setns() throws -> @convention(c) (Int32, Int32) -> Int32 {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else {
            throw HarnessError("this C library has no setns(): the network tests need it")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }

    /// The index and MAC address of interface `interface` here.
    func link(_ interface: String) throws -> (index: Int32, mac: [UInt8]) {
        let text = try ip(["-o", "link", "show", "dev", interface]).stdout
        guard let index = Int32(text.prefix { $0 != ":" }),
              let mac = text.firstMatch(of: /link\/ether ([0-9a-f:]{17})/) else {
            throw HarnessError("cannot read the index and MAC of \(interface) in \(name): \(text)")
        }
        return (index, try parseMAC(String(mac.1)))
    }
}

/// A TAP interface `nltap<subnet>` in a network namespace (its own unless
/// one is given), up, with the host address 10.211.`subnet`.1/24 unless
/// `address` is false; the guest is meant to take 10.211.`subnet`.2.
/// Removed with its namespace.
final class Tap {
    let namespace: NetNamespace
    let name: String
    let subnet: Int
    var hostAddress: String { "10.211.\(subnet).1" }
    var guestAddress: String { "10.211.\(subnet).2" }
    /// A MAC for the guest on this TAP, derived from the subnet.
    var guestMAC: String { String(format: "02:00:00:d3:%02x:02", subnet) }

    init(subnet: Int, in namespace: NetNamespace? = nil, address: Bool = true) throws {
        precondition(subnet > 0 && subnet < 255)
        self.namespace = try namespace ?? NetNamespace()
        self.subnet = subnet
        name = "nltap\(subnet)"
        try self.namespace.ip(["tuntap", "add", "dev", name, "mode", "tap"])
        // Keep the host's IPv6 chatter (router solicitations, MLD) off the link.
        _ = try? self.namespace.run("/bin/sh", ["-c", "echo 1 > /proc/sys/net/ipv6/conf/\(name)/disable_ipv6"])
        try self.namespace.ip(["link", "set", name, "up"])
        if address { try self.namespace.ip(["addr", "add", hostAddress + "/24", "dev", name]) }
    }

    /// A TAP interface with no address in a namespace of its own, for tests
    /// that only attach it (the attack suite).
    static func unaddressed() throws -> Tap { try Tap(subnet: 250, address: false) }

    /// The interface index, for AF_PACKET sockets made in the namespace.
    func index() throws -> Int32 { try namespace.link(name).index }

    /// The host side's MAC address.
    func hostMAC() throws -> [UInt8] { try namespace.link(name).mac }
}

func parseMAC(_ text: String) throws -> [UInt8] {
    let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    guard parts.count == 6 else { throw HarnessError("bad MAC address '\(text)'") }
    return parts
}

/// A guest started in the background with its stdout in a temporary file.
final class RunningGuest {
    let child: Child
    let outPath: String
    let errPath: String

    /// Starts nabla-run (`tender`: the one under test unless given) with
    /// `arguments` in `namespace`.
    init(_ arguments: [String], in namespace: NetNamespace, tender: String = Paths.tender) throws {
        let base = NSTemporaryDirectory() + "nabla-net-" + UUID().uuidString
        outPath = base + ".out"
        errPath = base + ".err"
        child = try namespace.start(tender, arguments, stdout: outPath, stderr: errPath)
    }

    deinit {
        child.kill()
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Waits (at most `timeout` s) until stdout contains `text`.
    func waitFor(_ text: String, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdout.contains(text) { return }
            if !child.isRunning { break }
            usleep(2_000)
        }
        if stdout.contains(text) { return }
        throw HarnessError("the guest did not print '\(text)' within \(timeout) s (status \(child.status.map(String.init) ?? "running"))\nstdout: \(stdout)\nstderr: \(stderr)")
    }

    /// Waits for the guest to exit; kills it and throws after `timeout` s.
    func finish(timeout: Double = 10) throws -> Int32 {
        guard let status = child.wait(timeout: timeout) else {
            child.kill()
            throw HarnessError("the guest did not exit within \(timeout) s\nstdout: \(stdout)\nstderr: \(stderr)")
        }
        return status
    }
}

/// Parses "key=N" pairs out of a stats line.
func parseCounters(_ line: String) -> [String: UInt64] {
    var counters: [String: UInt64] = [:]
    for word in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let pair = word.split(separator: "=", maxSplits: 1)
        if pair.count == 2, let value = UInt64(pair[1]) { counters[String(pair[0])] = value }
    }
    return counters
}

/// An IPv4 address in network byte order.
func inetAddress(_ text: String) throws -> in_addr {
    var address = in_addr()
    guard inet_pton(AF_INET, text, &address) == 1 else { throw HarnessError("bad IPv4 address \(text)") }
    return address
}

func ipv4Bytes(_ text: String) throws -> [UInt8] {
    let value = try inetAddress(text).s_addr   // network order in memory
    return withUnsafeBytes(of: value) { Array($0) }
}

/// A UDP socket in a namespace (nil: this process's own, for loopback),
/// bound to a host address, with a receive timeout.
final class UDPSocket {
    let fd: Int32

    init(bindTo address: String, port: UInt16 = 0, timeout: Double = 2, in namespace: NetNamespace?) throws {
        let open = { socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) }
        fd = try namespace.map { try $0.withEntered(open) } ?? open()
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr = try inetAddress(address)
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw HarnessError("bind \(address):\(port): \(message)")
        }
    }

    deinit { close(fd) }

    var localPort: UInt16 {
        var sin = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: sin.sin_port)
    }

    func send(_ bytes: [UInt8], to address: String, port: UInt16) throws {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr = try inetAddress(address)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == bytes.count else { throw HarnessError("sendto \(address):\(port): \(String(cString: strerror(errno)))") }
    }

    /// The next datagram, or nil after the timeout.
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n < 0 ? nil : Array(buffer[0..<n])
    }

    /// Sends `bytes` and waits for one answer.
    func exchange(_ bytes: [UInt8], with address: String, port: UInt16) throws -> [UInt8]? {
        try send(bytes, to: address, port: port)
        return receive()
    }
}

/// A TCP server in a namespace that accepts one connection and echoes it
/// until the peer shuts its side down, then closes. (`echoed` is written by
/// the server thread before it signals `done`, and read only after `finish`
/// waited for that: hence @unchecked Sendable.)
final class TCPEchoServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    private let done = DispatchSemaphore(value: 0)
    private var echoed = 0

    init(bindTo address: String, in namespace: NetNamespace) throws {
        let fd = try namespace.withEntered { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr = try inetAddress(address)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw HarnessError("echo server on \(address): \(message)")
        }
        self.fd = fd
        port = UInt16(bigEndian: sin.sin_port)
        let listener = fd
        Thread.detachNewThread { [self] in
            var tv = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let client = accept(listener, nil, nil)
            if client >= 0 {
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    let sent = buffer.withUnsafeBytes { send(client, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
                    if sent != n { break }
                    echoed += n
                }
                close(client)
            }
            done.signal()
        }
    }

    deinit { close(fd) }

    /// Waits (at most 20 s) for the connection to end; the bytes echoed.
    func finish() -> Int {
        _ = done.wait(timeout: .now() + 20)
        return echoed
    }
}

/// An AF_PACKET socket that sends whole Ethernet frames out of a TAP.
final class RawEthernetSocket {
    let fd: Int32
    let ifindex: Int32

    init(_ tap: Tap) throws {
        // Protocol 0: this socket only sends, it receives nothing.
        fd = try tap.namespace.withEntered { socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0) }
        guard fd >= 0 else { throw HarnessError("socket(AF_PACKET): \(String(cString: strerror(errno)))") }
        ifindex = try tap.index()
    }

    deinit { close(fd) }

    /// Sends `frame` (destination MAC first); returns 0 or the errno.
    func send(_ frame: [UInt8]) -> Int32 {
        // struct sockaddr_ll: family (2), protocol (2, network order),
        // ifindex (4), hatype (2), pkttype (1), halen (1), addr (8).
        var address = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: ifindex) { address.replaceSubrange(4..<8, with: $0) }
        address[11] = 6
        for i in 0..<min(6, frame.count) { address[12 + i] = frame[i] }
        let sent = frame.withUnsafeBytes { buffer in
            address.withUnsafeBytes {
                sendto(fd, buffer.baseAddress, buffer.count, 0,
                       $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(20))
            }
        }
        return sent == frame.count ? 0 : errno
    }
}

/// Builds Ethernet, IPv4, UDP and ICMP frames, correct unless told otherwise.
enum Frame {
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    static func ethernet(dst: [UInt8], src: [UInt8], type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        dst + src + be16(type) + payload
    }

    /// An IPv4 header and payload. `totalLength` overrides the length field,
    /// `badChecksum` flips the header checksum, `options` adds 4 bytes of
    /// options (IHL 6), `flags` is the flags/fragment-offset field.
    static func ipv4(src: [UInt8], dst: [UInt8], proto: UInt8, _ payload: [UInt8], totalLength: UInt16? = nil,
                     badChecksum: Bool = false, options: Bool = false, flags: UInt16 = 0x4000) -> [UInt8] {
        let optionBytes: [UInt8] = options ? [1, 1, 1, 0] : []   // NOP NOP NOP EOL
        let headerLength = 20 + optionBytes.count
        var header: [UInt8] = [UInt8(0x40 | headerLength / 4), 0]
        header += be16(totalLength ?? UInt16(headerLength + payload.count))
        header += be16(0x1234) + be16(flags) + [64, proto] + [0, 0] + src + dst + optionBytes
        var sum = checksum(header)
        if badChecksum { sum ^= 0x5555 }
        header[10] = UInt8(sum >> 8)
        header[11] = UInt8(sum & 0xff)
        return header + payload
    }

    /// A UDP datagram with a correct checksum (or a wrong, nonzero one).
    static func udp(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, _ data: [UInt8],
                    badChecksum: Bool = false, lengthField: UInt16? = nil) -> [UInt8] {
        let length = UInt16(8 + data.count)
        var datagram = be16(sport) + be16(dport) + be16(lengthField ?? length) + [0, 0] + data
        var sum = checksum(src + dst + [0, 17] + be16(length) + datagram)   // pseudo header first
        if sum == 0 { sum = 0xffff }
        if badChecksum { sum = sum == 0x1111 ? 0x2222 : 0x1111 }
        datagram[6] = UInt8(sum >> 8)
        datagram[7] = UInt8(sum & 0xff)
        return datagram
    }

    /// A TCP SYN (20-byte header, no options) with a correct checksum.
    static func tcpSYN(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, seq: UInt32) -> [UInt8] {
        var segment: [UInt8] = be16(sport) + be16(dport)
        segment += be16(UInt16(seq >> 16)) + be16(UInt16(seq & 0xffff))
        segment += [0, 0, 0, 0, 0x50, 0x02] as [UInt8]     // ack, header length, SYN
        segment += be16(64240) + ([0, 0, 0, 0] as [UInt8])  // window, checksum, urgent
        let pseudo: [UInt8] = src + dst + [0, 6] + be16(UInt16(segment.count))
        let sum = checksum(pseudo + segment)
        segment[16] = UInt8(sum >> 8)
        segment[17] = UInt8(sum & 0xff)
        return segment
    }

    /// An ICMP echo request (or, with `badChecksum`, one with a wrong checksum).
    static func echoRequest(id: UInt16, seq: UInt16, _ data: [UInt8], badChecksum: Bool = false) -> [UInt8] {
        var message: [UInt8] = [8, 0, 0, 0] + be16(id) + be16(seq) + data
        var sum = checksum(message)
        if badChecksum { sum ^= 0x00ff }
        message[2] = UInt8(sum >> 8)
        message[3] = UInt8(sum & 0xff)
        return message
    }
}
