// Syscalls.swift: every raw libc call the tender makes before the filter is
// loaded (and the --audit tracer makes), in one place, each returning
// Result<_, Errno>. The calls made after the filter is loaded are in
// Hypercalls.swift and Diagnostics.swift, and are the seven the policy pins.

import CNablaTender
import Glibc

/// An errno value.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current errno, after a call that failed.
    ///
    /// EBADF and EFAULT from the tender's own calls mean a bug in the tender
    /// (a descriptor it closed, a pointer it built wrong), not something the
    /// user can fix: debug builds trap on them, as swift-nio does; release
    /// builds report them like any other error.
    static var current: Errno {
        let error = Errno(rawValue: errno)
        assert(!error.isProgrammingError, "a host call failed with \(error): a bug in nabla-run")
        return error
    }

    /// EBADF or EFAULT: the caller's mistake, never the environment's.
    var isProgrammingError: Bool { rawValue == EBADF || rawValue == EFAULT }

    /// glibc's strerror text, such as "No such file or directory", in
    /// nabla-run on musl as in nabla-run-cli on glibc (tender/error_texts.c).
    public var description: String {
        guard let text = nabla_error_text(rawValue) else { return "Unknown error \(rawValue)" }
        return String(cString: text)
    }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let exists = Errno(rawValue: EEXIST)
}

/// Calls `body` until it does not fail with EINTR.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let result = body()
        if result >= 0 { return .success(result) }
        let error = Errno.current
        if error != .interrupted { return .failure(error) }
    }
}

/// open(2), outside `Sys` so that `open` is the C library's (or, in the
/// Embedded build, EmbeddedGlibc.swift's fixed-argument one).
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

