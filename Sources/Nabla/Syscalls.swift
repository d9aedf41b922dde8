// Syscalls.swift: every raw libc call the tender makes before the filter is
// loaded, in one place, each returning Result<_, Errno>. The calls made after
// the filter is loaded are in Hypercalls.swift and Diagnostics.swift.

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

    /// strerror's text, such as "No such file or directory".
    public var description: String { String(cString: strerror(rawValue)) }

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

enum Sys {
    /// open(2) with O_CLOEXEC.
    static func open(_ path: String, _ flags: Int32) -> Result<Int32, Errno> {
        retryingOnInterrupt { Glibc.open(path, flags | O_CLOEXEC) }
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
    static func attachTap(_ name: String) -> Result<Int32, Errno> {
        let fd = nabla_tap_attach(name)
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
