// Tender.swift: one run of a guest, from the image path to the guest entry.

import CNablaTender
import Glibc

/// What `nabla-run` was asked to do.
public struct TenderConfiguration: Sendable, Equatable {
    /// Path of the guest image (`app.nabla`).
    public var imagePath: String
    /// Arguments after the image, given to the guest as argv.
    public var guestArguments: [String]
    /// The guest's environment (`--env`), in command-line order.
    public var environment: [EnvironmentVariable] = []
    /// Bytes of guest memory; nil for the image's default (64 MiB for a
    /// nabla image, 512 MiB for a Solo5 one).
    public var memorySize: UInt64?
    /// Log each hypercall on stderr.
    public var trace: Bool
    /// Disks, in handle order.
    public var disks: [DiskConfiguration]
    /// Open writable disks with O_DSYNC: each blkwrite is durable when it returns.
    public var diskSync: Bool
    /// TAP interfaces to attach as NICs, in handle order after the disks.
    public var nics: [DeviceSpec]
    /// MAC addresses for NICs: `NAME=MAC`, or `MAC` for the first NIC.
    public var nicMACs: [MACAssignment]
    /// NIC addresses and gateways for the boot info (`--net-ipv4`, `--net-gw`).
    public var nicAddresses: [IPv4Assignment] = []
    public var nicGateways: [GatewayAssignment] = []
    /// `--timeout` and `--core`.
    public var guards: GuardOptions
    /// Solo5 images: `--block-sector-size:NAME=N`, the block size of a disk.
    public var blockSizes: [Solo5BlockSize] = []
    /// `--no-net-offload`: attach NICs without offloads even for a guest
    /// whose features note asks for them (docs/abi.md, "Offloads").
    public var noNetOffload = false

    public init(imagePath: String, guestArguments: [String] = [], memorySize: UInt64? = nil,
                trace: Bool = false, disks: [DiskConfiguration] = [], diskSync: Bool = false,
                nics: [DeviceSpec] = [], nicMACs: [MACAssignment] = [], guards: GuardOptions = GuardOptions(),
                blockSizes: [Solo5BlockSize] = [], environment: [EnvironmentVariable] = [],
                nicAddresses: [IPv4Assignment] = [], nicGateways: [GatewayAssignment] = []) {
        self.nicAddresses = nicAddresses
        self.nicGateways = nicGateways
        self.imagePath = imagePath
        self.guestArguments = guestArguments
        self.environment = environment
        self.memorySize = memorySize
        self.trace = trace
        self.disks = disks
        self.diskSync = diskSync
        self.nics = nics
        self.nicMACs = nicMACs
        self.guards = guards
        self.blockSizes = blockSizes
    }
}

extension TenderConfiguration {
    /// True if this run's NICs get offloads: the image asks for them in its
    /// features note and `--no-net-offload` was not given.
    func netOffload(for image: ELFImage) -> Bool {
        image.features & NABLA_FEATURE_NET_OFFLOAD != 0 && !noNetOffload
    }

    /// The `nabla-run` arguments that ask for this configuration (the
    /// options in ``RunOption``'s order, then the image and its arguments).
    public var commandLine: [String] {
        RunOption.allCases.flatMap { $0.arguments(for: self) } + [imagePath] + guestArguments
    }
}

/// The tender: loads a guest into this process and runs it.
public enum Tender {
    /// The path of executable `name` in this executable's directory, where
    /// nabla-run and nabla-run-cli find each other; nil if there is none.
    public static func companion(_ name: String) -> String? {
        let own = Debugger.executablePath()
        guard let slash = own.lastIndex(of: "/") else { return nil }
        let path = String(own[...slash]) + name
        return Sys.isAccessible(path, X_OK) ? path : nil
    }

    /// The nabla-run to run a guest with: the one beside this executable,
    /// or this executable itself.
    static var runner: String { companion("nabla-run") ?? Debugger.executablePath() }

    /// Replaces this process with `executable`, run with `arguments`
    /// (argv[0] included); returns only if that failed, with why.
    public static func replaceProcess(with executable: String, arguments: [String]) -> Errno {
        Sys.replaceProcess(executable, arguments)
    }

    /// The largest image file nabla-run reads.
    public static let imageSizeLimit: UInt64 = 256 << 20

