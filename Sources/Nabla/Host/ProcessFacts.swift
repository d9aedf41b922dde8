// ProcessFacts.swift: what the tender learns about its own process before
// the filter is loaded, for the guest's boot info (docs/abi.md, "Boot
// info"): what its standard streams are, who it is, and fresh randomness.
// After the filter the guest could ask none of this: fstat, ioctl, getpid
// and getrandom are not among the seven system calls.

import CNablaTender
import Glibc

/// The standard streams, the process's identity and per-run entropy.
struct ProcessFacts {
    /// The file type bits (S_IFMT) of fds 0, 1 and 2; 0 for a closed one.
    var streamModes: [UInt32]
    /// NABLA_BOOT_TTY bits: the streams that are terminals.
    var terminalFlags: UInt32
    var pid: UInt32
    var uid: UInt32
    var gid: UInt32
    /// NABLA_ENTROPY_SIZE bytes from getrandom(2).
    var entropy: [UInt8]

    /// The facts of this process, now.
    static func current() -> ProcessFacts {
        var modes: [UInt32] = []
        var terminals: UInt32 = 0
        for fd: Int32 in 0...2 {
            switch Sys.fstat(fd) {
            case .success(let st): modes.append(UInt32(st.st_mode) & UInt32(S_IFMT))
            case .failure: modes.append(0)
            }
            if isatty(fd) == 1 { terminals |= UInt32(0x2) << UInt32(fd) }  // NABLA_BOOT_TTY(fd)
        }
        // SystemRandomNumberGenerator is getrandom(2) (tender/embedded/runtime.c
        // on musl, the standard library on glibc): it never returns guessable bytes.
        var generator = SystemRandomNumberGenerator()
        var entropy: [UInt8] = []
        entropy.reserveCapacity(Int(NABLA_ENTROPY_SIZE))
        while entropy.count < Int(NABLA_ENTROPY_SIZE) {
            withUnsafeBytes(of: generator.next() as UInt64) { entropy += $0 }
        }
        return ProcessFacts(streamModes: modes, terminalFlags: terminals, pid: UInt32(bitPattern: getpid()),
                            uid: getuid(), gid: getgid(), entropy: entropy)
    }
}
