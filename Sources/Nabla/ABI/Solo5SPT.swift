// Solo5SPT.swift: the Solo5 spt personality. An image whose ABI note says
// Solo5 spt (v0.12, ABI 2) runs under Solo5's conventions instead of
// nabla's: guest memory identity-mapped from 0x10000 to --mem (default 512
// MiB), `struct solo5_spt_boot_info` at 0x11000 with the manifest and the
// command line after it, devices attached to the manifest's entries, and
// the guest's own raw system calls under Solo5's spt policy (nine system
// calls; docs/security.md). What nabla adds stays: the forbidden-syscall
// and fault lines, --timeout, --policy, --inspect, --audit, --gdb.
// docs/solo5.md says what compatibility means.

import CNablaTender
import Glibc

/// Solo5's spt ABI: layout, boot info, devices and policy.
public enum Solo5SPT {
    /// `--mem` when none is given: Solo5's default.
    public static let defaultMemory: UInt64 = 512 << 20
    /// Where guest memory starts.
    static let memoryBase = GuestAddress(SOLO5_SPT_MEM_BASE)
    /// Where the boot info sits (the address the entry receives).
    static let bootInfoAddress = GuestAddress(SOLO5_SPT_BOOT_INFO)
    /// The boot info, manifest and command line area, whole pages.
    static let bootArea = GuestRange(GuestAddress(SOLO5_SPT_BOOT_INFO),
                                     alignUp(GuestAddress(SOLO5_SPT_BOOT_INFO) + UInt64(MemoryLayout<solo5_spt_boot_info>.size)
                                             + UInt64(Solo5Manifest.largestDescriptor) + UInt64(SOLO5_SPT_CMDLINE_SIZE), to: pageSize))

    /// Guest memory for an image: [0x10000, --mem).
    public struct Layout: Sendable, Equatable {
        public var memory: GuestRange
        /// First page past the image (`kernel_end`): heap and stack above it.
        public var imageEnd: GuestAddress

        /// `memorySize` bytes from address 0 (nil: 512 MiB), rounded up to
        /// a page; at least 512 KiB above the image, for heap and stack
        /// (Solo5's bindings refuse to start with less), at most 64 GiB.
        public init(image: ELFImage, memorySize: UInt64?) throws(TenderError) {
            let given = memorySize ?? Solo5SPT.defaultMemory
            // Checked before rounding, which would overflow near UInt64.max.
            guard given <= GuestLayout.memoryLimit else { throw .memoryTooLarge(given: given, limit: GuestLayout.memoryLimit) }
            let size = alignUp(given, to: pageSize)
            let needed = image.highestAddress + UInt64(NABLA_STACK_SIZE)
            guard size >= needed else { throw .memoryTooSmall(given: size, needed: needed) }
            memory = GuestRange(Solo5SPT.memoryBase, size)
            imageEnd = image.highestAddress
        }
    }

    /// Runs a Solo5 spt image. Every error before the guest runs is
    /// reported with Solo5's status for a tender error, 1.
    static func run(_ configuration: TenderConfiguration, image: ELFImage, manifest: Solo5Manifest,
                    file: ImageFile) throws(TenderError) -> Never {
        do throws(TenderError) {
            if !configuration.environment.isEmpty { throw .environmentForSolo5 }
            let layout = try Layout(image: image, memorySize: configuration.memorySize)
            let commandLine = try Self.commandLine(configuration.guestArguments)
            try load(image: image, from: file, layout: layout)
            let symbols = ImageSymbols.map(file)
            file.close()
            let devices = try Solo5Devices.attach(configuration, manifest: manifest)
            let waitSet = try WaitSet(nics: devices.filter { $0.entry.type == .net })
            let policy = Self.policy(devices: devices, waitSet: waitSet)
            let filter = try policy.compile()

            try boot(image: image, layout: layout, manifest: manifest, devices: devices, waitSet: waitSet,
                     commandLine: commandLine)
            var config = nabla_host_config()
            config.mem_start = layout.memory.start
            config.mem_end = layout.memory.end
            config.image_base = image.lowestAddress
            config.image_end = image.highestAddress
            // No guard page below a Solo5 stack: a start past any fault
            // address, so that no fault is called a stack overflow.
            config.guard_start = .max - UInt64(NABLA_GUARD_SIZE) + 1
            config.timeout_ms = configuration.guards.timeoutMilliseconds ?? 0
            config.core_dump = configuration.guards.core ? 1 : 0
            config.tender_fs = nabla_current_fs()
            if let symbols {
                config.symbols = symbols.symbols
                config.symbol_count = symbols.symbolCount
                config.symbol_names = symbols.strings
                config.symbol_names_size = symbols.stringsSize
            }
            HostState(config: config, imagePath: configuration.imagePath).publish()
            if configuration.trace { traceBoot(image: image, layout: layout, devices: devices, waitSet: waitSet) }

            try Diagnostics.install(configuration.guards)
            AuditManifest.write(policy: policy, countsHypercalls: false)
            let keep = [1, 2, UInt32(waitSet.epollfd), UInt32(waitSet.timerfd)] + devices.map { UInt32($0.device.fd) }
            Tender.closeDescriptors(keeping: keep.sorted())
            try HostState.seal()
            if let milliseconds = configuration.guards.timeoutMilliseconds { try armTimeout(milliseconds: milliseconds) }
            try filter.enter(entry: image.entry, bootInfo: bootInfoAddress, stackTop: layout.memory.end)
        } catch {
            throw .solo5Run(error)
        }
    }

