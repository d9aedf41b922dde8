// Canary.swift: a working directory that proves an attack changed nothing.
//
// Each attacking guest's tender runs with its current directory in a fresh
// temporary directory holding a canary file of random bytes. Afterwards the
// canary must be byte-identical and no file may have appeared, been removed
// or changed (a `core` file is allowed only where a test asks for one).
// With a network namespace, the tender runs in it (for attacks on a TAP).

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory with a canary file; the tender runs inside it.
/// Removed when the value goes away.
final class CanaryDirectory {
    static let canaryName = "canary.bin"

    let path: String
    /// The network namespace the tender runs in, if any.
    let namespace: NetNamespace?
    /// The canary's bytes as written.
    let canary: Data
    /// Every file present before the attack and its contents: the canary and
    /// any disks the test made.
    private var baseline: [String: Data] = [:]

    init(namespace: NetNamespace? = nil) throws {
        self.namespace = namespace
        path = NSTemporaryDirectory() + "nabla-canary-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 4096)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        canary = Data(bytes)
        try canary.write(to: URL(fileURLWithPath: path + "/" + Self.canaryName))
        baseline[Self.canaryName] = canary
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Creates a disk image of `size` random bytes here; it becomes part of
    /// the baseline (call `diskChanged` to accept a change the test expects).
    func makeDisk(name: String = "disk.img", size: Int = 4096) throws -> String {
        let file = try NablaTests.makeDisk(in: path, name: name, size: size, fill: .random)
        baseline[name] = try Data(contentsOf: URL(fileURLWithPath: file))
        return file
    }

    /// The bytes a file of the baseline had before the attack.
    func original(_ name: String) -> Data? { baseline[name] }

    /// Accepts the current contents of `name` as its baseline.
    func accept(_ name: String) throws {
        baseline[name] = try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))
    }

    /// The command that runs nabla-run with `arguments` in this directory.
    func command(_ arguments: [String]) throws -> (executable: String, arguments: [String]) {
        let shell = ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", path, Paths.tender] + arguments
        guard let namespace else { return ("/bin/sh", shell) }
        return try namespace.command("/bin/sh", shell)
    }

    /// Runs nabla-run with `arguments` here and waits for it.
    func run(_ arguments: [String], timeout: Double = 20) throws -> Outcome {
        let (executable, shellArguments) = try command(arguments)
        return try NablaTests.run(executable, shellArguments, timeout: timeout)
    }

    /// Starts nabla-run with `arguments` here without waiting.
    func start(_ arguments: [String]) throws -> CanaryRun {
        try CanaryRun(self, arguments)
    }

    /// What the attack changed here, one line each; empty if nothing.
    /// Files named in `allowing` may appear.
    func damage(allowing allowed: (String) -> Bool = { _ in false }) -> [String] {
        var problems: [String] = []
        let now = Set((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
        for (name, bytes) in baseline.sorted(by: { $0.key < $1.key }) {
            guard now.contains(name) else { problems.append("\(name) was removed"); continue }
            let current = (try? Data(contentsOf: URL(fileURLWithPath: path + "/" + name))) ?? Data()
            if current != bytes { problems.append("\(name) changed (\(bytes.count) bytes before, \(current.count) after)") }
        }
        for name in now.subtracting(baseline.keys).sorted() where !allowed(name) {
            problems.append("new file \(name)")
        }
        return problems
    }

    /// Records an issue for anything the attack changed here.
    func expectUntouched(allowing allowed: (String) -> Bool = { _ in false },
                         _ context: @autoclosure () -> String = "",
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = damage(allowing: allowed)
        #expect(problems.isEmpty, "the attack changed its working directory: \(problems.joined(separator: "; ")) \(context())",
                sourceLocation: sourceLocation)
    }
}

/// Runs `body` with a fresh canary directory (whose tender runs in
/// `namespace`, if given), then checks it is untouched.
func withCanaryDirectory<T>(in namespace: NetNamespace? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: (CanaryDirectory) throws -> T) throws -> T {
    let directory = try CanaryDirectory(namespace: namespace)
    let result = try body(directory)
    directory.expectUntouched(sourceLocation: sourceLocation)
    return result
}

/// A nabla-run started in a canary directory, its output in temporary files
/// outside it.
final class CanaryRun {
    let directory: CanaryDirectory
    let child: Child
    private let outPath: String
    private let errPath: String

    fileprivate init(_ directory: CanaryDirectory, _ arguments: [String]) throws {
        self.directory = directory
        let base = NSTemporaryDirectory() + "nabla-attack-" + UUID().uuidString
        outPath = base + ".out"
        errPath = base + ".err"
        let (executable, shellArguments) = try directory.command(arguments)
        child = try Child(executable, shellArguments, stdout: outPath, stderr: errPath)
    }

    deinit {
        child.kill()
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }

    /// Waits for the tender; kills it and throws after `timeout` seconds.
    func finish(timeout: Double = 20) throws -> Outcome {
        guard let status = child.wait(timeout: timeout) else {
            child.kill()
            throw HarnessError("nabla-run in \(directory.path) did not finish in \(timeout) s")
        }
        let stdout = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let stderr = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
        return Outcome(status: status, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}
