// Harness.swift: running the built nabla-run and the bundled guests.

import Foundation

/// Where the binaries under test are. `make test` sets NABLA_RUN and
/// NABLA_GUESTS; a bare `swift test` uses the debug build and .build/guests.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var tender: String {
        ProcessInfo.processInfo.environment["NABLA_RUN"]
            ?? packageRoot.appendingPathComponent(".build/debug/nabla-run").path
    }

    static var guests: String {
        ProcessInfo.processInfo.environment["NABLA_GUESTS"]
            ?? packageRoot.appendingPathComponent(".build/guests").path
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

/// Runs `executable` with `arguments`, killing it after `timeout` seconds.
func run(_ executable: String, _ arguments: [String], timeout: Double = 20, directory: String? = nil) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data(), errData = Data()
    DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(2000) }
    if process.isRunning {
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        group.wait()
        throw HarnessError("\(executable) \(arguments) did not finish in \(timeout) s")
    }
    process.waitUntilExit()
    group.wait()
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    return Outcome(status: status, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
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