    /// The policy a run of a Solo5 image with `configuration` would install
    /// (`--policy`): devices and the wait set are really made, then closed.
    static func policy(for configuration: TenderConfiguration, manifest: Solo5Manifest) throws(TenderError) -> SeccompPolicy {
        do throws(TenderError) {
            let devices = try Solo5Devices.attach(configuration, manifest: manifest)
            defer { for device in devices { Sys.close(device.device.fd) } }
            let waitSet = try WaitSet(nics: devices.filter { $0.entry.type == .net })
            defer { Sys.close(waitSet.epollfd); Sys.close(waitSet.timerfd) }
            return policy(devices: devices, waitSet: waitSet)
        } catch {
            throw .solo5Run(error)
        }
    }

    /// Solo5's spt policy, rule for rule, plus nabla's one diagnostic write:
    /// the console, exit_group, the wait set, the two clocks, the TLS base,
    /// and each device's rules. Tighter than solo5-spt's where Solo5's
    /// bindings always pass the same value: no signal mask for epoll_pwait,
    /// no old value for timerfd_settime, no NIC frame longer than its MTU
    /// and header.
    static func policy(devices: [Solo5Device], waitSet: WaitSet) -> SeccompPolicy {
        let host = HostAddresses.current(pollfdCount: 0)
        var rules = [
            SyscallRule(.write, [ArgumentPin(0, equals: 1, "console")]),
            SyscallRule(.write, [ArgumentPin(0, equals: 2, "stderr"),
                                 ArgumentPin(1, equals: host.diagnosticBuffer, "tender diagnostic buffer"),
                                 ArgumentPin(2, atMost: UInt64(NABLA_DIAG_SIZE), "its size")]),
            SyscallRule(.exitGroup),
            // A signal mask would hold off --timeout, SIGTERM and SIGINT
            // for the whole wait: Solo5's bindings pass none.
            SyscallRule(.epollPwait, [ArgumentPin(0, equals: UInt64(waitSet.epollfd), "epoll set"),
                                      ArgumentPin(4, equals: 0, "no signal mask")]),
            SyscallRule(.timerfdSettime, [ArgumentPin(0, equals: UInt64(waitSet.timerfd), "timerfd"),
                                          ArgumentPin(3, equals: 0, "no old value")]),
            SyscallRule(.clockGettime, [ArgumentPin(0, equals: UInt64(CLOCK_MONOTONIC), "CLOCK_MONOTONIC")]),
            SyscallRule(.clockGettime, [ArgumentPin(0, equals: UInt64(CLOCK_REALTIME), "CLOCK_REALTIME")]),
            SyscallRule(.archPrctl, [ArgumentPin(0, equals: 0x1002, "ARCH_SET_FS")]),
        ]
        for device in devices { rules += device.rules }
        return SeccompPolicy(rules: rules, abiName: "Solo5 spt", callSet: Syscall.solo5Set)
    }

