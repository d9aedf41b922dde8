// Diagnostics.swift: what the tender says on stderr once the guest runs.
//
// Everything here runs under the seccomp filter, on the guest's stack or
// the signal stack. It must not allocate or make any system call besides
// write(2, diag, n) and exit_group, so it formats into the fixed buffer
// nabla_host.diag, the only buffer the filter lets it write to fd 2.

import CNablaTender
import Glibc

/// One line of text built in `nabla_host.diag`, then written to stderr.
struct DiagnosticLine {
    private let buffer: UnsafeMutablePointer<CChar>
    private var count = 0
    // Computed, not stored: a stored static is initialised lazily, and
    // nothing here may depend on that under the filter.
    private static var capacity: Int { Int(NABLA_DIAG_SIZE) - 1 }  // room for "\n"

    init() { buffer = nabla_host_diag() }

    mutating func append(_ byte: UInt8) {
        guard count < Self.capacity else { return }
        buffer[count] = CChar(bitPattern: byte)
        count &+= 1
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { for byte in $0 { append(byte) } }
    }

    /// Appends a NUL-terminated C string from the tender's own tables.
    mutating func append(cString: UnsafePointer<CChar>) {
        var at = cString
        while at.pointee != 0 { append(UInt8(bitPattern: at.pointee)); at += 1 }
    }

    mutating func append(decimal value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        append(unsignedDecimal: value.magnitude)
    }

    mutating func append(unsignedDecimal value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor &*= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: (value / divisor) % 10))
            divisor /= 10
        }
    }

    mutating func append(hex value: UInt64) {
        append("0x")
        var shift = 60
        while shift > 0 && (value >> UInt64(shift)) & 0xf == 0 { shift -= 4 }
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xf)
            append(nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10)
            shift -= 4
        }
    }

    /// Writes the line and a newline to fd 2; errors are ignored (there is
    /// nobody left to tell).
    mutating func emit() {
        buffer[count] = 0x0a
        count &+= 1
        var done = 0
        while done < count {
            let n = Glibc.write(2, buffer + done, count - done)
            if n <= 0 { break }
            done &+= n
        }
        count = 0
    }
}

/// How the guest phase handles faults and time.
public struct GuardOptions: Sendable, Equatable {
    /// Stop the guest after this many milliseconds (`--timeout`), or nil.
    public var timeoutMilliseconds: UInt64?
    /// Let a faulting guest dump core after the message (`--core`).
    public var core: Bool

    public init(timeoutMilliseconds: UInt64? = nil, core: Bool = false) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.core = core
    }
}

/// Signal handling for the guest phase.
enum Diagnostics {
    /// The signals a faulting guest raises, each reported with its pc.
    static let faultSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP]

    /// AUDIT_ARCH_X86_64, as seccomp reports it in si_arch.
    static var auditArchX86_64: UInt32 { 0xc000_003e }
    static var x32SyscallBit: Int32 { 0x4000_0000 }
    static let signalStackSize = 64 * 1024

    /// Installs the SIGSYS, fault and SIGALRM handlers on their own stack and
    /// ignores SIGPIPE, so that a closed stdout makes `puts` fail instead of
    /// killing the tender. With `core`, fault handlers reset themselves and
    /// return, so the fault repeats under the default action and dumps core.
    static func install(_ options: GuardOptions) throws(TenderError) {
        guard let stack = mmap(nil, signalStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              stack != MAP_FAILED else {
            throw .hostCall("mmap of the signal stack", .current)
        }
        var altstack = stack_t(ss_sp: stack, ss_flags: 0, ss_size: signalStackSize)
        guard sigaltstack(&altstack, nil) == 0 else { throw .hostCall("sigaltstack", .current) }

        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = forbiddenSyscall
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigfillset(&action.sa_mask)
        guard sigaction(SIGSYS, &action, nil) == 0 else { throw .hostCall("sigaction(SIGSYS)", .current) }

        var fault = sigaction()
        fault.__sigaction_handler.sa_sigaction = guestFault
        fault.sa_flags = SA_SIGINFO | SA_ONSTACK | (options.core ? Int32(bitPattern: UInt32(SA_RESETHAND)) : 0)
        sigfillset(&fault.sa_mask)
        for signal in faultSignals {
            guard sigaction(signal, &fault, nil) == 0 else { throw .hostCall("sigaction(\(signal))", .current) }
        }
        if options.core {
            var limit = rlimit()
            if getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit) == 0 {
                limit.rlim_cur = limit.rlim_max
                _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
            }
        }

        if let milliseconds = options.timeoutMilliseconds {
            var alarm = sigaction()
            alarm.__sigaction_handler.sa_sigaction = timedOut
            alarm.sa_flags = SA_SIGINFO | SA_ONSTACK
            sigfillset(&alarm.sa_mask)
            guard sigaction(SIGALRM, &alarm, nil) == 0 else { throw .hostCall("sigaction(SIGALRM)", .current) }
            nabla_host()!.pointee.timeout_ms = milliseconds
        }

        // A parent may have started us with signals blocked (the mask is
        // inherited across exec): unblock the ones the guest phase relies on.
        var needed = sigset_t()
        sigemptyset(&needed)
        for signal in faultSignals + [SIGSYS, SIGALRM] { sigaddset(&needed, signal) }
        guard sigprocmask(SIG_UNBLOCK, &needed, nil) == 0 else { throw .hostCall("sigprocmask", .current) }
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        guard sigaction(SIGPIPE, &ignore, nil) == 0 else { throw .hostCall("sigaction(SIGPIPE)", .current) }
    }
}

