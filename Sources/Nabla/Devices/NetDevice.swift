// NetDevice.swift: a NIC on an existing TAP interface. Everything about
// one: how the command line names it (`--net`, `--net-mac`), attaching it,
// the seccomp rules it adds, its boot info and host-state entries, its
// --trace line and its errors. BlockDevice.swift has the same shape.

import CNablaTender
import Glibc

/// An Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        bytes = (b0, b1, b2, b3, b4, b5)
    }

    /// Parses `02:00:00:aa:bb:cc` (also with `-`); nil otherwise.
    public init?(parsing text: String) {
        let colons = text.split(separator: ":", omittingEmptySubsequences: false)
        let parts = colons.count == 6 ? colons : text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var values: [UInt8] = []
        for part in parts {
            guard part.count == 2, let value = UInt8(part, radix: 16) else { return nil }
            values.append(value)
        }
        self.init(values[0], values[1], values[2], values[3], values[4], values[5])
    }

    /// A random locally administered unicast address.
    public static func random() -> MACAddress {
        var generator = SystemRandomNumberGenerator()
        let b = withUnsafeBytes(of: generator.next() as UInt64) { Array($0) }
        return MACAddress((b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5])
    }

    /// True for a multicast (group) address: the low bit of the first byte.
    public var isMulticast: Bool { bytes.0 & 1 != 0 }

    public var array: [UInt8] { [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5] }

    public var description: String {
        array.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    public static func == (a: MACAddress, b: MACAddress) -> Bool { a.array == b.array }
    public func hash(into hasher: inout Hasher) { hasher.combine(array) }
}

/// `--net-mac [NAME=]MAC`: the MAC of the NIC named NAME (or of the first).
public struct MACAssignment: Hashable, Sendable, CustomStringConvertible {
    /// The NIC's name; nil for the first NIC.
    public var name: String?
    public var mac: MACAddress

    public init(name: String? = nil, mac: MACAddress) {
        self.name = name
        self.mac = mac
    }

    /// Parses `[NAME=]MAC`; nil if the MAC part is not a MAC address.
    public init?(parsing text: String) {
        let spec = DeviceSpec(parsing: text)
        guard let mac = MACAddress(parsing: spec.path) else { return nil }
        self.init(name: spec.name, mac: mac)
    }

    public var description: String { name.map { "\($0)=\(mac)" } ?? mac.description }
}

/// How a NIC is attached: the TAP interface and, optionally, its MAC.
public struct NetConfiguration: Hashable, Sendable {
    public var spec: DeviceSpec
    public var mac: MACAddress?

    public init(_ spec: DeviceSpec, mac: MACAddress? = nil) {
        self.spec = spec
        self.mac = mac
    }
}

/// Why a NIC cannot be attached.
public enum NetDeviceError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotAttach(String, Errno)
    case down(String)
    case attachedTwice(String)
    case multicastMAC(String)
    case unknownMACTarget(String)

    public var exitStatus: Int32 {
        switch self {
        case let .cannotAttach(_, error): error.rawValue == EBUSY ? ExitStatus.inUse : ExitStatus.unavailable
        case .down: ExitStatus.unavailable
        case .attachedTwice, .multicastMAC, .unknownMACTarget: ExitStatus.usage
        }
    }

    public var description: String {
        switch self {
        case let .cannotAttach(tap, error):
            switch error.rawValue {
            case ENODEV:
                return "no network interface '\(tap)': create it with: ip tuntap add dev \(tap) mode tap && ip link set \(tap) up"
            case ENOENT:
                return "cannot attach \(tap): /dev/net/tun is missing (load the tun module: modprobe tun)"
            case EPERM, EACCES:
                return "cannot attach \(tap): \(error) (run as root, or create it for your user: ip tuntap add dev \(tap) mode tap user $USER)"
            case EBUSY:
                return "cannot attach \(tap): it is in use by another process"
            case EINVAL:
                return "cannot attach \(tap): it is not a TAP interface (a TUN device, or another kind of link?)"
            case ENAMETOOLONG:
                return "'\(tap)' is too long for an interface name (at most 15 characters)"
            default:
                return "cannot attach \(tap): \(error)"
            }
        case let .down(tap):
            return "cannot attach \(tap): Network is down (run: ip link set \(tap) up)"
        case let .attachedTwice(tap):
            return "tap \(tap) is attached twice"
        case let .multicastMAC(mac):
            return "--net-mac \(mac) is a multicast address; a NIC needs a unicast one (first byte even)"
        case let .unknownMACTarget(name):
            return "--net-mac names '\(name)', but no --net has that name"
        }
    }
}