    /// The guest's arguments as Solo5 passes them: one string, joined with spaces.
    static func commandLine(_ arguments: [String]) throws(TenderError) -> [UInt8] {
        let bytes = Array(arguments.joined(separator: " ").utf8)
        guard bytes.count < Int(SOLO5_SPT_CMDLINE_SIZE), !bytes.contains(0) else {
            throw .argumentsTooLong(bytes: bytes.count + 1, limit: Int(SOLO5_SPT_CMDLINE_SIZE))
        }
        return bytes + [0]
    }

    /// The epoll set and timerfd Solo5's yield waits on.
    struct WaitSet {
        var epollfd: Int32
        var timerfd: Int32

        /// Makes both (above fd 2) and adds each NIC with its manifest index.
        init(nics: [Solo5Device]) throws(TenderError) {
            var epoll: Int32 = -1, timer: Int32 = -1
            let result = nabla_solo5_wait_set(&epoll, &timer)
            guard result == 0 else { throw .hostCall("epoll_create1/timerfd_create", Errno(rawValue: -result)) }
            do throws(TenderError) {
                epoll = try Sys.moveAbove2(epoll, what: "the epoll set")
                timer = try Sys.moveAbove2(timer, what: "the timerfd")
                for nic in nics {
                    let added = nabla_epoll_add(epoll, nic.device.fd, UInt64(nic.entry.index))
                    guard added == 0 else { throw .hostCall("epoll_ctl of \(nic.device.path)", Errno(rawValue: -added)) }
                }
            } catch {
                Sys.close(epoll)
                Sys.close(timer)
                throw error
            }
            epollfd = epoll
            timerfd = timer
        }
    }

    /// Maps [0x10000, --mem) and puts the segments in (everything above
    /// the image read-write, as Solo5 has it: heap and stack). Before the
    /// devices are opened, as for a nabla image.
    private static func load(image: ELFImage, from file: ImageFile, layout: Layout) throws(TenderError) {
        try GuestMemory.reserve(layout.memory)
        try GuestMemory.protect(bootArea, PROT_READ | PROT_WRITE)
        try GuestMemory.placeSegments(of: image, from: file)
        try GuestMemory.protect(GuestRange(layout.imageEnd, layout.memory.end), PROT_READ | PROT_WRITE)
    }

    /// Writes the boot info, the filled-in manifest and the command line,
    /// which then become read-only, and gives the segments their own
    /// permissions.
    private static func boot(image: ELFImage, layout: Layout, manifest: Solo5Manifest, devices: [Solo5Device],
                             waitSet: WaitSet, commandLine: [UInt8]) throws(TenderError) {
        let memory = layout.memory

        var bytes = manifest.bytes
        for device in devices { device.fill(&bytes) }
        let manifestAddress = bootInfoAddress + UInt64(MemoryLayout<solo5_spt_boot_info>.size)
        let commandLineAddress = manifestAddress + UInt64(bytes.count)
        copy(bytes, to: manifestAddress)
        copy(commandLine, to: commandLineAddress)
        let info = solo5_spt_boot_info(mem_size: memory.end, kernel_end: layout.imageEnd, cmdline: commandLineAddress,
                                       mft: manifestAddress, epollfd: waitSet.epollfd, timerfd: waitSet.timerfd)
        UnsafeMutablePointer<solo5_spt_boot_info>(bitPattern: UInt(bootInfoAddress))!.initialize(to: info)

        try GuestMemory.protect(bootArea, PROT_READ)
        try GuestMemory.applySegmentPermissions(of: image)
    }

    private static func copy(_ bytes: [UInt8], to address: GuestAddress) {
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(bitPattern: UInt(address))!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    private static func traceBoot(image: ELFImage, layout: Layout, devices: [Solo5Device], waitSet: WaitSet) {
        var lines = ["nabla-run: Solo5 spt image; guest memory \(layout.memory) (\(ByteCount(bytes: layout.memory.end)))"]
        for segment in image.segments {
            lines.append("nabla-run: segment \(segment.index) \(hex(segment.address))-\(hex(segment.end)) \(segment.permissions)")
        }
        lines.append("nabla-run: boot info \(hex(bootInfoAddress)), epoll fd \(waitSet.epollfd), timerfd \(waitSet.timerfd)")
        for device in devices { lines.append("nabla-run: manifest entry \(device.entry.index) '\(device.entry.name)': \(device.traceLine)") }
        lines.append("nabla-run: entry \(hex(image.entry)); the guest makes its own system calls (no hypercalls to trace)")
        Sys.writeAll(2, lines.joined(separator: "\n") + "\n")
    }
}
