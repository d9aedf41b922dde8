// Devices.swift: attaching host resources as guest devices.
//
// A device is named, has a kind, and owns one host descriptor that the
// seccomp policy pins its system calls to. Each device is opened here, before
// the policy is built, and described to the guest in the boot info.

import CNablaTender
import Glibc

/// A device as the command line names it: `[NAME=]PATH` (or `[NAME=]TAP`).
public struct DeviceSpec: Hashable, Sendable, CustomStringConvertible {
    /// The name the guest finds it by, or nil for the default.
    public var name: String?
    /// The host path (or interface name).
    public var path: String

    public init(name: String? = nil, path: String) {
        self.name = name
        self.path = path
    }

    /// Parses `NAME=PATH` or `PATH`. The text before the first `=` is a name
    /// unless it contains a `/`: so `./a=b` is the path `./a=b`, and
    /// `my disk=a.img` names a device `my disk`, which attaching refuses
    /// with the naming rule rather than reading it as a path.
    public init(parsing text: String) {
        if let equals = text.firstIndex(of: "="), equals != text.startIndex, !text[..<equals].contains("/") {
            name = String(text[..<equals])
            path = String(text[text.index(after: equals)...])
        } else {
            name = nil
            path = text
        }
    }

    /// 1 to 31 characters from `A-Z a-z 0-9 . _ -`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < Int(NABLA_DEVICE_NAME_MAX) else { return false }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    public var description: String { name.map { "\($0)=\(path)" } ?? path }
}

/// How a disk is attached.
public struct DiskConfiguration: Hashable, Sendable {
    public var spec: DeviceSpec
    public var readOnly: Bool

    public init(_ spec: DeviceSpec, readOnly: Bool = false) {
        self.spec = spec
        self.readOnly = readOnly
    }
}

/// An Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        bytes = (b0, b1, b2, b3, b4, b5)
    }

    /// Parses `02:00:00:aa:bb:cc` (also with `-`); nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).count == 6
            ? text.split(separator: ":", omittingEmptySubsequences: false)
            : text.split(separator: "-", omittingEmptySubsequences: false)
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

/// How a NIC is attached: the TAP interface and, optionally, its MAC.
public struct NetConfiguration: Hashable, Sendable {
    public var spec: DeviceSpec
    public var mac: MACAddress?

    public init(_ spec: DeviceSpec, mac: MACAddress? = nil) {
        self.spec = spec
        self.mac = mac
    }
}

/// The kinds of device.
public enum DeviceKind: UInt32, Sendable {
    case block = 1  // NABLA_DEVICE_BLOCK
    case net = 2    // NABLA_DEVICE_NET
}

/// A device attached for this run: its name, its host descriptor and what
/// the guest is told about it. The handle is its index in the device list.
public struct AttachedDevice: Hashable, Sendable {
    public var name: String
    public var kind: DeviceKind
    /// The host path, for messages and the printed policy.
    public var path: String
    public var fd: Int32
    public var readOnly: Bool
    /// Block: the size in bytes, a multiple of ``sectorSize``.
    public var capacity: UInt64
    /// Net: the NIC's Ethernet address.
    public var mac: MACAddress?

    public static let sectorSize = UInt64(NABLA_SECTOR_SIZE)

    public init(name: String, kind: DeviceKind, path: String, fd: Int32, readOnly: Bool = false, capacity: UInt64 = 0,
                mac: MACAddress? = nil) {
        self.name = name
        self.kind = kind
        self.path = path
        self.fd = fd
        self.readOnly = readOnly
        self.capacity = capacity
        self.mac = mac
    }

    /// The boot info entry the guest sees.
    var guestDescription: nabla_device {
        var device = nabla_device()
        withUnsafeMutableBytes(of: &device.name) { buffer in
            for (index, byte) in name.utf8.prefix(Int(NABLA_DEVICE_NAME_MAX) - 1).enumerated() { buffer[index] = byte }
        }
        device.kind = kind.rawValue
        device.flags = readOnly ? NABLA_DEVICE_READONLY : 0
        switch kind {
        case .block:
            device.u.block = nabla_block_info(sector_size: Self.sectorSize, capacity: capacity / Self.sectorSize)
        case .net:
            device.u.net = nabla_net_info(mac: mac?.bytes ?? (0, 0, 0, 0, 0, 0), reserved: 0, mtu: NABLA_NET_MTU)
        }
        return device
    }