/// Arms `--timeout`: the kernel delivers SIGALRM when it expires, with no
/// system call from the process, and the handler ends the guest. Called last
/// before the filter, so the guest's time is what is measured.
func armTimeout(milliseconds: UInt64) throws(TenderError) {
    var timer = itimerval()
    timer.it_value.tv_sec = Int(milliseconds / 1000)
    timer.it_value.tv_usec = Int(milliseconds % 1000) * 1000
    guard setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &timer, nil) == 0 else { throw .hostCall("setitimer", .current) }
}

/// The SIGALRM handler: `--timeout` expired.
private func timedOut(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    var line = DiagnosticLine()
    let milliseconds = nabla_host()!.pointee.timeout_ms
    line.append("nabla-run: guest timed out after ")
    line.append(unsignedDecimal: milliseconds / 1000)
    if milliseconds % 1000 != 0 {
        line.append(UInt8(ascii: "."))
        let fraction = milliseconds % 1000
        if fraction < 100 { line.append(UInt8(ascii: "0")) }
        if fraction < 10 { line.append(UInt8(ascii: "0")) }
        line.append(unsignedDecimal: fraction)
    }
    line.append(" s (--timeout)")
    line.emit()
    nabla_sys_exit_group(ExitStatus.timedOut)
}

/// The fault handler: SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGTRAP. Names the
/// fault, the program counter (with the addr2line command that resolves it)
/// and the faulting address, then exits with 128 + the signal. With `--core`
/// the handler has reset itself and returns instead: the instruction faults
/// again under the default action, which dumps core.
private func guestFault(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let host = nabla_host()!
    let pc = nabla_ucontext_pc(context)
    let address = info.map { UInt64(UInt(bitPattern: nabla_siginfo_addr($0))) } ?? 0
    let inImage = pc >= host.pointee.image_base && pc < host.pointee.image_end
    var line = DiagnosticLine()
    line.append(inImage ? "nabla-run: guest fault: " : "nabla-run: fault outside the guest image: ")
    switch signal {
    case SIGSEGV: line.append("SIGSEGV (invalid memory access)")
    case SIGBUS: line.append("SIGBUS (bus error)")
    case SIGILL: line.append("SIGILL (illegal instruction)")
    case SIGFPE: line.append("SIGFPE (arithmetic error)")
    default: line.append("SIGTRAP (breakpoint)")
    }
    line.append(" at pc ")
    line.append(hex: pc)
    if inImage {
        line.append(" (image offset ")
        line.append(hex: pc &- host.pointee.image_base)
        line.append("; addr2line -e ")
        line.append(cString: nabla_host_image_path())
        line.append(" ")
        line.append(hex: pc)
        line.append(")")
    }
    if signal == SIGSEGV || signal == SIGBUS {
        line.append(", address ")
        line.append(hex: address)
        let guardStart = host.pointee.guard_start
        if address >= guardStart && address < guardStart &+ UInt64(NABLA_GUARD_SIZE) {
            line.append(": stack overflow into the guard page")
        }
    }
    line.emit()
    if host.pointee.core_dump != 0 && signal != SIGTRAP { return }
    nabla_sys_exit_group(128 &+ signal)
}

/// The SIGSYS handler: the filter trapped a system call. Names it on stderr
/// and exits with ``ExitStatus/forbiddenSyscall``.
private func forbiddenSyscall(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    var line = DiagnosticLine()
    line.append("nabla-run: guest made a forbidden system call: ")
    if let info {
        let number = nabla_siginfo_syscall(info)
        if nabla_siginfo_arch(info) != Diagnostics.auditArchX86_64 {
            line.append("i386 system call")
        } else if number & Diagnostics.x32SyscallBit != 0 {
            line.append("x32 ")
            appendName(of: number & ~Diagnostics.x32SyscallBit, to: &line)
        } else {
            appendName(of: number, to: &line)
        }
        line.append(" (")
        line.append(decimal: Int64(number))
        line.append(")")
    } else {
        line.append("unknown")
    }
    line.emit()
    nabla_sys_exit_group(ExitStatus.forbiddenSyscall)
}

private func appendName(of number: Int32, to line: inout DiagnosticLine) {
    if let name = nabla_syscall_name(Int(number)) {
        line.append(cString: name)
    } else {
        line.append("unknown")
    }
}
