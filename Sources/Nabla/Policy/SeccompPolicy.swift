// SeccompPolicy.swift: the guest-phase seccomp policy as data, and its
// compilation to BPF with libseccomp.
//
// The policy is a list of rules built from the run's configuration: each
// allows one system call when every one of its argument pins matches. Rules
// for the same call are alternatives. Anything else traps (SIGSYS), and the
// handler in Diagnostics.swift reports it. docs/security.md explains each rule.

import CNablaTender
import CSeccomp
import Glibc

/// A system call by name and x86_64 number.
public struct Syscall: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let number: Int32
    /// Names of the arguments, for printing pins.
    public let argumentNames: [String]

    public var description: String { "\(name) (\(number))" }

    public static let read = Syscall(name: "read", number: 0, argumentNames: ["fd", "buf", "count"])
    public static let write = Syscall(name: "write", number: 1, argumentNames: ["fd", "buf", "count"])
    public static let pread64 = Syscall(name: "pread64", number: 17, argumentNames: ["fd", "buf", "count", "pos"])
    public static let pwrite64 = Syscall(name: "pwrite64", number: 18, argumentNames: ["fd", "buf", "count", "pos"])
    public static let clockGettime = Syscall(name: "clock_gettime", number: 228, argumentNames: ["clockid", "tp"])
    public static let exitGroup = Syscall(name: "exit_group", number: 231, argumentNames: ["status"])
    public static let ppoll = Syscall(name: "ppoll", number: 271, argumentNames: ["fds", "nfds", "tmo", "sigmask", "sigsetsize"])

    /// Solo5 spt only: yield waits on the tender's epoll set.
    public static let epollPwait = Syscall(name: "epoll_pwait", number: 281,
                                           argumentNames: ["epfd", "events", "maxevents", "timeout", "sigmask", "sigsetsize"])
    /// Solo5 spt only: yield arms the tender's timerfd.
    public static let timerfdSettime = Syscall(name: "timerfd_settime", number: 286, argumentNames: ["fd", "flags", "new", "old"])
    /// Solo5 spt only: the guest sets its own TLS base (FS).
    public static let archPrctl = Syscall(name: "arch_prctl", number: 158, argumentNames: ["code", "addr"])

    /// The seven system calls a nabla guest phase may ever use.
    public static let guestSet: [Syscall] = [.read, .write, .pread64, .pwrite64, .ppoll, .clockGettime, .exitGroup]

    /// The nine system calls a Solo5 spt guest phase may ever use (Solo5's
    /// own spt policy; docs/security.md, "Solo5 images").
    public static let solo5Set: [Syscall] = [.read, .write, .pread64, .pwrite64, .epollPwait, .timerfdSettime,
                                             .clockGettime, .archPrctl, .exitGroup]

    /// The system call numbered `number`: one a policy can name, with its
    /// argument names, or any other by its kernel name.
    public static func numbered(_ number: Int32) -> Syscall {
        if let known = (solo5Set + [.ppoll]).first(where: { $0.number == number }) { return known }
        let name = nabla_syscall_name(Int(number)).map { String(cString: $0) } ?? "#\(number)"
        return Syscall(name: name, number: number, argumentNames: [])
    }
}

/// Argument `argument` must equal `value` (or, for sizes and offsets, be at
/// most `value`, compared unsigned over all 64 bits); `meaning` says what the
/// value is.
public struct ArgumentPin: Hashable, Sendable, CustomStringConvertible {
    /// How the argument is compared with the value.
    public enum Comparison: String, Hashable, Sendable {
        case equal = "=="
        case atMost = "<="
    }

    public var argument: Int
    public var comparison: Comparison
    public var value: UInt64
    public var meaning: String?

    public init(_ argument: Int, equals value: UInt64, _ meaning: String? = nil) {
        self.init(argument, .equal, value, meaning)
    }

    public init(_ argument: Int, atMost value: UInt64, _ meaning: String? = nil) {
        self.init(argument, .atMost, value, meaning)
    }

    public init(_ argument: Int, _ comparison: Comparison, _ value: UInt64, _ meaning: String? = nil) {
        self.argument = argument
        self.comparison = comparison
        self.value = value
        self.meaning = meaning
    }

    /// True if an argument of `actual` passes this pin.
    public func admits(_ actual: UInt64) -> Bool {
        switch comparison {
        case .equal: actual == value
        case .atMost: actual <= value
        }
    }

    public var description: String {
        let shown = value > 0xffff ? hex(value) : String(value)
        let head = "\(comparison.rawValue) \(shown)"
        return meaning.map { "\(head) [\($0)]" } ?? head
    }
}

