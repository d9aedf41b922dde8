// Solo5Devices.swift: Solo5's flavour of block and net devices. The host
// side is nabla's (BlockDevice and NetDevice open, check and lock files and
// TAP interfaces); what differs is everything the guest sees and may do:
// each device is bound to the manifest entry of its name, described in that
// entry (block: capacity and block size; net: MAC and MTU; the host fd;
// attached), and pinned by Solo5's rules (block: count == block size, pos <=
// capacity - block size; net: read and write on the fd, a write at most one
// frame of the interface's MTU).

import CNablaTender
import Glibc

/// `--block-sector-size:NAME=N`: the block size of the disk NAME.
public struct Solo5BlockSize: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var size: UInt16

    public init(name: String, size: UInt16) {
        self.name = name
        self.size = size
    }

    /// Parses `NAME=N`, N a power of two from 512 to 32768 (Solo5's rule; a u16).
    public init?(parsing text: String) {
        let spec = DeviceSpec(parsing: text)
        guard let name = spec.name, let size = UInt16(spec.path), size >= 512, size & (size - 1) == 0 else { return nil }
        self.init(name: name, size: size)
    }

    public var description: String { "\(name)=\(size)" }
}

/// One device attached to a Solo5 manifest entry.
struct Solo5Device {
    var entry: Solo5Manifest.Entry
    /// The host side: descriptor, path, capacity, MAC.
    var device: AttachedDevice
    /// Block: bytes per read or write.
    var blockSize: UInt64 = 0
    /// Net: the TAP interface's MTU.
    var mtu: UInt16 = 0

    /// Net: the largest frame the guest may send, its MTU plus the 14-byte
    /// Ethernet header (Solo5's bindings never write more; a TAP would
    /// pass a longer one to the host).
    var frameLimit: UInt64 { UInt64(mtu) + UInt64(NABLA_ETHER_HEADER) }

    /// Solo5's rules for the device.
    var rules: [SyscallRule] {
        let fd = UInt64(device.fd)
        switch entry.type {
        case .block:
            let meaning = "block \(entry.name) (\(device.path))"
            let calls: [Syscall] = device.readOnly ? [.pread64] : [.pread64, .pwrite64]
            return calls.map { call in
                SyscallRule(call, [ArgumentPin(0, equals: fd, meaning), ArgumentPin(2, equals: blockSize, "block size"),
                                   ArgumentPin(3, atMost: device.capacity - blockSize, "capacity - block size")])
            }
        case .net:
            let meaning = "net \(entry.name) (\(device.path))"
            return [SyscallRule(.read, [ArgumentPin(0, equals: fd, meaning)]),
                    SyscallRule(.write, [ArgumentPin(0, equals: fd, meaning), ArgumentPin(2, atMost: frameLimit, "MTU + header")])]
        case .reserved:
            return []
        }
    }

    /// Writes what the guest is told into the device's entry in `manifest`.
    func fill(_ manifest: inout [UInt8]) {
        let base = Solo5Manifest.headerSize + entry.index * Solo5Manifest.entrySize
        let u = base + MemoryLayout<solo5_mft_entry>.offset(of: \.u)!
        func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, byte) in $0.enumerated() { manifest[offset + i] = byte } }
        }
        switch entry.type {
        case .block:
            store(device.capacity, at: u)
            store(UInt16(blockSize), at: u + 8)
        case .net:
            for (i, byte) in (device.mac?.array ?? []).enumerated() { manifest[u + i] = byte }
            store(mtu, at: u + 6)
        case .reserved:
            return
        }
        store(device.fd, at: base + MemoryLayout<solo5_mft_entry>.offset(of: \.b)!)
        manifest[base + Solo5Manifest.attachedOffset] = 1
    }

    var traceLine: String {
        switch entry.type {
        case .block: "block \(device.path), \(device.capacity / blockSize) blocks of \(blockSize) bytes, fd \(device.fd)"
        case .net: "net \(device.path), mac \(device.mac.map { $0.description } ?? "?"), mtu \(mtu), fd \(device.fd)"
        case .reserved: "reserved"
        }
    }
}

/// Why a device of a Solo5 image cannot be attached.
public enum Solo5DeviceError: Error, Equatable, Sendable, CustomStringConvertible {
    case unnamed(path: String)
    case notDeclared(name: String, type: String, declared: [String])
    case notAttached([String])
    case attachedTwice(String)
    case sizeNotBlocks(path: String, size: UInt64, blockSize: UInt64)
    case notATapDescriptor(String, Errno)
    case unknownSetting(option: String, name: String)

    public var description: String {
        switch self {
        case let .unnamed(path):
            "\(path): a Solo5 image's devices are named by its manifest: give --block:NAME=PATH or --net:NAME=TAP"
        case let .notDeclared(name, type, declared):
            "the image's manifest declares no \(type) device '\(name)'"
                + (declared.isEmpty ? " (it declares none)" : " (it declares: \(declared.joined(separator: ", ")))")
        case let .notAttached(devices):
            "declared in the image's manifest but not attached: \(devices.joined(separator: ", ")); all declared devices must be attached"
        case let .attachedTwice(name):
            "device '\(name)' is attached twice"
        case let .sizeNotBlocks(path, size, blockSize):
            "block device \(path) is \(size) bytes: Backing storage size must be block aligned (\(blockSize) bytes) and at least one block"
        case let .notATapDescriptor(text, error):
            "--net:...=\(text): not an open TAP descriptor (\(error))"
        case let .unknownSetting(option, name):
            "\(option) names '\(name)', but no such device is attached"
        }
    }
}