    /// Validates the image, maps guest memory, prepares the hypercall state
    /// and the filter, closes every descriptor the guest must not reach,
    /// loads the filter and calls the guest. Returns only by throwing, before
    /// the guest runs; after that the process ends with the guest's status.
    public static func run(_ configuration: TenderConfiguration) throws(TenderError) -> Never {
        let path = configuration.imagePath
        let file = try ImageFile(path: path)
        let image: ELFImage
        do {
            image = try ELFImage(bytes: file.bytes)
        } catch {
            throw .invalidImage(path: path, error)
        }
        if case let .solo5SPT(manifest) = image.abi {
            try Solo5SPT.run(configuration, image: image, manifest: manifest, file: file)
        }
        let layout = try GuestLayout(image: image, memorySize: configuration.memorySize ?? GuestLayout.defaultMemory)
        // argv[0] is the image, as in C (ABI version 2).
        let arguments = try CommandLineArea([path] + configuration.guestArguments,
                                            environment: configuration.environment.map { $0.description })
        try GuestMemory.load(image: image, from: file, layout: layout)
        let symbols = ImageSymbols.map(file)
        file.close()

        let devices = try Devices.attach(disks: configuration.disks, taps: configuration.nics, macs: configuration.nicMACs,
                                         diskSync: configuration.diskSync,
                                         netOffload: configuration.netOffload(for: image))
        let netConfig = try NetAddressing.bootEntries(addresses: configuration.nicAddresses, gateways: configuration.nicGateways,
                                                      devices: devices)

        let host = HostState(image: image, imagePath: path, layout: layout, devices: devices,
                             trace: configuration.trace, guards: configuration.guards, symbols: symbols)
        let policy = SeccompPolicy(for: .current(pollfdCount: host.pollfdCount), devices: devices)
        let filter = try policy.compile()

        try GuestMemory.boot(image: image, layout: layout, arguments: arguments, devices: devices, netConfig: netConfig,
                             facts: try .current(), hypercalls: Hypercall.table)
        host.publish()
        if configuration.trace { traceBoot(image: image, layout: layout, devices: devices) }

        try Diagnostics.install(configuration.guards)
        AuditManifest.write(policy: policy)
        closeDescriptors(keeping: [0, 1, 2] + devices.map { UInt32($0.fd) }.sorted())
        try HostState.seal()
        if let milliseconds = configuration.guards.timeoutMilliseconds { try armTimeout(milliseconds: milliseconds) }
        try filter.enter(entry: image.entry, bootInfo: BootInfo.address, stackTop: layout.stack.end)
    }

    /// The policy a run with `configuration`'s devices would install. The
    /// devices are really opened (so the descriptors and every error are the
    /// run's own) and closed again; an image, if one is named, is read and
    /// validated as for a run (its ABI decides the policy); nothing is run.
    public static func policy(for configuration: TenderConfiguration) throws(TenderError) -> SeccompPolicy {
        // Without an image, the policy of a guest that does not ask for offloads.
        var offload = false
        if !configuration.imagePath.isEmpty {
            let file = try ImageFile(path: configuration.imagePath)
            let image: ELFImage
            do {
                // Closed before the devices are opened, as in a run.
                defer { file.close() }
                image = try ELFImage(bytes: file.bytes)
            } catch {
                throw .invalidImage(path: configuration.imagePath, error)
            }
            if case let .solo5SPT(manifest) = image.abi { return try Solo5SPT.policy(for: configuration, manifest: manifest) }
            offload = configuration.netOffload(for: image)
        }
        let devices = try Devices.attach(disks: configuration.disks, taps: configuration.nics, macs: configuration.nicMACs,
                                         diskSync: configuration.diskSync, netOffload: offload)
        defer { for device in devices { Sys.close(device.fd) } }
        _ = try NetAddressing.bootEntries(addresses: configuration.nicAddresses, gateways: configuration.nicGateways,
                                          devices: devices)
        let nics = UInt32(devices.filter { $0.kind == .net }.count)
        return SeccompPolicy(for: .current(pollfdCount: nics), devices: devices)
    }

    /// Checks `configuration` as a run does before it loads the guest: the
    /// image is read and validated, it and the guest's arguments must fit in
    /// guest memory, and the devices are opened (and closed again). Throws
    /// the run's own error, so `--gdb` and `--audit` fail as a plain run
    /// would instead of starting a debugger or a tracer on a run that cannot
    /// start; nothing is run.
    public static func check(_ configuration: TenderConfiguration) throws(TenderError) {
        let path = configuration.imagePath
        let file = try ImageFile(path: path)
        defer { file.close() }
        let image: ELFImage
        do {
            image = try ELFImage(bytes: file.bytes)
        } catch {
            throw .invalidImage(path: path, error)
        }
        if case .solo5SPT = image.abi {
            do throws(TenderError) {
                _ = try Solo5SPT.Layout(image: image, memorySize: configuration.memorySize)
                _ = try Solo5SPT.commandLine(configuration.guestArguments)
            } catch {
                throw .solo5Run(error)
            }
        } else {
            _ = try GuestLayout(image: image, memorySize: configuration.memorySize ?? GuestLayout.defaultMemory)
            _ = try CommandLineArea([path] + configuration.guestArguments)
        }
        _ = try policy(for: configuration)
    }

    /// Closes every descriptor but `keep` (sorted), so that the guest phase
    /// starts with only the descriptors the policy names.
    static func closeDescriptors(keeping keep: [UInt32]) {
        var next: UInt32 = 0
        for fd in keep {
            if fd > next { Sys.closeRange(next, fd - 1) }
            next = fd + 1
        }
        Sys.closeRange(next, UInt32.max)
    }

    private static func traceBoot(image: ELFImage, layout: GuestLayout, devices: [AttachedDevice]) {
        var lines = ["nabla-run: guest memory \(layout.memory) (\(ByteCount(bytes: layout.memory.size)))"]
        for segment in image.segments {
            lines.append("nabla-run: segment \(segment.index) \(hex(segment.address))-\(hex(segment.end)) \(segment.permissions)")
        }
        lines.append("nabla-run: heap \(layout.heap), stack \(layout.stack)")
        lines.append("nabla-run: readable \(layout.readable.map { $0.description }.joined(separator: " ")), writable \(layout.writable.map { $0.description }.joined(separator: " "))")
        for (handle, device) in devices.enumerated() { lines.append(device.traceLine(handle: handle)) }
        lines.append("nabla-run: entry \(hex(image.entry))")
        Sys.writeAll(2, lines.joined(separator: "\n") + "\n")
    }
}