    /// The state the hypercall handlers read.
    var hostDescription: nabla_host_device {
        nabla_host_device(fd: fd, kind: kind.rawValue, flags: readOnly ? NABLA_DEVICE_READONLY : 0, reserved: 0,
                          capacity_bytes: capacity, frame_max: kind == .net ? UInt64(NABLA_NET_FRAME_MAX) : 0)
    }
}

/// Opens host resources as devices.
enum Devices {
    /// Attaches every device: disks first, then NICs; a device's handle is
    /// its index in the result. On failure nothing stays open.
    static func attach(disks: [DiskConfiguration], taps: [DeviceSpec], macs: [DeviceSpec], diskSync: Bool) throws(TenderError) -> [AttachedDevice] {
        let count = disks.count + taps.count
        guard count <= Int(NABLA_MAX_DEVICES) else {
            throw .tooManyDevices(count, limit: Int(NABLA_MAX_DEVICES))
        }
        let diskNames = try names(for: disks.map(\.spec), prefix: "disk", taken: taps.compactMap(\.name))
        let nicNames = try names(for: taps, prefix: "net", taken: diskNames)
        var nics = taps.map { NetConfiguration($0) }
        for assignment in macs {
            guard let target = assignment.name ?? nicNames.first, let index = nicNames.firstIndex(of: target) else {
                throw .unknownMACTarget(assignment.name ?? "net")
            }
            guard let mac = MACAddress(parsing: assignment.path) else { throw .invalidMAC(assignment.path) }
            nics[index].mac = mac
        }
        let attachedDisks = try attachDisks(disks, names: diskNames, sync: diskSync)
        do throws(TenderError) {
            return attachedDisks + (try attachNICs(nics, names: nicNames))
        } catch {
            for device in attachedDisks { Sys.close(device.fd) }
            throw error
        }
    }

    /// Names unnamed devices `PREFIX`, `PREFIX1`, ... in order, and checks
    /// that every name is valid and unique, also against `taken`.
    static func names(for specs: [DeviceSpec], prefix: String, taken: [String] = []) throws(TenderError) -> [String] {
        var names: [String] = []
        var unnamed = 0
        let given = specs.compactMap(\.name) + taken
        for spec in specs {
            var name: String
            if let explicit = spec.name {
                name = explicit
            } else {
                repeat {
                    name = unnamed == 0 ? prefix : "\(prefix)\(unnamed)"
                    unnamed += 1
                } while given.contains(name)
            }
            guard DeviceSpec.isValidName(name) else { throw .invalidDeviceName(name) }
            guard !names.contains(name) && !taken.contains(name) else { throw .duplicateDeviceName(name) }
            names.append(name)
        }
        return names
    }

    /// Attaches each NIC to its TAP interface.
    static func attachNICs(_ nics: [NetConfiguration], names: [String]) throws(TenderError) -> [AttachedDevice] {
        var attached: [AttachedDevice] = []
        do throws(TenderError) {
            for (index, nic) in nics.enumerated() {
                let tap = nic.spec.path
                guard !nics[..<index].contains(where: { $0.spec.path == tap }) else {
                    throw .tapAttachedTwice(tap)
                }
                if let mac = nic.mac, mac.isMulticast { throw .multicastMAC(mac.description) }
                var fd = nabla_tap_attach(tap)
                guard fd >= 0 else { throw .tapCannotAttach(tap, Errno(rawValue: -fd)) }
                if fd < 3 {
                    let moved = nabla_dup_above(fd, 3)
                    Sys.close(fd)
                    guard moved >= 0 else { throw .hostCall("fcntl(F_DUPFD_CLOEXEC) of tap \(tap)", Errno(rawValue: -moved)) }
                    fd = moved
                }
                attached.append(AttachedDevice(name: names[index], kind: .net, path: tap, fd: fd, mac: nic.mac ?? .random()))
                let up = nabla_interface_is_up(tap)
                if up == 0 { throw .tapDown(tap) }
                if up < 0 { throw .tapCannotAttach(tap, Errno(rawValue: -up)) }
            }
        } catch {
            for device in attached { Sys.close(device.fd) }
            throw error
        }
        return attached
    }

