// ProcessFacts.swift: what the tender learns about its own process before
// the filter is loaded, for the guest's boot info (docs/abi.md, "Boot
// info"): what its standard streams are, who it is, and fresh randomness.
// After the filter the guest could ask none of this: fstat, ioctl, getpid
// and getrandom are not among the seven system calls. Nothing here
// allocates: it runs on every start (docs/performance.md, "Start-up").

import CNablaTender
import Glibc

/// The standard streams, the process's identity and per-run entropy.
struct ProcessFacts {
    /// The file type bits (S_IFMT) of fds 0, 1 and 2; 0 for a closed one.
    var streamModes: (UInt32, UInt32, UInt32) = (0, 0, 0)
    /// NABLA_BOOT_TTY bits: the streams that are terminals.
    var terminalFlags: UInt32 = 0
    var pid: UInt32
    var uid: UInt32
    var gid: UInt32
    /// NABLA_ENTROPY_SIZE (32) bytes from getrandom(2).
    var entropy: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// The facts of this process, now.
    static func current() throws(TenderError) -> ProcessFacts {
        var facts = ProcessFacts(pid: UInt32(bitPattern: getpid()), uid: getuid(), gid: getgid())
        facts.streamModes = (facts.probe(0), facts.probe(1), facts.probe(2))
        let result = withUnsafeMutableBytes(of: &facts.entropy) { nabla_random_bytes($0.baseAddress, $0.count) }
        guard result == 0 else { throw .hostCall("getrandom of the guest's entropy", Errno(rawValue: -result)) }
        return facts
    }

    /// The file type of `fd`, noting in terminalFlags whether it is a
    /// terminal (asked only of character devices: a terminal is one).
    private mutating func probe(_ fd: Int32) -> UInt32 {
        guard case .success(let st) = Sys.fstat(fd) else { return 0 }
        let mode = UInt32(st.st_mode) & UInt32(S_IFMT)
        if mode == UInt32(S_IFCHR) && isatty(fd) == 1 { terminalFlags |= UInt32(0x2) << UInt32(fd) }  // NABLA_BOOT_TTY(fd)
        return mode
    }
}
