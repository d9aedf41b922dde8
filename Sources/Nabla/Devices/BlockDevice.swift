// BlockDevice.swift: a disk. Everything about one: how the command line
// names it (`--disk`, `--disk-readonly`, `--disk-sync`), attaching it (open,
// checks, lock), the seccomp rules it adds, its boot info and host-state
// entries, its --trace line and its errors. NetDevice.swift has the same
// shape; copy it to add a kind (docs/architecture.md, "Adding a device").

import CNablaTender
import Glibc

/// How a disk is attached: `--disk [NAME=]PATH` or `--disk-readonly [NAME=]PATH`.
public struct DiskConfiguration: Hashable, Sendable {
    public var spec: DeviceSpec
    public var readOnly: Bool

    public init(_ spec: DeviceSpec, readOnly: Bool = false) {
        self.spec = spec
        self.readOnly = readOnly
    }
}

/// Why a disk cannot be attached.
public enum BlockDeviceError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, Errno)
    case notAFile(path: String, what: String)
    case empty(path: String)
    case sizeNotSectors(path: String, size: UInt64, sector: UInt64, readOnly: Bool)
    case locked(path: String, readOnly: Bool)
    case attachedTwice(path: String, first: String, second: String)

    public var exitStatus: Int32 {
        switch self {
        case .cannotOpen, .notAFile: ExitStatus.noInput
        case .empty, .sizeNotSectors: ExitStatus.badImage
        case .locked: ExitStatus.inUse
        case .attachedTwice: ExitStatus.usage
        }
    }

    public var description: String {
        switch self {
        case let .cannotOpen(path, error):
            return "cannot open disk \(path): \(error)"
        case let .notAFile(path, what):
            return "disk \(path) is \(what); give a regular file or a block device"
        case let .empty(path):
            return "disk \(path) is empty; make it a multiple of 512 bytes, for example: truncate -s 64M \(path)"
        case let .sizeNotSectors(path, size, sector, readOnly):
            if readOnly {
                return "disk \(path) is \(size) bytes, not a multiple of the \(sector)-byte sector; a read-only disk is used as it is: attach a copy padded to a multiple of \(sector) bytes"
            }
            return "disk \(path) is \(size) bytes, not a multiple of the \(sector)-byte sector; resize it, for example: truncate -s \((size / sector + 1) * sector) \(path)"
        case let .locked(path, readOnly):
            return readOnly
                ? "disk \(path) is in use: another process has it open for writing"
                : "disk \(path) is in use: another nabla-run (or another process holding a lock on it) has it open"
        case let .attachedTwice(path, first, second):
            return "disk \(path) is attached twice (as '\(first)' and '\(second)')"
        }
    }
}

/// The block device kind.
enum BlockDevice: DeviceDriver {
    static let kind = DeviceKind.block
    /// Unnamed disks are `disk`, `disk1`, ...
    static let namePrefix = "disk"
    static let sectorSize = UInt64(NABLA_SECTOR_SIZE)

