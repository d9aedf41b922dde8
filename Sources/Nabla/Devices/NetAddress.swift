// NetAddress.swift: a NIC's IPv4 configuration given to the tender
// (`--net-ipv4 [NAME=]ADDR/PREFIX`, `--net-gw [NAME=]ADDR`) and carried
// to the guest in the boot info (docs/abi.md, "Network configuration"),
// so that the guest's argv stays exactly the user's.

import CNablaTender

/// An IPv4 address.
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address as a number: a.b.c.d is a << 24 | b << 16 | c << 8 | d.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    /// Parses the dotted quad `a.b.c.d` (each 0-255, no leading `+`); nil otherwise.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.utf8.allSatisfy({ (48...57).contains($0) }),
                  let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    /// True for an address a host can have: not 0/8, loopback, multicast or reserved.
    public var isUnicastHost: Bool {
        let top = value >> 24
        return top != 0 && top != 127 && top < 224
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    public var description: String { bytes.map { String($0) }.joined(separator: ".") }
}

/// `--net-ipv4 [NAME=]ADDR/PREFIX`: the address of the NIC named NAME (or of the first NIC).
public struct IPv4Assignment: Hashable, Sendable, CustomStringConvertible {
    /// The NIC's name; nil for the first NIC.
    public var name: String?
    public var address: IPv4Address
    /// 1 to 32.
    public var prefixLength: UInt8

    public init(name: String? = nil, address: IPv4Address, prefixLength: UInt8) {
        self.name = name
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `[NAME=]ADDR/PREFIX`: a unicast host address that is not the
    /// network or broadcast address of its subnet (for prefixes up to 30),
    /// and a prefix of 1 to 32. Nil otherwise.
    public init?(parsing text: String) {
        let spec = DeviceSpec(parsing: text)
        let halves = spec.path.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let address = IPv4Address(parsing: halves[0]), address.isUnicastHost,
              halves[1].utf8.allSatisfy({ (48...57).contains($0) }), let prefix = UInt8(halves[1]), (1...32).contains(prefix) else { return nil }
        let host = address.value & ~IPv4Assignment.mask(prefix)
        guard prefix > 30 || (host != 0 && host != ~IPv4Assignment.mask(prefix)) else { return nil }
        self.init(name: spec.name, address: address, prefixLength: prefix)
    }

    static func mask(_ prefix: UInt8) -> UInt32 { prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix)) }

    public var description: String { (name.map { $0 + "=" } ?? "") + "\(address)/\(prefixLength)" }
}

/// `--net-gw [NAME=]ADDR`: the default gateway through the NIC named NAME (or the first NIC).
public struct GatewayAssignment: Hashable, Sendable, CustomStringConvertible {
    /// The NIC's name; nil for the first NIC.
    public var name: String?
    public var address: IPv4Address

    public init(name: String? = nil, address: IPv4Address) {
        self.name = name
        self.address = address
    }

    /// Parses `[NAME=]ADDR` with a unicast host address; nil otherwise.
    public init?(parsing text: String) {
        let spec = DeviceSpec(parsing: text)
        guard let address = IPv4Address(parsing: spec.path), address.isUnicastHost else { return nil }
        self.init(name: spec.name, address: address)
    }

    public var description: String { (name.map { $0 + "=" } ?? "") + address.description }
}

/// Why `--net-ipv4` or `--net-gw` cannot be given to the guest.
public enum NetAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The option names a NIC that no `--net` has (or there is no NIC).
    case unknownTarget(option: String, name: String?)
    case assignedTwice(option: String, nic: String)
    case gatewayWithoutAddress(nic: String)
    case gatewayOffLink(GatewayAssignment, IPv4Assignment)
    /// A Solo5 image takes its address on its command line (MirageOS's `--ipv4=`).
    case solo5

    public var exitStatus: Int32 { ExitStatus.usage }

    public var description: String {
        switch self {
        case let .unknownTarget(option, name?): "\(option) names '\(name)', but no --net has that name"
        case let .unknownTarget(option, nil): "\(option) without a NIC: attach one with --net TAP"
        case let .assignedTwice(option, nic): "\(option) is given twice for NIC '\(nic)'"
        case let .gatewayWithoutAddress(nic): "--net-gw for NIC '\(nic)', which has no --net-ipv4 address"
        case let .gatewayOffLink(gateway, address):
            "--net-gw \(gateway.address) is not in the subnet of --net-ipv4 \(address.address)/\(address.prefixLength)"
        case .solo5: "--net-ipv4 and --net-gw are for nabla images; a Solo5 image takes its address as guest arguments (--ipv4=ADDR/PREFIX --ipv4-gateway=ADDR)"
        }
    }
}

enum NetAddressing {
    /// The boot info's `net_config`, one entry per device handle, from the
    /// assignments and the attached devices.
    static func bootEntries(addresses: [IPv4Assignment], gateways: [GatewayAssignment],
                            devices: [AttachedDevice]) throws(TenderError) -> [nabla_net_config] {
        var entries = [nabla_net_config](repeating: nabla_net_config(), count: devices.count)
        var given: [Int: IPv4Assignment] = [:]
        for assignment in addresses {
            let handle = try nicHandle(assignment.name, option: "--net-ipv4", devices: devices)
            guard given[handle] == nil else { throw .netAddress(.assignedTwice(option: "--net-ipv4", nic: devices[handle].name)) }
            given[handle] = assignment
            withUnsafeMutableBytes(of: &entries[handle].ipv4) { $0.copyBytes(from: assignment.address.bytes) }
            entries[handle].prefix = assignment.prefixLength
        }
        var gatewayGiven: Set<Int> = []
        for gateway in gateways {
            let handle = try nicHandle(gateway.name, option: "--net-gw", devices: devices)
            guard let address = given[handle] else { throw .netAddress(.gatewayWithoutAddress(nic: devices[handle].name)) }
            guard gatewayGiven.insert(handle).inserted else { throw .netAddress(.assignedTwice(option: "--net-gw", nic: devices[handle].name)) }
            let mask = IPv4Assignment.mask(address.prefixLength)
            guard gateway.address.value & mask == address.address.value & mask, gateway.address != address.address else {
                throw .netAddress(.gatewayOffLink(gateway, address))
            }
            withUnsafeMutableBytes(of: &entries[handle].gateway) { $0.copyBytes(from: gateway.address.bytes) }
        }
        return entries
    }

    /// The handle of the NIC named `name`, or of the first NIC.
    private static func nicHandle(_ name: String?, option: String, devices: [AttachedDevice]) throws(TenderError) -> Int {
        guard let handle = devices.firstIndex(where: { $0.kind == .net && (name == nil || $0.name == name) }) else {
            throw .netAddress(.unknownTarget(option: option, name: name))
        }
        return handle
    }
}
