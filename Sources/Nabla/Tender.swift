// Tender.swift: one run of a guest, from the image path to the guest entry.

import CNablaTender
import Glibc

/// What `nabla-run` was asked to do.
public struct TenderConfiguration: Sendable {
    /// Path of the guest image (`app.nabla`).
    public var imagePath: String
    /// Arguments after the image, given to the guest as argv.
    public var guestArguments: [String]
    /// Bytes of guest memory.
    public var memorySize: UInt64
    /// Log each hypercall on stderr.
    public var trace: Bool
    /// Disks, in handle order.
    public var disks: [DiskConfiguration]
    /// Open writable disks with O_DSYNC: each blkwrite is durable when it returns.
    public var diskSync: Bool
    /// TAP interfaces to attach as NICs, in handle order after the disks.
    public var nics: [DeviceSpec]
    /// MAC addresses for NICs: `NAME=MAC`, or `MAC` for the first NIC.
    public var nicMACs: [DeviceSpec]
    /// `--timeout` and `--core`.
    public var guards: GuardOptions

    public init(imagePath: String, guestArguments: [String] = [], memorySize: UInt64 = GuestLayout.defaultMemory,
                trace: Bool = false, disks: [DiskConfiguration] = [], diskSync: Bool = false,
                nics: [DeviceSpec] = [], nicMACs: [DeviceSpec] = [], guards: GuardOptions = GuardOptions()) {
        self.imagePath = imagePath
        self.guestArguments = guestArguments
        self.memorySize = memorySize
        self.trace = trace
        self.disks = disks
        self.diskSync = diskSync
        self.nics = nics
        self.nicMACs = nicMACs
        self.guards = guards
    }
}

extension TenderConfiguration {
    /// The `nabla-run` arguments that ask for this configuration.
    public var commandLine: [String] {
        var arguments = ["--mem", String(memorySize)]
        if trace { arguments.append("--trace") }
        for disk in disks { arguments += [disk.readOnly ? "--disk-readonly" : "--disk", disk.spec.name.map { "\($0)=" } .map { $0 + disk.spec.path } ?? disk.spec.path] }
        if diskSync { arguments.append("--disk-sync") }
        if let milliseconds = guards.timeoutMilliseconds { arguments += ["--timeout", "\(Double(milliseconds) / 1000)"] }
        if guards.core { arguments.append("--core") }
        for nic in nics { arguments += ["--net", nic.description] }
        for mac in nicMACs { arguments += ["--net-mac", mac.description] }
        return arguments + [imagePath] + guestArguments
    }
}

/// The tender: loads a guest into this process and runs it.
public enum Tender {
    /// The largest image file nabla-run reads.
    public static let imageSizeLimit: UInt64 = 256 << 20