enum Sys {
    /// open(2) with O_CLOEXEC; `mode` for a file O_CREAT makes.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) -> Result<Int32, Errno> {
        retryingOnInterrupt { openFile(path, flags | O_CLOEXEC, mode) }
    }

    /// access(2): whether this process may use `path` as `mode` says
    /// (F_OK, X_OK, ...).
    static func isAccessible(_ path: String, _ mode: Int32) -> Bool { access(path, mode) == 0 }

    /// fcntl(F_SETFL, O_NONBLOCK).
    static func setNonBlocking(_ fd: Int32) -> Result<Void, Errno> {
        fcntl(fd, F_SETFL, O_NONBLOCK) == 0 ? .success(()) : .failure(.current)
    }

    /// mmap(2) of `size` bytes of private anonymous read-write memory.
    static func mapAnonymous(_ size: Int) -> Result<UnsafeMutableRawPointer, Errno> {
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), memory != MAP_FAILED else {
            return .failure(.current)
        }
        return .success(memory)
    }

    /// mmap(2) of `size` bytes of `fd`, read-only and private.
    static func mapFile(_ fd: Int32, size: Int, offset: Int = 0) -> Result<UnsafeRawPointer, Errno> {
        guard let memory = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, off_t(offset)), memory != MAP_FAILED else { return .failure(.current) }
        return .success(UnsafeRawPointer(memory))
    }

    /// munmap(2), ignoring the result: used only on the tender's own mappings.
    static func unmap(_ address: UnsafeMutableRawPointer, size: Int) { _ = munmap(address, size) }

    /// sigaltstack(2): signal handlers installed with SA_ONSTACK run on
    /// `[stack, stack + size)`.
    static func setSignalStack(_ stack: UnsafeMutableRawPointer, size: Int) -> Result<Void, Errno> {
        var altstack = stack_t(ss_sp: stack, ss_flags: 0, ss_size: size)
        return sigaltstack(&altstack, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// A signal handler taking siginfo, as sigaction(2) installs it.
    typealias SignalHandler = @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void

    /// sigaction(2): `handler` for `signal`, with SA_SIGINFO, `flags` and a
    /// mask of `blocking` (by default empty: the handler blocks no other
    /// signal).
    static func handle(_ signal: Int32, with handler: SignalHandler, flags: Int32, blocking: [Int32] = []) -> Result<Void, Errno> {
        var action = sigaction()
        #if NABLA_MUSL
        action.__sa_handler.sa_sigaction = handler
        #else
        action.__sigaction_handler.sa_sigaction = handler
        #endif
        action.sa_flags = SA_SIGINFO | flags
        sigemptyset(&action.sa_mask)
        for other in blocking { sigaddset(&action.sa_mask, other) }
        return sigaction(signal, &action, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// sigaction(2) with SIG_IGN.
    static func ignore(_ signal: Int32) -> Result<Void, Errno> {
        var action = sigaction()
        #if NABLA_MUSL
        action.__sa_handler.sa_handler = SIG_IGN
        #else
        action.__sigaction_handler.sa_handler = SIG_IGN
        #endif
        return sigaction(signal, &action, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// sigprocmask(SIG_UNBLOCK) of `signals`.
    static func unblock(_ signals: [Int32]) -> Result<Void, Errno> {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return sigprocmask(SIG_UNBLOCK, &set, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// setrlimit(RLIMIT_CORE): the soft limit to the hard one, or to 0.
    static func allowCoreDumps(_ allow: Bool) -> Result<Void, Errno> {
        #if NABLA_MUSL
        let resource = RLIMIT_CORE
        #else
        let resource = __rlimit_resource_t(RLIMIT_CORE.rawValue)
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return .failure(.current) }
        limit.rlim_cur = allow ? limit.rlim_max : 0
        return setrlimit(resource, &limit) == 0 ? .success(()) : .failure(.current)
    }

    /// setitimer(ITIMER_REAL): SIGALRM after `milliseconds`, then every
    /// `repeatMicroseconds`.
    static func setRealTimer(milliseconds: UInt64, repeatMicroseconds: Int) -> Result<Void, Errno> {
        var timer = itimerval()
        timer.it_value.tv_sec = Int(milliseconds / 1000)
        timer.it_value.tv_usec = Int(milliseconds % 1000) * 1000
        timer.it_interval.tv_usec = repeatMicroseconds
        #if NABLA_MUSL
        let which = ITIMER_REAL
        #else
        let which = __itimer_which_t(ITIMER_REAL.rawValue)
        #endif
        return setitimer(which, &timer, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// waitpid(2) with `options`, retried on EINTR: the raw status.
    static func wait(for pid: pid_t, options: Int32) -> Result<Int32, Errno> {
        var status: Int32 = 0
        return retryingOnInterrupt { waitpid(pid, &status, options) }.map { _ in status }
    }

    /// mount(2) of a pseudo file system of `type` at `target`.
    static func mount(_ type: String, at target: String) -> Result<Void, Errno> {
        Glibc.mount("nodev", target, type, 0, nil) == 0 ? .success(()) : .failure(.current)
    }

    /// execv(2) of `executable` with `arguments` (argv[0] included); returns
    /// only if it failed.
    static func replaceProcess(_ executable: String, _ arguments: [String]) -> Errno {
        withCStrings(arguments) { argv in _ = execv(executable, argv) }
        return .current
    }

    /// execvp(3) of `arguments`; returns only if it failed.
    static func execute(_ arguments: [String]) -> Errno {
        withCStrings(arguments) { argv in _ = execvp(arguments[0], argv) }
        return .current
    }

    /// fstat(2).
    static func fstat(_ fd: Int32) -> Result<stat, Errno> {
        var st = stat()
        return Glibc.fstat(fd, &st) == 0 ? .success(st) : .failure(.current)
    }

    /// Reads exactly `buffer.count` bytes at `offset` with pread(2), or fails;
    /// a file that ends early fails with EIO.
    static func preadAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Result<Void, Errno> {
        var done = 0
        while done < buffer.count {
            let result = retryingOnInterrupt {
                Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            }
            switch result {
            case .failure(let error): return .failure(error)
            case .success(0): return .failure(Errno(rawValue: EIO))
            case .success(let n): done += n
            }
        }
        return .success(())
    }

    /// mmap(2) of anonymous memory at exactly `address`, failing with EEXIST
    /// instead of replacing anything already mapped there.
    static func mapFixed(_ address: UInt64, _ length: UInt64, _ protection: Int32) -> Result<Void, Errno> {
        let want = UnsafeMutableRawPointer(bitPattern: UInt(address))
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE
        let got = Glibc.mmap(want, Int(length), protection, flags, -1, 0)
        if got == MAP_FAILED { return .failure(.current) }
        if got != want {
            // A kernel older than 4.17 ignores MAP_FIXED_NOREPLACE and treats
            // the address as a hint.
            Glibc.munmap(got, Int(length))
            return .failure(.exists)
        }
        return .success(())
    }

    /// mmap(2) of `length` bytes of `fd` from `offset`, private
    /// (copy-on-write), at exactly `address`, replacing what the tender
    /// mapped there: used only inside guest memory it has reserved.
    static func mapFileFixed(_ fd: Int32, offset: UInt64, at address: UInt64, _ length: UInt64,
                             _ protection: Int32) -> Result<Void, Errno> {
        let want = UnsafeMutableRawPointer(bitPattern: UInt(address))
        let got = Glibc.mmap(want, Int(length), protection, MAP_PRIVATE | MAP_FIXED, fd, off_t(offset))
        return got == MAP_FAILED ? .failure(.current) : .success(())
    }

    /// mprotect(2).
    static func protect(_ address: UInt64, _ length: UInt64, _ protection: Int32) -> Result<Void, Errno> {
        Glibc.mprotect(UnsafeMutableRawPointer(bitPattern: UInt(address)), Int(length), protection) == 0
            ? .success(()) : .failure(.current)
    }

    /// Moves `fd` to a descriptor above 2 (closing the old one) if it is
    /// 0-2, so that a tender started with stdin, stdout or stderr closed
    /// never has a device on the console's descriptors.
    static func moveAbove2(_ fd: Int32, what: String) throws(TenderError) -> Int32 {
        guard fd < 3 else { return fd }
        let moved = nabla_dup_above(fd, 3)
        close(fd)
        guard moved >= 0 else { throw .hostCall("fcntl(F_DUPFD_CLOEXEC) of \(what)", Errno(rawValue: -moved)) }
        return moved
    }

    /// ioctl(BLKGETSIZE64): the size of a block device in bytes.
    static func blockDeviceSize(_ fd: Int32) -> Result<UInt64, Errno> {
        var bytes: UInt64 = 0
        let result = nabla_block_device_size(fd, &bytes)
        return result == 0 ? .success(bytes) : .failure(Errno(rawValue: -result))
    }

    /// flock(2) with LOCK_NB: exclusive or shared; EWOULDBLOCK if held.
    static func lock(_ fd: Int32, exclusive: Bool) -> Result<Void, Errno> {
        retryingOnInterrupt { flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) }.map { _ in () }
    }

    /// Opens /dev/net/tun attached to the existing TAP interface `name`
    /// (non-blocking, close-on-exec); ENODEV if there is none.
    static func attachTap(_ name: String, offload: Bool) -> Result<Int32, Errno> {
        let fd = nabla_tap_attach(name, offload ? 1 : 0)
        return fd >= 0 ? .success(fd) : .failure(Errno(rawValue: -fd))
    }

    /// Whether interface `name` is up (SIOCGIFFLAGS).
    static func interfaceIsUp(_ name: String) -> Result<Bool, Errno> {
        let up = nabla_interface_is_up(name)
        return up >= 0 ? .success(up == 1) : .failure(Errno(rawValue: -up))
    }

    /// close(2), ignoring the result: used only on descriptors the tender owns.
    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// close_range(2) of [first, last]; a kernel without it gets close(2)
    /// of each descriptor that is open.
    static func closeRange(_ first: UInt32, _ last: UInt32) {
        guard first <= last else { return }
        if nabla_close_range(first, last) == 0 { return }
        let limit = UInt32(clamping: sysconf(Int32(_SC_OPEN_MAX)))
        var fd = first
        while fd <= min(last, limit) { _ = Glibc.close(Int32(fd)); fd += 1 }
    }

    /// Reads from `fd` until end of file, an error, or (for a non-blocking
    /// descriptor) until nothing more is there now.
    static func readAvailable(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One write(2) of `text`, retried on EINTR: the bytes written.
    static func write(_ fd: Int32, _ text: String) -> Result<Int, Errno> {
        var text = text
        return text.withUTF8 { bytes in retryingOnInterrupt { Glibc.write(fd, bytes.baseAddress, bytes.count) } }
    }

    /// Writes all of `text` to `fd`, ignoring errors: for messages to stderr.
    static func writeAll(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }
}

/// The tender's stderr, unbuffered.
public enum StandardError {
    /// Writes `text` to fd 2 in full, ignoring errors.
    public static func write(_ text: String) { Sys.writeAll(2, text) }
}
