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

/// Signal handling for the guest phase.
enum Diagnostics {
    /// AUDIT_ARCH_X86_64, as seccomp reports it in si_arch.
    static var auditArchX86_64: UInt32 { 0xc000_003e }
    static var x32SyscallBit: Int32 { 0x4000_0000 }
    static let signalStackSize = 64 * 1024

    /// Installs the SIGSYS handler on its own stack and ignores SIGPIPE, so
    /// that a closed stdout makes `puts` fail instead of killing the tender.
    static func install() throws(TenderError) {
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
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        guard sigaction(SIGPIPE, &ignore, nil) == 0 else { throw .hostCall("sigaction(SIGPIPE)", .current) }
    }
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
