// Harness.swift: running the built nabla-run and the bundled guests.

import Foundation
import Testing

/// Where the binaries under test are. `make test` sets NABLA_RUN and
/// NABLA_GUESTS; a bare `swift test` uses the nabla-run `make tender` built
/// (an Embedded Swift build SwiftPM does not make) and .build/guests.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var tender: String {
        absolute(ProcessInfo.processInfo.environment["NABLA_RUN"])
            ?? packageRoot.appendingPathComponent(".build/release/nabla-run").path
    }

    /// NABLA_TEST_NO_NET_OFFLOAD=1: network tests run the tender with
    /// `--no-net-offload` (NetNamespace.command).
    static var withoutNetOffload: Bool {
        ProcessInfo.processInfo.environment["NABLA_TEST_NO_NET_OFFLOAD"] == "1"
    }

    static var guests: String {
        absolute(ProcessInfo.processInfo.environment["NABLA_GUESTS"])
            ?? packageRoot.appendingPathComponent(".build/guests").path
    }

    /// `path` made absolute (tests run programs from other directories).
    private static func absolute(_ path: String?) -> String? {
        guard let path, !path.isEmpty else { return nil }
        return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The path of a bundled guest; the test fails (not skips) if it is
    /// missing, and says how to build it.
    static func guest(_ name: String) throws -> String {
        let path = guests + "/" + name + ".nabla"
        guard FileManager.default.fileExists(atPath: path) else {
            throw HarnessError("guest \(path) is missing: run 'make guests' (or 'make test')")
        }
        return path
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What a finished process left behind.
struct Outcome: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "status \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// A child process started with posix_spawn. Foundation's Process is not
/// used: with one child still running it can report another's exit late.
final class Child {
    let pid: pid_t
    private(set) var status: Int32?

    /// Starts `executable`; stdin, stdout and stderr are the given files
    /// (or /dev/null).
    init(_ executable: String, _ arguments: [String], stdin: String = "/dev/null", stdout: String = "/dev/null",
         stderr: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Test threads may block signals (Dispatch workers block them all),
        // and a spawned child inherits the mask: give it an empty one and
        // default actions, as a shell would.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
    }

    /// Reaps the child if it has exited; returns whether it is still running.
    var isRunning: Bool {
        if status != nil { return false }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return true }
        status = Self.decode(raw)
        return false
    }

    /// Waits up to `timeout` seconds; returns the status, or nil if still running.
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(1000) }
        return status
    }

    /// Kills the child with SIGKILL and reaps it.
    func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        status = Self.decode(raw)
    }

    deinit { kill() }

    /// The exit status, or 128 + the signal, as a shell reports it.
    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// Runs `executable` with `arguments`, killing it after `timeout` seconds.
func run(_ executable: String, _ arguments: [String], timeout: Double = 20) throws -> Outcome {
    let base = NSTemporaryDirectory() + "nabla-run-" + UUID().uuidString
    let outPath = base + ".out", errPath = base + ".err"
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let child = try Child(executable, arguments, stdout: outPath, stderr: errPath)
    guard let status = child.wait(timeout: timeout) else {
        child.kill()
        throw HarnessError("\(executable) \(arguments) did not finish in \(timeout) s")
    }
    let stdout = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
    let stderr = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
    return Outcome(status: status, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs nabla-run with `arguments`.
func nablaRun(_ arguments: [String], timeout: Double = 20) throws -> Outcome {
    try run(Paths.tender, arguments, timeout: timeout)
}

/// A temporary directory removed when the value is dropped by `body`.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = NSTemporaryDirectory() + "nabla-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Writes `bytes` to a new file in `directory` and returns its path.
func writeImage(_ bytes: [UInt8], in directory: String, name: String = "image.nabla") throws -> String {
    let path = directory + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only as root; otherwise Swift Testing skips it and
    /// shows `why`. `make test` as root (as CI runs it) runs everything; see
    /// the README, "What root adds".
    static func needsRoot(_ why: Comment) -> Self {
        .enabled(if: geteuid() == 0, why)
    }
}
