// Network.swift: giving the guest the container's network interface.
//
// The engine (podman's netavark, a CNI plugin, a Kubernetes pod) sets up
// the container's network namespace with one veth interface, eth0, with an
// IPv4 address and a default route. Inside that namespace nabla-runc
// creates a TAP interface for the guest and moves every frame between the
// two with tc: an ingress qdisc on each, and a u32 match-all filter whose
// mirred action redirects the frame out of the other. The guest takes
// eth0's MAC and IPv4 address, so to the engine's bridge it is the
// container; the namespace's own kernel stack never sees a frame.
//
// Why tc rather than a bridge: a bridge would need eth0's address moved
// off it and the MAC learned twice, and would pass frames up the
// namespace's own stack as well (ARP answers from two places). tc redirect
// needs no address change, is two filters, and is what Kata Containers
// (tcfilter) and urunc do.

import CNablaRunc
import Glibc

/// The interface the engine gave the container, as nabla-runc found it.
struct Uplink: Equatable {
    let interface: String
    let mac: String
    let address: String
    let prefixLength: Int
    let gateway: String?
    let mtu: Int

    /// The guest's network arguments: guests/NET.md's form for a nabla
    /// guest, MirageOS's (`--ipv4-gateway=`) for a Solo5 image.
    func guestArguments(solo5: Bool) -> [String] {
        ["--ipv4=\(address)/\(prefixLength)"] + (gateway.map { [(solo5 ? "--ipv4-gateway=" : "--gw=") + $0] } ?? [])
    }

    /// The first interface of the current network namespace that is up,
    /// not loopback, and has an IPv4 address (eth0 preferred); nil if none.
    static func discover() -> Uplink? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var addresses: [(String, String, Int)] = []
        var macs: [String: String] = [:]
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let flags = Int32(bitPattern: entry.pointee.ifa_flags)
            guard let address = entry.pointee.ifa_addr, flags & Int32(IFF_UP) != 0,
                  flags & Int32(IFF_LOOPBACK) == 0 else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                guard let netmask = entry.pointee.ifa_netmask else { continue }
                let ip = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                let mask = netmask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                addresses.append((name, dotted(ip), mask.nonzeroBitCount))
            case AF_PACKET:
                address.withMemoryRebound(to: sockaddr_ll.self, capacity: 1) { ll in
                    let bytes = withUnsafeBytes(of: ll.pointee.sll_addr) { Array($0.prefix(Int(ll.pointee.sll_halen))) }
                    if bytes.count == 6 { macs[name] = bytes.map { hex2($0) }.joined(separator: ":") }
                }
            default: break
            }
        }
        let chosen = addresses.first { $0.0 == "eth0" } ?? addresses.first
        guard let (name, address, prefix) = chosen, let mac = macs[name] else { return nil }
        return Uplink(interface: name, mac: mac, address: address, prefixLength: prefix,
                      gateway: defaultGateway(on: name), mtu: mtu(of: name))
    }

    /// The IPv4 default route's gateway through `interface`, from
    /// /proc/net/route (which shows the reader's network namespace).
    private static func defaultGateway(on interface: String) -> String? {
        guard let bytes = try? FileSystem.read("/proc/net/route") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 2, fields[0] == interface, fields[1] == "00000000",
                  let raw = UInt32(fields[2], radix: 16), raw != 0 else { continue }
            return dotted(in_addr(s_addr: raw))   // the file has it in network order, as hex of the raw word
        }
        return nil
    }

    private static func mtu(of interface: String) -> Int {
        let mtu = nrc_interface_mtu(interface)
        return mtu > 0 ? Int(mtu) : 1500
    }

    private static func dotted(_ address: in_addr) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var copy = address
        inet_ntop(AF_INET, &copy, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

/// The TAP interface and the two tc redirects, in the current network namespace.
enum NetworkWiring {
    /// The guest's TAP interface in the container's namespace.
    static let tapName = "nabla0"

    /// The line a container shows on its stderr when it starts without a
    /// NIC because `wire` found the namespace's uplink taken.
    static let takenNotice = "the network namespace's interface is already another nabla guest's (its TAP \(tapName) exists; a pod's network goes to one nabla container at a time): this guest has no NIC"

    /// Creates the TAP (owned by the container's user, so the tender can
    /// attach it without CAP_NET_ADMIN) and redirects both ways. The TAP is
    /// made in-process; the four tc commands run as one `tc -batch`.
    ///
    /// Returns false, having made nothing, if the TAP exists: the uplink is
    /// already another guest's. Containers that share a namespace (a pod's)
    /// share its one address and MAC, which can only be one guest's (two
    /// lwIP stacks on one address would each reset the other's TCP
    /// connections), so the first nabla container of a pod to be created
    /// gets the network until it is deleted, and the others get no NIC.
    static func wire(_ uplink: Uplink, uid: UInt32, gid: UInt32) throws(RuncError) -> Bool {
        let tc = try findTool("tc", package: "iproute2")
        guard nrc_tap_create(tapName, uid, gid, Int32(uplink.mtu)) == 0 else {
            if errno == EEXIST { return false }
            throw .system("cannot create the TAP interface \(tapName) in the container's network namespace")
        }
        // Keep the kernel's IPv6 chatter (router solicitations) off the guest's link.
        let fd = open("/proc/sys/net/ipv6/conf/\(tapName)/disable_ipv6", O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = write(fd, "1", 1)
            close(fd)
        }
        guard nrc_interface_up(tapName) == 0 else { throw .system("cannot set \(tapName) up") }
        var batch = ""
        for (from, to) in [(uplink.interface, tapName), (tapName, uplink.interface)] {
            batch += "qdisc add dev \(from) ingress\n"
            batch += "filter add dev \(from) parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev \(to)\n"
        }
        let (status, output) = try runTool(tc, ["-batch", "-"], input: batch)
        guard status == 0 else {
            throw RuncError(.system, "tc could not redirect \(uplink.interface) to \(tapName) in the container's network namespace: \(output.split(separator: "\n").joined(separator: "; "))")
        }
        return true
    }

    /// Removes what `wire` made; what is already gone is not an error. The
    /// TAP goes last: while it exists the uplink is this guest's, so the
    /// next container of a pod never finds eth0's filter still there.
    static func unwire(tap: String, uplink: String?) {
        if let uplink, let tc = try? findTool("tc", package: "iproute2") {
            _ = try? runTool(tc, ["qdisc", "del", "dev", uplink, "ingress"])
        }
        _ = nrc_tap_delete(tap)
    }
}

/// Network namespaces: joining one by path, or making a new one.
enum NetworkNamespace {
    /// Enters the namespace at `path` (this process only).
    static func join(_ path: String) throws(RuncError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RuncError(.noInput, "cannot open network namespace \(path): \(RuncError.errnoText(errno))") }
        defer { close(fd) }
        guard nrc_setns(fd, CLONE_NEWNET) == 0 else { throw .system("cannot join network namespace \(path)") }
    }
}