/// Allow `syscall` when all `pins` match.
public struct SyscallRule: Hashable, Sendable, CustomStringConvertible {
    public var syscall: Syscall
    public var pins: [ArgumentPin]

    public init(_ syscall: Syscall, _ pins: [ArgumentPin] = []) {
        self.syscall = syscall
        self.pins = pins
    }

    /// `write (1) if fd == 1 [console]`: the call and its pins.
    public var condition: String {
        let conditions = pins.map { pin in
            let name = pin.argument < syscall.argumentNames.count ? syscall.argumentNames[pin.argument] : "arg\(pin.argument)"
            return "\(name) \(pin)"
        }
        let head = "\(syscall.name) (\(syscall.number))"
        return conditions.isEmpty ? head : head + " if " + conditions.joined(separator: " && ")
    }

    /// `allow write (1) if fd == 1 [console]`, one line.
    public var description: String { "allow " + condition }
}

/// The rules a guest runs under.
public struct SeccompPolicy: Sendable, CustomStringConvertible {
    public var rules: [SyscallRule]
    /// The ABI the policy is for: it names the calls a guest may ever make.
    public var abiName = "nabla"
    /// Every system call a guest of this ABI may ever be allowed.
    public var callSet = Syscall.guestSet

    /// A policy of exactly `rules`, for an ABI whose guests may use `callSet`.
    public init(rules: [SyscallRule], abiName: String, callSet: [Syscall]) {
        self.rules = rules
        self.abiName = abiName
        self.callSet = callSet
    }

    /// What happens to every call no rule allows.
    public static let defaultAction = "trap: SIGSYS, reported on stderr, exit status 159"

    /// The guest-phase policy for a run: the console, the diagnostic
    /// buffer (the tender's lines and the guest's stderr), standard input
    /// into the tender's stdin buffer, the tender's pollfd array, three
    /// clocks, exit_group, and the
    /// rules each device adds (its driver's, in BlockDevice.swift and
    /// NetDevice.swift): its descriptor, with the sizes and offsets its
    /// hypercalls use. `--core` adds nothing (Diagnostics.swift).
    public init(for host: HostAddresses, devices: [AttachedDevice] = []) {
        rules = [
            SyscallRule(.write, [ArgumentPin(0, equals: 1, "console")]),
            SyscallRule(.write, [ArgumentPin(0, equals: 2, "stderr"),
                                 ArgumentPin(1, equals: host.diagnosticBuffer, "tender diagnostic buffer"),
                                 ArgumentPin(2, atMost: UInt64(NABLA_DIAG_SIZE), "its size")]),
            SyscallRule(.read, [ArgumentPin(0, equals: 0, "stdin"),
                                ArgumentPin(1, equals: host.stdinBuffer, "tender stdin buffer"),
                                ArgumentPin(2, atMost: UInt64(NABLA_STDIN_CHUNK), "its size")]),
            SyscallRule(.ppoll, [ArgumentPin(0, equals: host.pollfds, "tender pollfd array"),
                                 ArgumentPin(1, equals: UInt64(host.pollfdCount)),
                                 ArgumentPin(2, equals: host.pollTimeout, "tender timeout"),
                                 ArgumentPin(3, equals: 0, "no signal mask")]),
            // Linux numbers them 0, 1 and 2, so one rule with `<=` (over all
            // 64 bits) allows exactly these three: one rule compiles faster
            // than three, and every start compiles the policy.
            SyscallRule(.clockGettime, [ArgumentPin(0, atMost: UInt64(CLOCK_PROCESS_CPUTIME_ID),
                                                    "CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID")]),
            SyscallRule(.exitGroup),
        ]
        for device in devices { rules += device.rules }
    }

    /// One rule a line, then the default action.
    public var description: String {
        (rules.map { $0.description } + ["default: \(Self.defaultAction)"]).joined(separator: "\n")
    }

    /// The report `nabla-run --policy` prints.
    public var report: String {
        let calls = Set(rules.map { $0.syscall.name }).count
        let image = abiName == "nabla" ? "" : " (\(abiName) image)"
        return "seccomp policy for the guest phase\(image): \(rules.count) rules over \(calls) of the \(callSet.count) guest system calls\n"
            + "architecture: x86_64 only; i386 (int 0x80) and x32 calls trap like any other\n"
            + description
    }