/// The network device kind.
enum NetDevice: DeviceDriver {
    static let kind = DeviceKind.net
    /// Unnamed NICs are `net`, `net1`, ...
    static let namePrefix = "net"
    /// The largest frame, header included, that a NIC's netread and netwrite
    /// move: one Ethernet frame of the 1500-byte MTU, or with offloads the
    /// virtio-net header and an Ethernet frame holding an IPv4 packet of up
    /// to 65535 bytes. The filter pins read and write to it.
    static func frameMax(offload: Bool) -> UInt64 {
        UInt64(offload ? NABLA_NET_OFFLOAD_FRAME_MAX : NABLA_NET_FRAME_MAX)
    }

    /// Gives each NIC its MAC from `macs` (by name, or the first NIC).
    static func configure(_ taps: [DeviceSpec], names: [String], macs: [MACAssignment]) throws(TenderError) -> [NetConfiguration] {
        var nics = taps.map { NetConfiguration($0) }
        for assignment in macs {
            guard let target = assignment.name ?? names.first, let index = names.firstIndex(of: target) else {
                throw .net(.unknownMACTarget(assignment.name ?? namePrefix))
            }
            nics[index].mac = assignment.mac
        }
        return nics
    }

    /// Attaches each NIC to its TAP interface, which must exist, be a TAP
    /// and be up; with `offload`, with virtio-net headers, checksum offload
    /// and TSO (docs/abi.md, "Offloads"). On failure the descriptors opened
    /// so far are closed.
    static func attach(_ nics: [NetConfiguration], names: [String], offload: Bool = false) throws(TenderError) -> [AttachedDevice] {
        var attached: [AttachedDevice] = []
        do throws(TenderError) {
            for (index, nic) in nics.enumerated() {
                let tap = nic.spec.path
                guard !nics[..<index].contains(where: { $0.spec.path == tap }) else { throw .net(.attachedTwice(tap)) }
                if let mac = nic.mac, mac.isMulticast { throw .net(.multicastMAC(mac.description)) }
                var fd: Int32
                switch Sys.attachTap(tap, offload: offload) {
                case .success(let opened): fd = opened
                case .failure(let error): throw .net(.cannotAttach(tap, error))
                }
                do throws(TenderError) {
                    fd = try Sys.moveAbove2(fd, what: "tap \(tap)")
                } catch {
                    Sys.close(fd)
                    throw error
                }
                attached.append(AttachedDevice(name: names[index], kind: .net, path: tap, fd: fd, mac: nic.mac ?? .random(),
                                         offload: offload))
                switch Sys.interfaceIsUp(tap) {
                case .success(true): break
                case .success(false): throw .net(.down(tap))
                case .failure(let error): throw .net(.cannotAttach(tap, error))
                }
            }
        } catch {
            for device in attached { Sys.close(device.fd) }
            throw error
        }
        return attached
    }

    /// `read` of exactly one largest frame and `write` of at most one, on the
    /// tap's descriptor: 1514 bytes, or 65559 with offloads (the header
    /// included). Its descriptor also joins the pollfd array that the
    /// `ppoll` rule pins (``HostState``).
    static func rules(for device: AttachedDevice) -> [SyscallRule] {
        let meaning = "tap \(device.name) (\(device.path))"
        let fd = UInt64(device.fd)
        let largest = frameMax(offload: device.offload)
        let what = device.offload ? "largest offload frame, header included" : "largest frame"
        return [
            SyscallRule(.read, [ArgumentPin(0, equals: fd, meaning), ArgumentPin(2, equals: largest, what)]),
            SyscallRule(.write, [ArgumentPin(0, equals: fd, meaning), ArgumentPin(2, atMost: largest, what)]),
        ]
    }

    static func describe(_ device: AttachedDevice, in entry: inout nabla_device) {
        if device.offload { entry.flags |= NABLA_DEVICE_NET_OFFLOAD }
        entry.u.net = nabla_net_info(mac: device.mac?.bytes ?? (0, 0, 0, 0, 0, 0), reserved: 0, mtu: NABLA_NET_MTU)
    }

    static func hostEntry(for device: AttachedDevice) -> nabla_host_device {
        nabla_host_device(fd: device.fd, kind: kind.rawValue, flags: device.offload ? NABLA_DEVICE_NET_OFFLOAD : 0,
                          reserved: 0, capacity_bytes: 0, frame_max: frameMax(offload: device.offload))
    }

    static func traceLine(for device: AttachedDevice) -> String {
        "tap \(device.path), mac \(device.mac.map { $0.description } ?? "?"), mtu \(NABLA_NET_MTU), "
            + (device.offload ? "offloads (virtio-net header, csum, tso4), frames up to \(NABLA_NET_OFFLOAD_FRAME_MAX), " : "")
            + "fd \(device.fd)"
    }
}