    /// Validates the image, maps guest memory, prepares the hypercall state
    /// and the filter, closes every descriptor the guest must not reach,
    /// loads the filter and calls the guest. Returns only by throwing, before
    /// the guest runs; after that the process ends with the guest's status.
    public static func run(_ configuration: TenderConfiguration) throws(TenderError) -> Never {
        let path = configuration.imagePath
        let file = try readImage(path)
        let image: ELFImage
        do {
            image = try ELFImage(bytes: file)
        } catch {
            throw .invalidImage(path: path, error)
        }
        let layout = try GuestLayout(image: image, memorySize: configuration.memorySize)
        // argv[0] is the image, as in C (ABI version 2).
        let arguments = try CommandLineArea([path] + configuration.guestArguments)

        let devices = try Devices.attach(disks: configuration.disks, taps: configuration.nics, macs: configuration.nicMACs,
                                         diskSync: configuration.diskSync)

        let host = nabla_host()!
        host.pointee.console_fd = 1
        host.pointee.device_count = UInt32(devices.count)
        var pollfds: UInt32 = 0
        for (handle, device) in devices.enumerated() {
            nabla_host_device(UInt32(handle))!.pointee = device.hostDescription
            if device.kind == .net {
                nabla_host_set_pollfd(pollfds, device.fd, UInt32(handle))
                pollfds += 1
            }
        }
        host.pointee.pollfd_count = pollfds
        let policy = SeccompPolicy(for: .current, devices: devices, core: configuration.guards.core)
        let filter = try policy.compile()

        try GuestMemory.load(image: image, from: file, layout: layout, arguments: arguments,
                                            devices: devices, hypercalls: Hypercall.table)
        host.pointee.mem_start = layout.memory.start
        host.pointee.mem_end = layout.memory.end
        host.pointee.image_base = image.lowestAddress
        host.pointee.image_end = image.highestAddress
        host.pointee.guard_start = layout.guardPage.start
        host.pointee.core_dump = configuration.guards.core ? 1 : 0
        withUnsafeMutableBytes(of: &host.pointee.image_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            buffer[bytes.count] = 0
        }
        host.pointee.readable_count = UInt32(layout.readable.count)
        for (index, range) in layout.readable.enumerated() {
            nabla_host_readable(UInt32(index))!.pointee = nabla_host_range(start: range.start, end: range.end)
        }
        host.pointee.writable_count = UInt32(layout.writable.count)
        for (index, range) in layout.writable.enumerated() {
            nabla_host_writable(UInt32(index))!.pointee = nabla_host_range(start: range.start, end: range.end)
        }
        host.pointee.trace = configuration.trace ? 1 : 0
        if configuration.trace { traceBoot(image: image, layout: layout, devices: devices) }

        try Diagnostics.install(configuration.guards)
        Auditor.writeManifest(policy: policy)
        closeDescriptors(keeping: [1, 2] + devices.map { UInt32($0.fd) }.sorted())
        if let milliseconds = configuration.guards.timeoutMilliseconds { try armTimeout(milliseconds: milliseconds) }
        try filter.enter(entry: image.entry, bootInfo: BootInfo.address, stackTop: layout.stack.end)
    }

    /// The policy a run with `configuration`'s devices would install. The
    /// devices are really opened (so the descriptors and every error are the
    /// run's own) and closed again; nothing is run.
    public static func policy(for configuration: TenderConfiguration) throws(TenderError) -> SeccompPolicy {
        let devices = try Devices.attach(disks: configuration.disks, taps: configuration.nics, macs: configuration.nicMACs,
                                         diskSync: configuration.diskSync)
        defer { for device in devices { Sys.close(device.fd) } }
        let host = nabla_host()!
        host.pointee.pollfd_count = UInt32(devices.filter { $0.kind == .net }.count)
        return SeccompPolicy(for: .current, devices: devices, core: configuration.guards.core)
    }

    /// Reads the whole image, refusing what is not a regular file of a
    /// sensible size.
    static func readImage(_ path: String) throws(TenderError) -> [UInt8] {
        let fd: Int32
        switch Sys.open(path, O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .cannotOpen(path: path, error)
        }
        defer { Sys.close(fd) }
        let size: UInt64
        switch Sys.fstat(fd) {
        case .success(let st):
            guard st.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
            size = UInt64(st.st_size)
        case .failure(let error):
            throw .cannotRead(path: path, error)
        }
        guard size <= imageSizeLimit else { throw .imageTooLarge(path: path, size: size, limit: imageSizeLimit) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = bytes.withUnsafeMutableBytes { Sys.preadAll(fd, into: $0, at: 0) }
        if case .failure(let error) = read { throw .cannotRead(path: path, error) }
        return bytes
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
        lines.append("nabla-run: readable \(layout.readable.map(\.description).joined(separator: " ")), writable \(layout.writable.map(\.description).joined(separator: " "))")
        for (handle, device) in devices.enumerated() {
            switch device.kind {
            case .block:
                let access = device.readOnly ? "read-only" : "read-write"
                lines.append("nabla-run: device \(handle) '\(device.name)': disk \(device.path), \(device.capacity / AttachedDevice.sectorSize) sectors, \(access), fd \(device.fd)")
            case .net:
                lines.append("nabla-run: device \(handle) '\(device.name)': tap \(device.path), mac \(device.mac.map(\.description) ?? "?"), mtu \(NABLA_NET_MTU), fd \(device.fd)")
            }
        }
        lines.append("nabla-run: entry \(hex(image.entry))")
        Sys.writeAll(2, lines.joined(separator: "\n") + "\n")
    }
}
