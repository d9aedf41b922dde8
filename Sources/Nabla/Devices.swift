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
    /// only if it is a valid device name; so `./a=b` is the path `./a=b`.
    public init(parsing text: String) {
        if let equals = text.firstIndex(of: "="), Self.isValidName(String(text[..<equals])) {
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

    public static let sectorSize = UInt64(NABLA_SECTOR_SIZE)

    public init(name: String, kind: DeviceKind, path: String, fd: Int32, readOnly: Bool, capacity: UInt64) {
        self.name = name
        self.kind = kind
        self.path = path
        self.fd = fd
        self.readOnly = readOnly
        self.capacity = capacity
    }

    /// The boot info entry the guest sees.
    var guestDescription: nabla_device {
        var device = nabla_device()
        withUnsafeMutableBytes(of: &device.name) { buffer in
            for (index, byte) in name.utf8.prefix(Int(NABLA_DEVICE_NAME_MAX) - 1).enumerated() { buffer[index] = byte }
        }
        device.kind = kind.rawValue
        device.flags = readOnly ? NABLA_DEVICE_READONLY : 0
        if kind == .block {
            device.u.block = nabla_block_info(sector_size: Self.sectorSize, capacity: capacity / Self.sectorSize)
        }
        return device
    }

    /// The state the hypercall handlers read.
    var hostDescription: nabla_host_device {
        nabla_host_device(fd: fd, kind: kind.rawValue, flags: readOnly ? NABLA_DEVICE_READONLY : 0, reserved: 0,
                          capacity_bytes: capacity, frame_max: 0)
    }
}

/// Opens host resources as devices.
enum Devices {
    /// Names unnamed disks `disk`, `disk1`, ... in order, and checks that
    /// every name is valid and unique and that there are not too many.
    static func names(for disks: [DiskConfiguration]) throws(TenderError) -> [String] {
        guard disks.count <= Int(NABLA_MAX_DEVICES) else {
            throw .tooManyDevices(disks.count, limit: Int(NABLA_MAX_DEVICES))
        }
        var names: [String] = []
        var unnamed = 0
        for disk in disks {
            var name: String
            if let given = disk.spec.name {
                name = given
            } else {
                name = unnamed == 0 ? "disk" : "disk\(unnamed)"
                unnamed += 1
                while disks.contains(where: { $0.spec.name == name }) {
                    name = "disk\(unnamed)"
                    unnamed += 1
                }
            }
            guard DeviceSpec.isValidName(name) else { throw .invalidDeviceName(name) }
            guard !names.contains(name) else { throw .duplicateDeviceName(name) }
            names.append(name)
        }
        return names
    }

    /// Opens, checks and locks each disk. On failure the descriptors opened
    /// so far are closed.
    static func attachDisks(_ disks: [DiskConfiguration], sync: Bool) throws(TenderError) -> [AttachedDevice] {
        let names = try names(for: disks)
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
                throw .diskSizeNotSectors(path: path, size: size, sector: AttachedDevice.sectorSize)
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
