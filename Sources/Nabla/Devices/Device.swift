// Device.swift: what every device kind shares. A device is named, has a
// kind, and owns one host descriptor that the seccomp policy pins its system
// calls to. Each kind is one file (BlockDevice.swift, NetDevice.swift) with
// a type conforming to DeviceDriver; `Devices.attach` names the devices,
// asks each kind to attach its own, and returns them in handle order. The
// policy, the boot info, the host state and --trace ask the device's driver.

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
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    public var description: String { name.map { "\($0)=\(path)" } ?? path }
}

/// The kinds of device.
public enum DeviceKind: UInt32, Sendable {
    case block = 1  // NABLA_DEVICE_BLOCK
    case net = 2    // NABLA_DEVICE_NET

    /// The one place that maps a kind to the type that implements it.
    var driver: DriverEntry {
        switch self {
        case .block: DriverEntry(BlockDevice.self)
        case .net: DriverEntry(NetDevice.self)
        }
    }
}

/// A kind's ``DeviceDriver`` functions as values: the tender's Embedded Swift
/// build has no existential metatypes (`any DeviceDriver.Type`).
struct DriverEntry {
    let rules: (AttachedDevice) -> [SyscallRule]
    let describe: (AttachedDevice, inout nabla_device) -> Void
    let hostEntry: (AttachedDevice) -> nabla_host_device
    let traceLine: (AttachedDevice) -> String

    init<Driver: DeviceDriver>(_: Driver.Type) {
        rules = Driver.rules(for:)
        describe = Driver.describe(_:in:)
        hostEntry = Driver.hostEntry(for:)
        traceLine = Driver.traceLine(for:)
    }
}

/// What a kind of device provides once attached: one conforming type per
/// kind, in its own file, next to how that kind is attached.
protocol DeviceDriver {
    static var kind: DeviceKind { get }
    /// The seccomp rules the device adds to the guest-phase policy.
    static func rules(for device: AttachedDevice) -> [SyscallRule]
    /// Fills the kind's part of the device's boot info entry (`u`).
    static func describe(_ device: AttachedDevice, in entry: inout nabla_device)
    /// The device's entry in the sealed host state the handlers read.
    static func hostEntry(for device: AttachedDevice) -> nabla_host_device
    /// The device in `--trace`'s boot lines, after its handle and name.
    static func traceLine(for device: AttachedDevice) -> String
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
    /// Block: the size in bytes, a multiple of `NABLA_SECTOR_SIZE`.
    public var capacity: UInt64
    /// Net: the NIC's Ethernet address.
    public var mac: MACAddress?
    /// Net: frames carry a virtio-net header and may be up to
    /// NABLA_NET_OFFLOAD_FRAME_MAX bytes (docs/abi.md, "Offloads").
    public var offload: Bool


    public init(name: String, kind: DeviceKind, path: String, fd: Int32, readOnly: Bool = false, capacity: UInt64 = 0,
                mac: MACAddress? = nil, offload: Bool = false) {
        self.name = name
        self.kind = kind
        self.path = path
        self.fd = fd
        self.readOnly = readOnly
        self.capacity = capacity
        self.mac = mac
        self.offload = offload
    }

    /// The seccomp rules this device adds.
    var rules: [SyscallRule] { kind.driver.rules(self) }

    /// The boot info entry the guest sees.
    var guestDescription: nabla_device {
        var device = nabla_device()
        withUnsafeMutableBytes(of: &device.name) { buffer in
            for (index, byte) in name.utf8.prefix(Int(NABLA_DEVICE_NAME_MAX) - 1).enumerated() { buffer[index] = byte }
        }
        device.kind = kind.rawValue
        device.flags = readOnly ? NABLA_DEVICE_READONLY : 0
        kind.driver.describe(self, &device)
        return device
    }

    /// The state the hypercall handlers read.
    var hostDescription: nabla_host_device { kind.driver.hostEntry(self) }

    /// `--trace`'s line for this device as handle `handle`.
    func traceLine(handle: Int) -> String {
        "nabla-run: device \(handle) '\(name)': \(kind.driver.traceLine(self))"
    }
}

/// Opens host resources as devices.
enum Devices {
    /// Attaches every device: disks first, then NICs; a device's handle is
    /// its index in the result. On failure nothing stays open.
    /// `netOffload`: NICs with virtio-net headers and offloads (NetDevice).
    static func attach(disks: [DiskConfiguration], taps: [DeviceSpec], macs: [MACAssignment], diskSync: Bool,
                       netOffload: Bool = false) throws(TenderError) -> [AttachedDevice] {
        let count = disks.count + taps.count
        guard count <= Int(NABLA_MAX_DEVICES) else {
            throw .tooManyDevices(count, limit: Int(NABLA_MAX_DEVICES))
        }
        let diskNames = try names(for: disks.map { $0.spec }, prefix: BlockDevice.namePrefix, taken: taps.compactMap { $0.name })
        let nicNames = try names(for: taps, prefix: NetDevice.namePrefix, taken: diskNames)
        let nics = try NetDevice.configure(taps, names: nicNames, macs: macs)
        let attachedDisks = try BlockDevice.attach(disks, names: diskNames, sync: diskSync)
        do throws(TenderError) {
            return attachedDisks + (try NetDevice.attach(nics, names: nicNames, offload: netOffload))
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
        let given = specs.compactMap { $0.name } + taken
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
}