enum Solo5Devices {
    /// The most devices a Solo5 image can have: its manifest's entries but
    /// the reserved first one (Solo5's own limit, not nabla's 16).
    static let limit = Int(SOLO5_MFT_MAX_ENTRIES) - 1

    /// Attaches every device the configuration names to its manifest entry,
    /// and refuses more than ``limit`` devices, a name the manifest does not
    /// declare and a declared device left unattached. On failure nothing
    /// stays open.
    static func attach(_ configuration: TenderConfiguration, manifest: Solo5Manifest) throws(TenderError) -> [Solo5Device] {
        let count = configuration.disks.count + configuration.nics.count
        guard count <= limit else { throw .tooManyDevices(count, limit: limit) }
        var attached: [Solo5Device] = []
        do throws(TenderError) {
            for disk in configuration.disks {
                let entry = try entry(for: disk.spec, type: .block, in: manifest, attached: attached)
                let device = try BlockDevice.attach([disk], names: [entry.name], sync: configuration.diskSync)[0]
                attached.append(Solo5Device(entry: entry, device: device))
            }
            for nic in configuration.nics {
                let entry = try entry(for: nic, type: .net, in: manifest, attached: attached)
                attached.append(try attachNIC(nic, entry: entry))
            }
            for setting in configuration.blockSizes {
                guard let index = attached.firstIndex(where: { $0.entry.type == .block && $0.entry.name == setting.name }) else {
                    throw .solo5Device(.unknownSetting(option: "--block-sector-size", name: setting.name))
                }
                attached[index].blockSize = UInt64(setting.size)
            }
            for index in attached.indices where attached[index].entry.type == .block {
                if attached[index].blockSize == 0 { attached[index].blockSize = 512 }
                let device = attached[index].device, size = attached[index].blockSize
                guard device.capacity >= size, device.capacity % size == 0 else {
                    throw .solo5Device(.sizeNotBlocks(path: device.path, size: device.capacity, blockSize: size))
                }
            }
            for assignment in configuration.nicMACs {
                let name = assignment.name ?? attached.first(where: { $0.entry.type == .net })?.entry.name ?? "net"
                guard let index = attached.firstIndex(where: { $0.entry.type == .net && $0.entry.name == name }) else {
                    throw .solo5Device(.unknownSetting(option: "--net-mac", name: name))
                }
                guard !assignment.mac.isMulticast else { throw .net(.multicastMAC(assignment.mac.description)) }
                attached[index].device.mac = assignment.mac
            }
            let missing = manifest.devices.filter { declared in !attached.contains { $0.entry == declared } }
            guard missing.isEmpty else {
                throw .solo5Device(.notAttached(missing.map { "'\($0.name)' (\($0.type))" }))
            }
        } catch {
            for device in attached { Sys.close(device.device.fd) }
            throw error
        }
        return attached.sorted { $0.entry.index < $1.entry.index }
    }

    private static func entry(for spec: DeviceSpec, type: Solo5DeviceType, in manifest: Solo5Manifest,
                              attached: [Solo5Device]) throws(TenderError) -> Solo5Manifest.Entry {
        guard let name = spec.name else { throw .solo5Device(.unnamed(path: spec.path)) }
        guard let entry = manifest.entry(named: name, type: type) else {
            throw .solo5Device(.notDeclared(name: name, type: type == .block ? "block" : "net",
                                            declared: manifest.devices.map { "\($0.name) (\($0.type))" }))
        }
        guard !attached.contains(where: { $0.entry == entry }) else { throw .solo5Device(.attachedTwice(name)) }
        return entry
    }

    /// A TAP interface by name, or an open TAP descriptor given as `@FD`
    /// (as a parent such as urunc passes one).
    private static func attachNIC(_ spec: DeviceSpec, entry: Solo5Manifest.Entry) throws(TenderError) -> Solo5Device {
        var device: AttachedDevice
        var interface: String
        if spec.path.hasPrefix("@") {
            guard let fd = Int32(spec.path.dropFirst()), fd > 2 else {
                throw .solo5Device(.notATapDescriptor(spec.path, Errno(rawValue: EBADF)))
            }
            var name = [CChar](repeating: 0, count: 16)
            let result = nabla_tap_name(fd, &name)
            guard result == 0 else { throw .solo5Device(.notATapDescriptor(spec.path, Errno(rawValue: -result))) }
            if case .failure(let error) = Sys.setNonBlocking(fd) { throw .solo5Device(.notATapDescriptor(spec.path, error)) }
            interface = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            device = AttachedDevice(name: entry.name, kind: .net, path: spec.path, fd: fd, mac: .random())
        } else {
            device = try NetDevice.attach([NetConfiguration(spec)], names: [entry.name])[0]
            interface = spec.path
        }
        let mtu = nabla_interface_mtu(interface)
        guard mtu > 0, mtu <= Int32(UInt16.max) else {
            Sys.close(device.fd)
            throw .net(.cannotAttach(interface, Errno(rawValue: mtu < 0 ? -mtu : EINVAL)))
        }
        return Solo5Device(entry: entry, device: device, mtu: UInt16(mtu))
    }
}