    /// Compiles the policy to a BPF program with libseccomp. All allocation
    /// happens here, long before the filter is loaded.
    public func compile() throws(TenderError) -> SeccompFilter {
        // Name the API level instead of letting libseccomp probe the kernel
        // with nine seccomp() calls: the tender only asks it for BPF.
        _ = seccomp_api_set(3)
        guard let context = seccomp_init(SCMP_ACT_TRAP) else {
            throw .seccompUnavailable("seccomp_init", Errno(rawValue: ENOMEM))
        }
        defer { seccomp_release(context) }
        try check(seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP), "seccomp_attr_set")
        for rule in rules {
            var comparisons = rule.pins.map {
                scmp_arg_cmp(arg: UInt32($0.argument), op: $0.comparison == .equal ? SCMP_CMP_EQ : SCMP_CMP_LE,
                             datum_a: $0.value, datum_b: 0)
            }
            try check(seccomp_rule_add_exact_array(context, SCMP_ACT_ALLOW, rule.syscall.number,
                                                   UInt32(comparisons.count), &comparisons),
                      "seccomp_rule_add \(rule.syscall.name)")
        }

        // libseccomp 2.5 exports only to a file descriptor.
        let fd = nabla_memfd("nabla-seccomp")
        guard fd >= 0 else { throw .hostCall("memfd_create", Errno(rawValue: -fd)) }
        defer { Sys.close(fd) }
        try check(seccomp_export_bpf(context, fd), "seccomp_export_bpf")
        let size: Int
        switch Sys.fstat(fd) {
        case .success(let st): size = Int(st.st_size)
        case .failure(let error): throw .hostCall("fstat of the exported filter", error)
        }
        let instructionSize = MemoryLayout<sock_filter>.stride
        guard size > 0, size % instructionSize == 0 else {
            throw .seccompUnavailable("seccomp_export_bpf wrote \(size) bytes", Errno(rawValue: EINVAL))
        }
        var program = [sock_filter](repeating: sock_filter(), count: size / instructionSize)
        let read = program.withUnsafeMutableBytes { Sys.preadAll(fd, into: $0, at: 0) }
        if case .failure(let error) = read { throw .hostCall("reading the exported filter", error) }
        return SeccompFilter(program: program)
    }

    private func check(_ result: Int32, _ call: String) throws(TenderError) {
        if result < 0 { throw .seccompUnavailable(call, Errno(rawValue: -result)) }
    }
}

/// The addresses of the tender's own buffers that the policy pins.
public struct HostAddresses: Sendable {
    public var diagnosticBuffer: UInt64
    /// The buffer `stdinread` reads standard input into.
    public var stdinBuffer: UInt64
    public var pollfds: UInt64
    public var pollfdCount: UInt32
    public var pollTimeout: UInt64

    /// The addresses in this process; `pollfdCount` NICs.
    public static func current(pollfdCount: UInt32) -> HostAddresses {
        let base = UInt64(UInt(bitPattern: nabla_scratch()))
        typealias Scratch = MemoryLayout<nabla_host_scratch>
        return HostAddresses(diagnosticBuffer: base + UInt64(Scratch.offset(of: \.diag)!),
                             stdinBuffer: UInt64(UInt(bitPattern: nabla_stdin_buffer())),
                             pollfds: base + UInt64(Scratch.offset(of: \.pollfds)!),
                             pollfdCount: pollfdCount,
                             pollTimeout: base + UInt64(Scratch.offset(of: \.poll_timeout)!))
    }
}

/// A compiled BPF program, ready to load.
public struct SeccompFilter: Sendable {
    /// The BPF instructions.
    public let program: [sock_filter]

    /// Gives the heap's free pages back, sets no_new_privs, loads the
    /// filter and calls the guest entry on its stack (for nabla and Solo5
    /// images alike). Does not return: the guest's status goes to
    /// exit_group. Throws only if the filter cannot be loaded, before
    /// anything of the guest ran.
    func enter(entry: GuestAddress, bootInfo: GuestAddress, stackTop: GuestAddress) throws(TenderError) -> Never {
        nabla_release_free_heap()
        let noNewPrivs = nabla_set_no_new_privs()
        guard noNewPrivs == 0 else { throw .seccompUnavailable("prctl(PR_SET_NO_NEW_PRIVS)", Errno(rawValue: -noNewPrivs)) }
        let result = program.withUnsafeBufferPointer { instructions in
            var fprog = sock_fprog(len: UInt16(instructions.count), filter: UnsafeMutablePointer(mutating: instructions.baseAddress))
            return nabla_enter_guest(&fprog, entry, bootInfo, stackTop)
        }
        throw .seccompUnavailable("seccomp(SECCOMP_SET_MODE_FILTER)", Errno(rawValue: Int32(truncatingIfNeeded: -result)))
    }
}
