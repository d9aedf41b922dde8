// Host.swift: the thin layer over libc that the rest of nabla-runc uses:
// files, atomic writes, directories, processes, and running iproute2.

import CNablaRunc
import Glibc

/// File-system helpers. Each throws a RuncError naming the path.
enum FileSystem {
    /// The whole file, or nil if it does not exist.
    static func read(_ path: String, limit: Int = 4 << 20) throws(RuncError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw RuncError(.noInput, "cannot open \(path): \(RuncError.errnoText(errno))")
        }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuncError(.noInput, "cannot read \(path): \(RuncError.errnoText(errno))")
            }
            if n == 0 { return data }
            data += buffer[0..<n]
            guard data.count <= limit else { throw RuncError(.badBundle, "\(path) is larger than \(limit >> 20) MiB") }
        }
    }

    /// Writes `bytes` to `path` all or nothing (Directory.writeAtomically
    /// in `path`'s directory): a symlink at `path` is replaced, never followed.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(RuncError) {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw RuncError(.usage, "\(path) names a directory, not a file") }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RuncError(.noInput, "cannot open directory \(parent) to write \(name) in it: \(RuncError.errnoText(errno))") }
        let directory = Directory(fd: fd, path: parent)
        defer { directory.close() }
        try directory.writeAtomically(name, bytes, mode: mode)
    }

    /// Creates `path` and any missing parents.
    static func makeDirectories(_ path: String, mode: mode_t = 0o711) throws(RuncError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw RuncError.system("cannot create directory \(prefix)")
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The names in a directory (without . and ..), or [] if it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `path` made absolute against the working directory, with "." and
    /// ".." parts resolved lexically.
    static func absolute(_ path: String) -> String {
        var base = ""
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            if getcwd(&buffer, buffer.count) != nil {
                base = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        var parts: [Substring] = []
        for part in (base + "/" + path).split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// A directory held by descriptor, in which nabla-runc creates, reads and
/// removes files relative to that descriptor (openat, renameat, unlinkat)
/// and never follows a symlink at a name, as runc does in its state
/// directory: a link planted there (`ROOT/ID -> /etc`, `pidfile.tmp ->
/// /etc/shadow`) is refused or replaced, never written through.
struct Directory {
    let fd: Int32
    /// For messages.
    let path: String

    /// Opens the directory `path`; its last component must not be a symlink.
    /// Nil with errno set (ELOOP or ENOTDIR for a symlink) if it cannot be.
    static func open(_ path: String) -> Directory? {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd < 0 ? nil : Directory(fd: fd, path: path)
    }

    /// The subdirectory `name`, not through a symlink; nil with errno set.
    func child(_ name: String) -> Directory? {
        let fd = openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd < 0 ? nil : Directory(fd: fd, path: path + "/" + name)
    }

    func close() { _ = Glibc.close(fd) }

    /// The file `name` (not a symlink), or nil if there is none.
    func read(_ name: String, limit: Int = 4 << 20) throws(RuncError) -> [UInt8]? {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if file < 0 {
            if errno == ENOENT { return nil }
            throw RuncError(.noInput, "cannot open \(path)/\(name): \(RuncError.errnoText(errno))")
        }
        defer { Glibc.close(file) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuncError(.noInput, "cannot read \(path)/\(name): \(RuncError.errnoText(errno))")
            }
            if n == 0 { return data }
            data += buffer[0..<n]
            guard data.count <= limit else { throw RuncError(.badBundle, "\(path)/\(name) is larger than \(limit >> 20) MiB") }
        }
    }

    /// Writes `bytes` as `name` all or nothing: a new temporary file of an
    /// unpredictable name made with O_EXCL (so it is never an existing file
    /// or a symlink), fsync, renamed over `name` (which replaces a symlink
    /// there instead of following it).
    func writeAtomically(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(RuncError) {
        var temporary = "", file: Int32 = -1
        for _ in 0..<8 {
            temporary = ".\(name).tmp-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
            file = openat(fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if file >= 0 || errno != EEXIST { break }
        }
        guard file >= 0 else { throw RuncError.system("cannot create \(path)/\(temporary)") }
        var written = 0
        var failure: Int32 = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(file, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            written += n
        }
        if failure == 0 && fsync(file) != 0 { failure = errno }
        if Glibc.close(file) != 0 && failure == 0 { failure = errno }
        if failure == 0 && renameat(fd, temporary, fd, name) != 0 { failure = errno }
        guard failure == 0 else {
            unlinkat(fd, temporary, 0)
            throw RuncError.system("cannot write \(path)/\(name)", errno: failure)
        }
    }

    /// Removes `name` and, if it is a directory (not a symlink to one),
    /// everything in it. What is gone already is no error.
    func removeTree(_ name: String) {
        if unlinkat(fd, name, 0) == 0 || errno == ENOENT { return }
        if let inner = child(name) {
            // fdopendir takes over a descriptor of its own.
            let copy = fcntl(inner.fd, F_DUPFD_CLOEXEC, 0)
            if copy >= 0, let stream = fdopendir(copy) {
                var names: [String] = []
                while let entry = readdir(stream) {
                    let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if entryName != "." && entryName != ".." { names.append(entryName) }
                }
                closedir(stream)
                for entryName in names { inner.removeTree(entryName) }
            } else if copy >= 0 {
                Glibc.close(copy)
            }
            inner.close()
        }
        unlinkat(fd, name, AT_REMOVEDIR)
    }
}

/// A process, identified by pid and start time so that a recycled pid is
/// not mistaken for the container.
struct ProcessIdentity: Equatable {
    let pid: pid_t
    /// Field 22 of /proc/PID/stat: clock ticks since boot at its start.
    let startTime: UInt64

    /// The identity of a live process, or nil if there is none with that pid.
    static func of(_ pid: pid_t) -> ProcessIdentity? {
        guard let stat = ProcessStat(pid: pid) else { return nil }
        return ProcessIdentity(pid: pid, startTime: stat.startTime)
    }

    /// Whether this process still exists and has not exited (a zombie has).
    var isAlive: Bool {
        guard let stat = ProcessStat(pid: pid), stat.startTime == startTime else { return false }
        return stat.state != "Z" && stat.state != "X"
    }
}

/// The two fields of /proc/PID/stat that nabla-runc needs.
struct ProcessStat {
    let state: Character
    let startTime: UInt64

    init?(pid: pid_t) {
        guard let bytes = try? FileSystem.read("/proc/\(pid)/stat"), let text = Optional(String(decoding: bytes, as: UTF8.self)),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state is field 3, starttime field 22.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let first = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        state = first
        startTime = start
    }
}

/// Runs a program with `input` on its stdin (else /dev/null) and waits for
/// it; returns its status and combined output. Used for `tc`, which
/// nabla-runc calls rather than speaking netlink itself.
func runTool(_ path: String, _ arguments: [String], input: String? = nil) throws(RuncError) -> (status: Int32, output: String) {
    var outputPipe: [Int32] = [0, 0], inputPipe: [Int32] = [-1, -1]
    guard nrc_pipe_cloexec(&outputPipe) == 0 else { throw RuncError.system("pipe") }
    if input != nil {
        guard nrc_pipe_cloexec(&inputPipe) == 0 else {
            close(outputPipe[0]); close(outputPipe[1])
            throw RuncError.system("pipe")
        }
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if input != nil {
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
    close(outputPipe[1])
    if input != nil { close(inputPipe[0]) }
    guard result == 0 else {
        close(outputPipe[0])
        if input != nil { close(inputPipe[1]) }
        throw RuncError.system("cannot run \(path)", errno: result)
    }
    if let input {
        // Small (a few hundred bytes): it fits the pipe, so no deadlock with the output.
        let bytes = Array(input.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(inputPipe[1], $0.baseAddress! + sent, $0.count - sent) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            sent += n
        }
        close(inputPipe[1])
    }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        output += buffer[0..<n]
    }
    close(outputPipe[0])
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    let status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    return (status, String(decoding: output, as: UTF8.self))
}

/// `name` in the usual system directories (nabla-runc runs `tc` for the
/// network wiring).
func findTool(_ name: String, package: String) throws(RuncError) -> String {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where access(dir + "/" + name, X_OK) == 0 {
        return dir + "/" + name
    }
    throw RuncError(.unsupported, "'\(name)' is missing: nabla-runc needs it for networking (apt-get install \(package))")
}

/// Now as RFC 3339 with nanoseconds, UTC, as runc writes "created".
func rfc3339Now() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let nanos = String(now.tv_nsec)
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
        + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
}

/// Sleeps for `milliseconds`.
func sleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

extension String {
    /// Without leading and trailing spaces and newlines.
    var trimmingSpace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
