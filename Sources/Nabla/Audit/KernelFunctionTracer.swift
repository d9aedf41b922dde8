// KernelFunctionTracer.swift: `--audit-kernel`: the kernel functions a
// process reaches, from the ftrace function tracer filtered to its pid.
// This is the attack-surface measure of the nabla paper.

import Glibc

/// Drives tracefs for one audit. Needs root and a kernel that allows the
/// function tracer; ``init()`` checks both and says which is missing.
///
/// The kernel has one function tracer for the whole machine, so a tracer
/// holds an exclusive lock (``lockPath``) from start to end, and puts back
/// the tracer settings it found (tracer, on/off, buffer size) when it is
/// done, whichever way the audit ends.
final class KernelFunctionTracer {
    static let root = "/sys/kernel/tracing"
    /// Held while an --audit-kernel uses the function tracer.
    static let lockPath = "/run/nabla-audit-kernel.lock"
    private var running = false
    private let lock: Int32
    /// The settings found, put back by ``restore()``.
    private var saved: [(file: String, value: String)] = []

    /// Takes the lock, mounts tracefs if needed and checks that the function
    /// tracer can be selected, before anything is run.
    init() throws(TenderError) {
        switch Sys.open(Self.lockPath, O_RDWR | O_CREAT, mode: 0o600) {
        case .success(let fd): lock = fd
        case .failure(let error): throw .kernelTracingUnavailable("cannot open \(Self.lockPath): \(error) (--audit-kernel needs root)")
        }
        switch Sys.lock(lock, exclusive: true) {
        case .success: break
        case .failure(let error):
            Sys.close(lock)
            throw .kernelTracingUnavailable(error.rawValue == EWOULDBLOCK
                ? "another --audit-kernel is using the kernel's function tracer; try again when it ends"
                : "cannot lock \(Self.lockPath): \(error)")
        }
        if !Sys.isAccessible("\(Self.root)/trace", F_OK), case .failure(let error) = Sys.mount("tracefs", at: Self.root) {
            Sys.close(lock)
            throw .kernelTracingUnavailable("cannot mount tracefs on \(Self.root): \(error) (--audit-kernel needs root)")
        }
        for file in ["current_tracer", "tracing_on", "buffer_size_kb"] {
            let value = readFile("\(Self.root)/\(file)").split { $0.isWhitespace }.first.map(String.init) ?? ""
            if !value.isEmpty { saved.append((file, value)) }
        }
        do throws(TenderError) {
            try write("tracing_on", "0")
            try write("current_tracer", "function")
            try write("current_tracer", "nop")
        } catch {
            restore()
            Sys.close(lock)
            throw error
        }
    }

    /// Traces every kernel function `pid` runs from now on.
    func start(pid: Int32) throws(TenderError) {
        try write("tracing_on", "0")
        try write("current_tracer", "nop")
        try write("buffer_size_kb", "16384")
        try write("trace", "")
        try write("set_ftrace_filter", "")
        try write("set_ftrace_pid", "\(pid)")
        try write("current_tracer", "function")
        try write("tracing_on", "1")
        running = true
    }

    /// Stops tracing and returns the unique functions and the entries lost.
    func stop() throws(TenderError) -> ([String], UInt64) {
        guard running else { return ([], 0) }
        running = false
        try write("tracing_on", "0")
        let trace = readFile("\(Self.root)/trace")
        restore()
        var functions = Set<String>()
        var lost: UInt64 = 0
        for line in trace.split(separator: "\n") {
            if line.hasPrefix("#") {
                // "# entries-in-buffer/entries-written: 95/120   #P:2"
                if line.hasPrefix("# entries-in-buffer"), let counts = line.split(separator: " ").first(where: { $0.contains("/") && $0.first?.isNumber == true }) {
                    let parts = counts.split(separator: "/").compactMap { UInt64($0) }
                    if parts.count == 2, parts[1] > parts[0] { lost = parts[1] - parts[0] }
                }
                continue
            }
            // "  nabla-run-1234  [001] .....  12.345678: do_syscall_64 <-entry_SYSCALL_64"
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let stamp = words.firstIndex(where: { $0.hasSuffix(":") && $0.dropLast().allSatisfy { $0.isNumber || $0 == "." } }),
                  stamp + 1 < words.endIndex else { continue }
            functions.insert(String(words[stamp + 1]))
        }
        return (functions.sorted(), lost)
    }

    deinit {
        if running { try? write("tracing_on", "0") }
        restore()
        Sys.close(lock)
    }

    /// Clears this audit's pid filter and trace, and puts back the settings
    /// found. Safe to call more than once.
    private func restore() {
        try? write("set_ftrace_pid", "")
        try? write("trace", "")
        for (file, value) in saved.reversed() where file != "tracing_on" { try? write(file, value) }
        if let on = saved.first(where: { $0.file == "tracing_on" }) { try? write(on.file, on.value) }
        saved = []
    }

    private func write(_ file: String, _ value: String) throws(TenderError) {
        let path = "\(Self.root)/\(file)"
        let fd: Int32
        switch Sys.open(path, O_WRONLY | O_TRUNC) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .kernelTracingUnavailable("cannot open \(path): \(error) (--audit-kernel needs root)")
        }
        defer { Sys.close(fd) }
        if case .failure(let error) = Sys.write(fd, value + "\n") {
            throw .kernelTracingUnavailable(error.rawValue == EPERM && file == "current_tracer"
                ? "the kernel refused the function tracer (\(error)): it is locked down or restricts ftrace"
                : "cannot write '\(value)' to \(path): \(error)")
        }
    }

    private func readFile(_ path: String) -> String {
        guard case .success(let fd) = Sys.open(path, O_RDONLY) else { return "" }
        defer { Sys.close(fd) }
        return Sys.readAvailable(fd)
    }
}