    /// Opens, checks and locks each disk. On failure the descriptors opened
    /// so far are closed.
    static func attach(_ disks: [DiskConfiguration], names: [String], sync: Bool) throws(TenderError) -> [AttachedDevice] {
        var attached: [AttachedDevice] = []
        var identities: [(dev: UInt64, ino: UInt64, name: String)] = []
        do throws(TenderError) {
            for (index, disk) in disks.enumerated() {
                let (device, identity) = try attach(disk, name: names[index], sync: sync, attached: identities)
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
    private static func attach(_ disk: DiskConfiguration, name: String, sync: Bool,
                               attached: [(dev: UInt64, ino: UInt64, name: String)]) throws(TenderError) -> (AttachedDevice, (dev: UInt64, ino: UInt64)) {
        let path = disk.spec.path
        var flags = disk.readOnly ? O_RDONLY : O_RDWR
        if sync && !disk.readOnly { flags |= O_DSYNC }
        var fd: Int32
        switch Sys.open(path, flags) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .block(.cannotOpen(path: path, error))
        }
        do throws(TenderError) {
            // Keep device descriptors clear of 0-2, so that a tender started
            // with stdout closed can never write console output into a disk.
            fd = try Sys.moveAbove2(fd, what: path)
            let st: stat
            switch Sys.fstat(fd) {
            case .success(let result): st = result
            case .failure(let error): throw .block(.cannotOpen(path: path, error))
            }
            let size: UInt64
            switch st.st_mode & mode_t(S_IFMT) {
            case mode_t(S_IFREG):
                size = UInt64(st.st_size)
            case mode_t(S_IFBLK):
                switch Sys.blockDeviceSize(fd) {
                case .success(let bytes): size = bytes
                case .failure(let error): throw .block(.cannotOpen(path: path, error))
                }
            case mode_t(S_IFDIR):
                throw .block(.notAFile(path: path, what: "a directory"))
            default:
                throw .block(.notAFile(path: path, what: "not a regular file or block device"))
            }
            guard size > 0 else { throw .block(.empty(path: path)) }
            guard size % sectorSize == 0 else {
                throw .block(.sizeNotSectors(path: path, size: size, sector: sectorSize, readOnly: disk.readOnly))
            }
            let identity = (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            if let earlier = attached.first(where: { $0.dev == identity.dev && $0.ino == identity.ino }) {
                throw .block(.attachedTwice(path: path, first: earlier.name, second: name))
            }
            switch Sys.lock(fd, exclusive: !disk.readOnly) {
            case .success: break
            case .failure(let error) where error.rawValue == EWOULDBLOCK: throw .block(.locked(path: path, readOnly: disk.readOnly))
            case .failure(let error): throw .hostCall("flock of \(path)", error)
            }
            let device = AttachedDevice(name: name, kind: .block, path: path, fd: fd, readOnly: disk.readOnly, capacity: size)
            return (device, identity)
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    /// `pread64` (and, if writable, `pwrite64`) on the disk's descriptor: one
    /// rule per transfer size S that fits, each pinning at most S bytes at an
    /// offset where S bytes still end inside the disk (``BlockChunk``).
    static func rules(for device: AttachedDevice) -> [SyscallRule] {
        let meaning = "disk \(device.name) (\(device.path))"
        let calls: [Syscall] = device.readOnly ? [.pread64] : [.pread64, .pwrite64]
        return calls.flatMap { call in
            BlockChunk.sizes(capacity: device.capacity).map { size in
                // count == S, not count <= S: libseccomp 2.5 merges rules
                // that share the fd pin into one tree in which a count <= S
                // of one rule met the position bound of another, so a
                // transfer could end up to 512 KiB past the disk (caught by
                // FilterInterpretationTests). Exact sizes keep each rule whole.
                SyscallRule(call, [ArgumentPin(0, equals: UInt64(device.fd), meaning),
                                   ArgumentPin(2, equals: size),
                                   ArgumentPin(3, atMost: device.capacity - size, "capacity - \(size)")])
            }
        }
    }

    static func describe(_ device: AttachedDevice, in entry: inout nabla_device) {
        entry.u.block = nabla_block_info(sector_size: sectorSize, capacity: device.capacity / sectorSize)
    }

    static func hostEntry(for device: AttachedDevice) -> nabla_host_device {
        nabla_host_device(fd: device.fd, kind: kind.rawValue, flags: device.readOnly ? NABLA_DEVICE_READONLY : 0, reserved: 0,
                          capacity_bytes: device.capacity, frame_max: 0)
    }

    static func traceLine(for device: AttachedDevice) -> String {
        let access = device.readOnly ? "read-only" : "read-write"
        return "disk \(device.path), \(device.capacity / sectorSize) sectors, \(access), fd \(device.fd)"
    }
}

/// The sizes a single block transfer may have: `NABLA_BLOCK_CHUNK_MIN`
/// shifted left by `NABLA_BLOCK_CHUNK_STEP` bits at a time, `NABLA_BLOCK_CHUNKS`
/// of them (every power of two from 512 B to 512 KiB). A disk's seccomp
/// rules allow a transfer of exactly S bytes only at positions up to
/// `capacity - S`, one rule per size (``BlockDevice/rules(for:)``), so the
/// kernel itself refuses anything past the end; the `blkread` and
/// `blkwrite` handlers split requests into such sizes (a request of N
/// sectors takes as many transfers as N has bits set, at most two for
/// 1 MiB).
/// Used under the filter: C constants only, no globals.
public enum BlockChunk {
    /// The `index`th size.
    @inline(__always)
    public static func size(_ index: UInt32) -> UInt64 {
        UInt64(NABLA_BLOCK_CHUNK_MIN) &<< UInt64(NABLA_BLOCK_CHUNK_STEP &* index)
    }

    /// The largest size not above `room`, or 0 if `room` is below the smallest.
    @inline(__always)
    public static func largest(fitting room: UInt64) -> UInt64 {
        var best: UInt64 = 0
        var index: UInt32 = 0
        while index < NABLA_BLOCK_CHUNKS {
            let size = size(index)
            if size <= room { best = size }
            index &+= 1
        }
        return best
    }

    /// The sizes a disk of `capacity` bytes gets rules for.
    public static func sizes(capacity: UInt64) -> [UInt64] {
        (0..<NABLA_BLOCK_CHUNKS).map(size).filter { $0 <= capacity }
    }
}
