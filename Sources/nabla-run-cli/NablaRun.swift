// nabla-run-cli: the full command line of the tender, with ArgumentParser:
// help, version, completion scripts, --policy, --inspect, --audit, --gdb,
// and every message about a bad command line. nabla-run (Sources/nabla-run)
// runs ordinary command lines itself and executes this binary, installed
// beside it, for everything else, with the same arguments.

import ArgumentParser
import Glibc
import Nabla


@main
struct NablaRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nabla-run",
        abstract: "Run a nabla unikernel (or a Solo5 spt unikernel) as a Linux process, behind a seccomp filter.",
        discussion: """
            The guest image (app.nabla) is a static x86_64 ELF linked with the nabla \
            library OS: it runs behind a filter of seven system calls. Arguments after \
            the image go to the guest. An image built for Solo5's spt target runs under \
            Solo5's own rules and policy (nine system calls), and nabla-run also takes \
            solo5-spt's spellings for it: --mem=MiB, --net:NAME=TAP, --net:NAME=@FD, \
            --net-mac:NAME=MAC, --block:NAME=PATH, --block-sector-size:NAME=N, and -- \
            before the image (docs/solo5.md).

            Disks are files (or block devices) whose size is a multiple of 512 bytes, \
            for example one made with `truncate -s 64M disk.img`. Each is locked while \
            the guest runs: a second nabla-run on the same disk fails.

            Exit status: the guest's own status (what its entry returns, modulo 256); \
            64 for a bad command line; 65 for an image that is not a valid nabla guest \
            or does not fit in --mem, or a disk of a bad size; 66 for an image or disk \
            that cannot be opened; 69 when the host cannot load a seccomp filter; 71 \
            when setting up guest memory fails, or an audit report cannot be written; 75 \
            when a disk or TAP interface is in use; 124 when --timeout expires; 128+N when \
            the guest faults with signal N (139 SIGSEGV, 135 SIGBUS, 132 SIGILL, 136 \
            SIGFPE, 133 SIGTRAP); 159 when the guest makes a forbidden system call. 69 also when a TAP \
            interface is missing, down or not a TAP. For a Solo5 image, as solo5-spt: 255 when \
            the guest aborts, and 1 for an error of the tender's once the image is known.
            """,
        version: "0.1.0"
    )

    @Option(name: .long, help: ArgumentHelp("Guest memory: a bare number is MiB; K, M and G suffixes are powers of 1024 (default 64M for a nabla image, 512M for a Solo5 image; at most 64G).", valueName: "size"),
            transform: NablaRun.parseSize)
    var mem: ByteCount?

    @Flag(name: .long, help: "Print each hypercall with its arguments and result on stderr.")
    var trace = false

    @Option(name: .long, help: ArgumentHelp(
        "Attach a file or block device as a read-write disk. Unnamed disks are called disk, disk1, ... in order (all --disk, then all --disk-readonly).",
        valueName: "[name=]path"), completion: .file(), transform: DeviceSpec.init(parsing:))
    var disk: [DeviceSpec] = []

    @Option(name: .customLong("disk-readonly"), help: ArgumentHelp(
        "Attach a file or block device as a read-only disk.", valueName: "[name=]path"), completion: .file(),
            transform: DeviceSpec.init(parsing:))
    var diskReadOnly: [DeviceSpec] = []

    @Flag(name: .customLong("disk-sync"), help: "Make each blkwrite durable before it returns (opens disks with O_DSYNC).")
    var diskSync = false

    @Option(name: .long, help: ArgumentHelp(
        "Attach an existing TAP interface as a NIC (create one with: ip tuntap add dev tap0 mode tap && ip link set tap0 up). Unnamed NICs are called net, net1, ...",
        valueName: "[name=]tap"), transform: DeviceSpec.init(parsing:))
    var net: [DeviceSpec] = []

    @Flag(name: .customLong("no-net-offload"), help: "Attach NICs without offloads (virtio-net headers, TSO, checksums), even if the image asks for them.")
    var noNetOffload = false

    @Option(name: .customLong("net-mac"), help: ArgumentHelp(
        "Set a NIC's MAC address (without a name: the first NIC's). Default: a random locally administered address.",
        valueName: "[name=]mac"), transform: NablaRun.parseMACAssignment)
    var netMAC: [MACAssignment] = []

    @Option(name: .customLong("net-ipv4"), help: ArgumentHelp(
        "Give a NIC (without a name: the first) an IPv4 address and prefix, passed to the guest in the boot info (docs/abi.md); an address given on the guest's own command line wins (guests/NET.md).",
        valueName: "[name=]addr/prefix"), transform: NablaRun.parseIPv4Assignment)
    var netIPv4: [IPv4Assignment] = []

    @Option(name: .customLong("net-gw"), help: ArgumentHelp(
        "Give a NIC (without a name: the first) a default gateway in its --net-ipv4 subnet, passed in the boot info.",
        valueName: "[name=]addr"), transform: NablaRun.parseGatewayAssignment)
    var netGw: [GatewayAssignment] = []

    @Option(name: .long, help: ArgumentHelp("Stop the guest after this many seconds (exit status 124).", valueName: "seconds"),
            transform: NablaRun.parseTimeout)
    var timeout: UInt64?

    @Option(name: .customLong("block-sector-size"), help: ArgumentHelp(
        "Solo5 images: the block size of disk NAME, a power of two from 512 (the default) to 32768 (solo5-spt: --block-sector-size:NAME=N).",
        valueName: "name=n"), transform: NablaRun.parseBlockSize)
    var blockSectorSize: [Solo5BlockSize] = []

    @Option(name: .long, help: ArgumentHelp(
        "Add KEY=VALUE to the guest's environment (getenv); repeatable. The guest starts with no other variables.",
        valueName: "key=value"), transform: NablaRun.parseEnvironmentVariable)
    var env: [EnvironmentVariable] = []

    @Flag(name: .long, help: "When the guest faults, dump core after the fault line (see docs/debugging.md).")
    var core = false

    @Flag(name: .long, help: "Run the guest under gdb with its symbols loaded, stopped just before the guest's entry.")
    var gdb = false

    @Flag(name: .long, help: "Print the seccomp policy a run with these options (and this image, if given) would install; devices are opened, nothing runs.")
    var policy = false

    @Flag(name: .long, help: "Describe the image without running it: segments, entry, ABI version, memory, raw syscall instructions.")
    var inspect = false

    @Flag(name: .long, help: "Run the guest traced and report its system calls by phase, checked against the policy.")
    var audit = false

    @Flag(name: .customLong("audit-native"), help: "Audit a native command instead: nabla-run --audit-native [options] -- CMD ARGS...")
    var auditNative = false

    @Flag(name: .customLong("audit-kernel"), help: "With an audit: also count the kernel functions reached (ftrace; needs root).")
    var auditKernel = false

    @Flag(name: .long, help: "With an audit: write the report as JSON (docs/audit.md).")
    var json = false

    @Option(name: .customLong("audit-out"), help: ArgumentHelp("With an audit: write the report to this file, not stderr.", valueName: "file"),
            completion: .file())
    var auditOut: String?

    @Option(name: .customLong("seccomp-profile"), help: ArgumentHelp(
        "With an audit: also write an OCI seccomp profile (for runc, crun, podman) that allows exactly the calls the run made (docs/audit.md).",
        valueName: "file"), completion: .file())
    var seccompProfile: String?

    @Option(name: .long, help: ArgumentHelp(
        "With --seccomp-profile: merge this profile (from an earlier run) into the one written; repeatable.", valueName: "file"),
            completion: .file())
    var merge: [String] = []

    @Argument(help: ArgumentHelp("The guest image (with --audit-native: the command).", valueName: "app.nabla"),
              completion: .file(extensions: ["nabla"]))
    var image: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the guest.", valueName: "guest-args"))
    var guestArguments: [String] = []

    /// Parses and runs like `ParsableCommand.main()`, but reports a bad
    /// command line in one line on stderr rather than with the usage text.
    static func main() {
        if let configuration = RunOption.parseProcessArguments() {
            launch(configuration)
        }
        do {
            try rejectNegativeValues(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(Solo5Option.translated(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            let status = exitCode(for: error)
            if status.isSuccess { exit(withError: error) }  // --help, --version
            let message = self.message(for: error)
            if !message.isEmpty {
                StandardError.write("nabla-run: \(message) (see 'nabla-run --help')\n")
            }
            exit(withError: ExitCode(status.rawValue))
        }
    }

    /// ArgumentParser reads `--mem -5M` as `--mem` without a value followed
    /// by an unknown option `-5M`, and says "Missing value". A number with a
    /// minus sign after an option that takes a value is a bad value: say so,
    /// with the option's own message. Only options before the image count.
    static func rejectNegativeValues(_ arguments: [String]) throws {
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-"), arguments[index] != "--" {
            if let option = RunOption(spelling: arguments[index]), option.takesValue, index + 1 < arguments.count {
                let value = arguments[index + 1]
                if value.count > 1, value.hasPrefix("-"), value.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true {
                    switch option {
                    case .mem: _ = try parseSize(value)
                    case .timeout: _ = try parseTimeout(value)
                    default: break
                    }
                }
                index += 2
            } else {
                index += 1
            }
        }
    }

    /// `value`, or the ArgumentParser error that says `message` if it is nil.
    private static func validated<T>(_ value: T?, _ message: @autoclosure () -> String) throws -> T {
        guard let value else { throw ValidationError(message()) }
        return value
    }

    static func parseMACAssignment(_ text: String) throws -> MACAssignment {
        try validated(MACAssignment(parsing: text),
                      "'\(DeviceSpec(parsing: text).path)' is not a MAC address: write six hex bytes, such as 02:00:00:00:00:01")
    }

    /// `--net-ipv4 [NAME=]ADDR/PREFIX`.
    static func parseIPv4Assignment(_ text: String) throws -> IPv4Assignment {
        try validated(IPv4Assignment(parsing: text),
                      "'\(DeviceSpec(parsing: text).path)' is not ADDR/PREFIX: give a unicast host address (not its subnet's network or broadcast address) and a prefix of 1 to 32, such as 10.0.0.2/24")
    }

    /// `--net-gw [NAME=]ADDR`.
    static func parseGatewayAssignment(_ text: String) throws -> GatewayAssignment {
        try validated(GatewayAssignment(parsing: text),
                      "'\(DeviceSpec(parsing: text).path)' is not a gateway address: give a unicast IPv4 address, such as 10.0.0.1")
    }

    /// `--env KEY=VALUE`: a non-empty key without `=`.
    static func parseEnvironmentVariable(_ text: String) throws -> EnvironmentVariable {
        try validated(EnvironmentVariable(parsing: text),
                      "'\(text)' is not KEY=VALUE: give a variable such as --env LANG=C.UTF-8")
    }

    /// `--block-sector-size NAME=N`: a power of two from 512 to 32768.
    static func parseBlockSize(_ text: String) throws -> Solo5BlockSize {
        try validated(Solo5BlockSize(parsing: text),
                      "'\(text)' is not NAME=N: Block size must be a multiple of 2 greater than or equal 512 (at most 32768)")
    }

    /// Seconds, as an integer or a decimal, to milliseconds: at least 1 ms,
    /// at most a year.
    static func parseTimeout(_ text: String) throws -> UInt64 {
        try validated(GuardOptions.timeoutMilliseconds(parsing: text),
                      "'\(text)' is not a timeout: give seconds, such as 10 or 0.5 (at most 31536000)")
    }

    static func parseSize(_ text: String) throws -> ByteCount {
        try validated(ByteCount(parsingMemory: text), "'\(text)' is not a size: a bare number is MiB; K, M and G suffixes are powers of 1024 (such as 64M or 1G)")
    }

    /// The configuration this command line asks for.
    var configuration: TenderConfiguration {
        var result = TenderConfiguration(imagePath: image ?? "", guestArguments: guestArguments, memorySize: mem?.bytes, trace: trace,
                            disks: disk.map { DiskConfiguration($0) } + diskReadOnly.map { DiskConfiguration($0, readOnly: true) },
                            diskSync: diskSync, nics: net, nicMACs: netMAC,
                            guards: GuardOptions(timeoutMilliseconds: timeout, core: core), blockSizes: blockSectorSize,
                            environment: env, nicAddresses: netIPv4, nicGateways: netGw)
        result.noNetOffload = noNetOffload
        return result
    }

    func validate() throws {
        let modes = [policy, inspect, auditRequested, auditNative, gdb].filter { $0 }.count
        if auditNative && (policy || inspect) || modes > 1 && !auditNative {
            throw ValidationError("--policy, --inspect, --audit and --gdb are separate modes: give one")
        }
        if !merge.isEmpty && seccompProfile == nil {
            throw ValidationError("--merge adds to a profile: give --seccomp-profile FILE too")
        }
        if image == nil && !policy {
            throw ValidationError(auditNative ? "--audit-native needs a command: nabla-run --audit-native -- CMD ARGS..." : "Missing expected argument '<app.nabla>'")
        }
        if inspect && !(disk.isEmpty && diskReadOnly.isEmpty && net.isEmpty) {
            throw ValidationError("--inspect only reads the image: devices do not apply")
        }
    }

    /// An option of `--audit` was given (each implies it).
    private var auditRequested: Bool { audit || auditKernel || json || auditOut != nil || seccompProfile != nil }

    func run() throws {
        do {
            try execute()
        } catch {
            StandardError.write("nabla-run: \(error)\n")
            Glibc.exit(error.exitStatus)
        }
    }

    /// Runs the mode the command line asks for.
    private func execute() throws(TenderError) {
        let options = AuditOptions(kernel: auditKernel, json: json, output: auditOut, profile: seccompProfile, merge: merge)
        if policy {
            // The policy pins addresses in the tender binary: the run's are
            // nabla-run's, so nabla-run prints it.
            if let tender = Tender.companion("nabla-run") {
                let arguments = ["nabla-run", "--policy"] + RunOption.allCases.flatMap { $0.arguments(for: configuration) }
                    + (configuration.imagePath.isEmpty ? [] : [configuration.imagePath])
                _ = Tender.replaceProcess(with: tender, arguments: arguments)
            }
            print(try Tender.policy(for: configuration).report)
        } else if inspect {
            print(try ImageInspection(path: configuration.imagePath).report)
        } else if auditNative {
            let merging = try Auditor.prepare(options)
            Self.finish(try Auditor.auditNative(configuration.commandLineForNative, options: options), options, merging)
        } else if gdb {
            try Tender.check(configuration)
            try Debugger.run(configuration)
        } else if auditRequested {
            let merging = try Auditor.prepare(options)
            try Tender.check(configuration)
            Self.finish(try Auditor.audit(configuration, options: options), options, merging)
        } else {
            Self.launch(configuration)
        }
    }

    /// Delivers an audit report and exits as the audited process did.
    static func finish(_ report: AuditReport, _ options: AuditOptions, _ merging: SeccompProfile) -> Never {
        do {
            try Auditor.deliver(report, options: options, merging: merging)
        } catch {
            StandardError.write("nabla-run: \(error)\n")
        }
        // A traced process killed by a signal gives 128 + the signal, as a
        // shell reports it; the tracer does not kill itself with the signal
        // (it would dump its own core).
        Glibc.exit(report.exit.shellStatus)
    }

    /// Runs the guest; never returns. A failure before the guest starts is
    /// one line on stderr and its documented status.
    static func launch(_ configuration: TenderConfiguration) -> Never {
        do {
            try Tender.run(configuration)
        } catch {
            StandardError.write("nabla-run: \(error)\n")
            Glibc.exit(error.exitStatus)
        }
    }
}

extension TenderConfiguration {
    /// The native command of `--audit-native -- CMD ARGS`.
    var commandLineForNative: [String] { [imagePath] + guestArguments }
}