    /// Opens, checks and locks each disk. On failure the descriptors opened
    /// so far are closed.
    static func attachDisks(_ disks: [DiskConfiguration], names: [String], sync: Bool) throws(TenderError) -> [AttachedDevice] {
        var attached: [AttachedDevice] = []
        var identities: [(dev: UInt64, ino: UInt64, name: String)] = []
        do throws(TenderError) {
            for (index, disk) in disks.enumerated() {
                let (device, identity) = try attachDisk(disk, name: names[index], sync: sync, attached: identities)
                attached.append(device)
                identities.append((identity.dev, identity.ino, names[index]))
            }
        } catch {
            for device in attached { Sys.close(device.fd) }
            throw error
        }
        return attached
    }

    /// Opens one disk; `attached` identifies the disks opened before it, so
    /// that the same file given twice is named as such rather than as locked.
    private static func attachDisk(_ disk: DiskConfiguration, name: String, sync: Bool,
                                   attached: [(dev: UInt64, ino: UInt64, name: String)]) throws(TenderError) -> (AttachedDevice, (dev: UInt64, ino: UInt64)) {
        let path = disk.spec.path
        var flags = disk.readOnly ? O_RDONLY : O_RDWR
        if sync && !disk.readOnly { flags |= O_DSYNC }
        var fd: Int32
        switch Sys.open(path, flags) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .diskCannotOpen(path: path, error)
        }
        do throws(TenderError) {
            // Keep device descriptors clear of 0-2, so that a tender started
            // with stdout closed can never write console output into a disk.
            if fd < 3 {
                let moved = nabla_dup_above(fd, 3)
                Sys.close(fd)
                guard moved >= 0 else { throw .hostCall("fcntl(F_DUPFD_CLOEXEC) of \(path)", Errno(rawValue: -moved)) }
                fd = moved
            }
            let st: stat
            switch Sys.fstat(fd) {
            case .success(let result): st = result
            case .failure(let error): throw .diskCannotOpen(path: path, error)
            }
            let size: UInt64
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                size = UInt64(st.st_size)
            case S_IFBLK:
                var bytes: UInt64 = 0
                let result = nabla_block_device_size(fd, &bytes)
                guard result == 0 else { throw .diskCannotOpen(path: path, Errno(rawValue: -result)) }
                size = bytes
            case S_IFDIR:
                throw .diskNotAFile(path: path, what: "a directory")
            default:
                throw .diskNotAFile(path: path, what: "not a regular file or block device")
            }
            guard size > 0 else { throw .diskEmpty(path: path) }
            guard size % AttachedDevice.sectorSize == 0 else {
                throw .diskSizeNotSectors(path: path, size: size, sector: AttachedDevice.sectorSize, readOnly: disk.readOnly)
            }
            let identity = (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            if let earlier = attached.first(where: { $0.dev == identity.dev && $0.ino == identity.ino }) {
                throw .diskAttachedTwice(path: path, first: earlier.name, second: name)
            }
            if flock(fd, (disk.readOnly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
                let error = Errno.current
                if error.rawValue == EWOULDBLOCK { throw .diskLocked(path: path, readOnly: disk.readOnly) }
                throw .hostCall("flock of \(path)", error)
            }
            let device = AttachedDevice(name: name, kind: .block, path: path, fd: fd, readOnly: disk.readOnly, capacity: size)
            return (device, identity)
        } catch {
            Sys.close(fd)
            throw error
        }
    }
}
