// Diagnostics.swift: what the tender says on stderr once the guest runs.
//
// Everything here runs under the seccomp filter, on the hypercall stack or
// the signal stack. It must not allocate or make any system call besides
// write(2, diag, n <= NABLA_DIAG_SIZE) and exit_group, so it formats into the
// fixed buffer nabla_diag(), the only buffer the filter lets it
// write to fd 2. It must never keep the process from ending: a handler may
// block in that write (stderr is a full pipe), so no handler blocks the
// signals that end the process, and --timeout ticks again to exit without
// writing.

import CNablaTender
import Glibc

/// One line of text built in the diagnostic buffer, then written to stderr.
struct DiagnosticLine {
    private let buffer: UnsafeMutablePointer<CChar>
    private var count = 0
    // Computed, not stored: a stored static is initialised lazily, and
    // nothing here may depend on that under the filter.
    private static var capacity: Int { Int(NABLA_DIAG_SIZE) - 1 }  // room for "\n"

    init() {
        buffer = nabla_diag()
    }

    mutating func append(_ byte: UInt8) {
        guard count < Self.capacity else { return }
        buffer[count] = CChar(bitPattern: byte)
        count &+= 1
    }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { for byte in $0 { append(byte) } }
    }

    /// Appends a NUL-terminated C string from the tender's own tables or
    /// sealed configuration, reading at most `limit` bytes of it.
    mutating func append(cString: UnsafePointer<CChar>, limit: Int) {
        var index = 0
        while index < limit && cString[index] != 0 {
            append(UInt8(bitPattern: cString[index]))
            index &+= 1
        }
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
    /// nobody left to tell). The filter allows only the buffer's own address,
    /// so after a short write the rest moves to the front before the next one.
    mutating func emit() {
        buffer[count] = 0x0a
        count &+= 1
        while count > 0 {
            let n = Glibc.write(2, buffer, count)
            if n <= 0 || n > count { break }
            var index = 0
            while index < count - n {
                buffer[index] = buffer[index + n]
                index &+= 1
            }
            count &-= n
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

    /// `--timeout`'s value: seconds, as an integer or a decimal, to
    /// milliseconds; at least 1 ms, at most a year; nil otherwise.
    public static func timeoutMilliseconds(parsing text: String) -> UInt64? {
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0.001, seconds <= 31_536_000,
              text.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        return UInt64((seconds * 1000).rounded())
    }

    /// Milliseconds as `--timeout` spells them: `1.5`, `10`.
    public static func seconds(milliseconds: UInt64) -> String {
        milliseconds % 1000 == 0 ? String(milliseconds / 1000) : "\(Double(milliseconds) / 1000)"
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

    /// How often SIGALRM repeats once `--timeout` has expired: a handler
    /// blocked in its diagnostic write (stderr a full pipe) is interrupted
    /// by the next tick, which exits without writing.
    static let timeoutRepeatMicroseconds = 100_000

    /// Blocked while the SIGALRM handler runs, and at no other time: a tick
    /// whose interrupted context had it blocked interrupted the handler
    /// itself. The kernel keeps that mark, not memory the guest can write,
    /// and the guest cannot change its signal mask (no rule allows
    /// rt_sigprocmask or rt_sigreturn, and every rule that takes a mask pins
    /// it to NULL). SIGURG is ignored by default, so holding it back for
    /// the line's write changes nothing.
    static var timeoutMarker: Int32 { SIGURG }

    /// Installs the SIGSYS, fault and SIGALRM handlers on their own stack;
    /// ignores SIGPIPE and SIGXFSZ, so that a closed stdout or a file-size
    /// limit makes `puts` or `blkwrite` fail with `NABLA_EIO` instead of
    /// killing the tender silently; and limits core files to `--core` runs.
    /// With `core`, fault handlers reset themselves on delivery and, after
    /// the line, fault again under the default action, which dumps core
    /// (shims.c); they never return, so no `rt_sigreturn` is needed.
    ///
    /// No handler blocks another signal while it runs (its own excepted,
    /// and the SIGALRM handler's ``timeoutMarker``): SIGTERM, SIGINT and a
    /// repeated SIGALRM end the process even while a handler waits in its
    /// write to stderr.
    static func install(_ options: GuardOptions) throws(TenderError) {
        let stack: UnsafeMutableRawPointer
        switch Sys.mapAnonymous(signalStackSize) {
        case .success(let memory): stack = memory
        case .failure(let error): throw .hostCall("mmap of the signal stack", error)
        }
        try check(Sys.setSignalStack(stack, size: signalStackSize), "sigaltstack")

        try check(Sys.handle(SIGSYS, with: nabla_signal_sigsys, flags: SA_ONSTACK), "sigaction(SIGSYS)")
        let faultFlags = SA_ONSTACK | (options.core ? Int32(bitPattern: UInt32(SA_RESETHAND)) : 0)
        for signal in faultSignals { try check(Sys.handle(signal, with: nabla_signal_fault, flags: faultFlags), "sigaction(\(signal))") }
        if options.timeoutMilliseconds != nil {
            // SA_NODEFER: the next tick runs the handler again on top of a
            // blocked first one, and finds the marker blocked.
            try check(Sys.handle(SIGALRM, with: nabla_signal_alarm, flags: SA_ONSTACK | Int32(SA_NODEFER),
                                 blocking: [timeoutMarker]), "sigaction(SIGALRM)")
        }

        // Core files only with --core: a guest fault must not leave the
        // tender's memory, guest memory included, in the working directory.
        try check(Sys.allowCoreDumps(options.core), "setrlimit(RLIMIT_CORE)")

        // A parent may have started us with signals blocked (the mask is
        // inherited across exec): unblock the ones the guest phase relies on.
        try check(Sys.unblock(faultSignals + [SIGSYS, SIGALRM, timeoutMarker]), "sigprocmask")
        for signal in [SIGPIPE, SIGXFSZ] { try check(Sys.ignore(signal), "sigaction(\(signal))") }
    }

    private static func check(_ result: Result<Void, Errno>, _ call: String) throws(TenderError) {
        if case .failure(let error) = result { throw .hostCall(call, error) }
    }
}

/// Arms `--timeout`: the kernel delivers SIGALRM when it expires, with no
/// system call from the process, and the handler ends the guest; it repeats
/// every ``Diagnostics/timeoutRepeatMicroseconds`` after that. Called last
/// before the filter, so the guest's time is what is measured.
func armTimeout(milliseconds: UInt64) throws(TenderError) {
    if case .failure(let error) = Sys.setRealTimer(milliseconds: milliseconds, repeatMicroseconds: Diagnostics.timeoutRepeatMicroseconds) {
        throw .hostCall("setitimer", error)
    }
}

/// The SIGALRM handler: `--timeout` expired. Installed through
/// `nabla_signal_alarm` (shims.c), which restores the tender's FS first.
/// The first tick prints the line; a later one that interrupted the first
/// (blocked in its write) exits at once without writing. Which one this is
/// comes from the signal mask the kernel saved for the interrupted context
/// (``Diagnostics/timeoutMarker``), never from memory the guest can write.
@_cdecl("nabla_on_timeout")
func timedOut(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    if nabla_ucontext_blocks(context, Diagnostics.timeoutMarker) != 0 { nabla_sys_exit_group(ExitStatus.timedOut) }
    var line = DiagnosticLine()
    let milliseconds = nabla_config().pointee.timeout_ms
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
/// the handler has reset itself and returns instead, to
/// `nabla_signal_fault` (shims.c), which makes the same fault again under
/// the default action: the kernel dumps core.
@_cdecl("nabla_on_guest_fault")
func guestFault(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let config = nabla_config()
    let pc = nabla_ucontext_pc(context)
    let address = info.map { UInt64(UInt(bitPattern: nabla_siginfo_addr($0))) } ?? 0
    let inImage = pc >= config.pointee.image_base && pc < config.pointee.image_end
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
    if inImage { appendFunction(containing: pc, config, to: &line) }
    if signal == SIGILL && isTrapInstruction(at: pc) {
        line.append(" (ud2: a failed runtime check in Swift, such as an overflow, an index out of range or nil unwrapped, or __builtin_trap in C)")
    }
    if inImage {
        line.append(" (image offset ")
        line.append(hex: pc &- config.pointee.image_base)
        line.append("; addr2line -e ")
        line.append(cString: nabla_image_path(), limit: Int(NABLA_IMAGE_PATH_SIZE))
        line.append(" ")
        line.append(hex: pc)
        line.append(")")
    }
    if signal == SIGSEGV || signal == SIGBUS {
        line.append(", address ")
        line.append(hex: address)
        let guardStart = config.pointee.guard_start
        if address >= guardStart && address < guardStart &+ UInt64(NABLA_GUARD_SIZE) {
            line.append(": stack overflow into the guard page")
        }
    }
    line.emit()
    if config.pointee.core_dump != 0 { return }
    nabla_sys_exit_group(128 &+ signal)
}

/// Appends " in NAME" for the function symbol of the image that holds `pc`,
/// from the symbol table mapped read-only before the filter (sealed
/// addresses and counts; every read bounded). Nothing if there is none.
private func appendFunction(containing pc: UInt64, _ config: UnsafePointer<nabla_host_config>, to line: inout DiagnosticLine) {
    let symbols = config.pointee.symbols, count = config.pointee.symbol_count
    let names = config.pointee.symbol_names, namesSize = config.pointee.symbol_names_size
    guard symbols != 0, names != 0, let table = UnsafeRawPointer(bitPattern: UInt(symbols)),
          let strings = UnsafePointer<CChar>(bitPattern: UInt(names)) else { return }
    var index: UInt64 = 0
    while index < count {
        let entry = table + Int(index) &* ImageSymbols.symbolSize
        let nameOffset = UInt64(entry.loadUnaligned(as: UInt32.self))
        let info = entry.loadUnaligned(fromByteOffset: 4, as: UInt8.self)
        let value = entry.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let size = entry.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        // STT_FUNC, and pc inside [value, value + size).
        if info & 0xf == 2, pc >= value, pc &- value < size, nameOffset < namesSize {
            line.append(" in ")
            line.append(cString: strings + Int(nameOffset), limit: Int(min(namesSize &- nameOffset, 160)))
            return
        }
        index &+= 1
    }
}

/// True if the two bytes at `pc` are `ud2` (0f 0b) and lie in guest memory
/// the guest may read (checked against the sealed ranges first).
private func isTrapInstruction(at pc: UInt64) -> Bool {
    guard guestReadable(pc, 2), let bytes = UnsafePointer<UInt8>(bitPattern: UInt(pc)) else { return false }
    return bytes[0] == 0x0f && bytes[1] == 0x0b
}

/// The SIGSYS handler: the filter trapped a system call. Names it on stderr
/// and exits with ``ExitStatus/forbiddenSyscall``.
@_cdecl("nabla_on_forbidden_syscall")
func forbiddenSyscall(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    var line = DiagnosticLine()
    line.append("nabla-run: guest made a forbidden system call: ")
    if let info {
        let number = nabla_siginfo_syscall(info)
        if nabla_siginfo_arch(info) != Diagnostics.auditArchX86_64 {
            line.append("i386 system call")
        } else if number >= 0 && number & Diagnostics.x32SyscallBit != 0 {
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
        line.append(cString: name, limit: 64)
    } else {
        line.append("unknown")
    }
}
