// Host.swift: every raw libc call nabla-test makes: spawning children with
// their output on pipes, reading, waiting, clocks, files.

#if canImport(Glibc)
import Glibc
#endif

/// A failed host call: what was attempted and errno, as one line.
struct HostError: Error {
    let message: String
    init(_ what: String, _ code: Int32 = errno) {
        message = "\(what): \(String(cString: strerror(code)))"
    }
}

/// Nanoseconds on the monotonic clock.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A child process whose stdout and stderr come back on two pipes.
struct SpawnedProcess {
    let pid: pid_t
    /// Read ends of the child's stdout and stderr (-1 once at end of file).
    var stdoutFD: Int32
    var stderrFD: Int32

    /// Starts `arguments[0]` (a path) with `arguments`; stdin is /dev/null.
    static func spawn(_ arguments: [String]) throws(HostError) -> SpawnedProcess {
        // nabla-test has one thread, so setting close-on-exec after pipe()
        // races with no other spawn.
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { throw HostError("pipe") }
        guard pipe(&err) == 0 else {
            let code = errno
            close(out[0]); close(out[1])
            throw HostError("pipe", code)
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(out[1]); close(err[1]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        // The child starts with default signal actions and an empty mask,
        // as it would from a shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard result == 0 else {
            close(out[0]); close(err[0])
            throw HostError("cannot start \(arguments[0])", result)
        }
        return SpawnedProcess(pid: pid, stdoutFD: out[0], stderrFD: err[0])
    }

    /// Waits for the child to end; its status as a shell reports it
    /// (0-255, or 128 + the signal).
    func waitForExit() -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// Sends SIGKILL (the child is reaped by waitForExit).
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }
}

/// Reads what is waiting on `fd` (at most 16 KiB): the bytes (none when
/// interrupted), or nil at the end of the stream or on an error.
func readAvailable(_ fd: Int32) -> ArraySlice<UInt8>? {
    var chunk = [UInt8](repeating: 0, count: 16384)
    let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if count < 0 { return errno == EINTR || errno == EAGAIN ? [] : nil }
    if count == 0 { return nil }
    return chunk[0..<count]
}

/// Writes all of `text` to `fd`.
func writeAll(_ fd: Int32, _ text: String) -> Bool {
    var text = text
    return text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

/// Creates (or truncates) `path` and writes `text` to it.
func writeFile(_ path: String, _ text: String) throws(HostError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw HostError("cannot create \(path)") }
    defer { close(fd) }
    guard writeAll(fd, text) else { throw HostError("cannot write \(path)") }
}

/// Whether `path` names a regular file this process may read.
func checkReadable(_ path: String) throws(HostError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw HostError("cannot read \(path)") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw HostError("cannot read \(path)") }
    guard (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFBLK else {
        throw HostError("cannot read \(path)", EISDIR)
    }
}

/// The value of an environment variable, if set and not empty.
func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// SIGINT and SIGTERM, noted rather than obeyed at once, so that nabla-test
/// can stop its guests and remove its disk copies before it ends.
enum Interruption {
    /// Installs the handlers. The poll loop sees EINTR and checks `signal`.
    static func install() {
        for number in [SIGINT, SIGTERM] {
            _ = Glibc.signal(number) { received in caught = received }
        }
    }

    /// The signal that asked nabla-test to stop, or nil.
    static var signal: Int32? { caught == 0 ? nil : caught }
}

/// Written only by the signal handler, read by the one thread.
nonisolated(unsafe) private var caught: Int32 = 0

