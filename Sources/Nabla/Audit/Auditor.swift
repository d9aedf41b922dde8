// Auditor.swift: `--audit`: run a guest (or a native command) under ptrace
// and report every system call it made, by phase, checked against the policy.
//
// The tracer is this process; the traced one is a fresh nabla-run started
// with the same configuration. Before it loads its filter, the traced tender
// writes its manifest (AuditManifest.swift: its policy rules and the address
// of its hypercall counters) to a pipe named by NABLA_AUDIT_FD; it then
// closes the pipe with every other descriptor. docs/audit.md explains the
// choice of ptrace.

import CNablaTender
import Glibc

/// Runs a process under ptrace and builds an ``AuditReport``.
public enum Auditor {

    /// Audits a guest run: a fresh nabla-run (the one beside this binary) with
    /// `configuration`, traced from exec to exit.
    public static func audit(_ configuration: TenderConfiguration, options: AuditOptions) throws(TenderError) -> AuditReport {
        var fds: [Int32] = [0, 0]
        let piped = nabla_pipe_cloexec(&fds)
        guard piped == 0 else { throw .hostCall("pipe2", Errno(rawValue: -piped)) }
        defer { Sys.close(fds[0]) }
        let arguments = ["nabla-run"] + configuration.commandLine
        var report = AuditReport(subject: [configuration.imagePath] + configuration.guestArguments, isGuest: true)
        try trace(executable: Tender.runner, arguments: arguments, manifest: (read: fds[0], write: fds[1]),
                  options: options, report: &report)
        return report
    }

    /// Audits a native command, traced from exec to exit.
    public static func auditNative(_ command: [String], options: AuditOptions) throws(TenderError) -> AuditReport {
        guard let name = command.first else { throw .auditFailed("--audit-native needs a command after --") }
        guard let executable = resolve(name) else {
            throw .auditFailed(name.contains("/") ? "cannot run '\(name)': no such executable file" : "cannot find '\(name)' on PATH")
        }
        var report = AuditReport(subject: command, isGuest: false)
        try trace(executable: executable, arguments: command, manifest: nil, options: options, report: &report)
        return report
    }

    /// Fails if `--audit-out`'s or `--seccomp-profile`'s file cannot be
    /// written, or a `--merge` profile cannot be read and merged, before
    /// anything runs: a report that cannot be delivered must not cost a
    /// run. Returns the merged `--merge` profiles.
    public static func prepare(_ options: AuditOptions) throws(TenderError) -> SeccompProfile {
        var merged = SeccompProfile()
        for path in options.merge {
            merged = merged.merged(with: try SeccompProfile(parsing: try readText(path), path: path))
        }
        for path in [options.output, options.profile] {
            guard let path else { continue }
            switch Sys.open(path, O_WRONLY | O_CREAT) {
            case .success(let fd): Sys.close(fd)
            case .failure(let error): throw .auditFailed("cannot write \(path): \(error)")
            }
        }
        return merged
    }

    /// The whole of a small text file (a profile).
    private static func readText(_ path: String) throws(TenderError) -> String {
        let fd: Int32
        switch Sys.open(path, O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .cannotOpen(path: path, error)
        }
        defer { Sys.close(fd) }
        return Sys.readAvailable(fd)
    }

    /// Writes `report` where `options` says: a file, or stderr. JSON on
    /// stderr is one line and the last one, after a line break of its own
    /// (whatever the guest or the tender wrote there before), so that
    /// `2>&1 >/dev/null | tail -n 1` is the document.
    /// With `--seccomp-profile`, the run's profile merged with `merging`
    /// (``prepare(_:)``'s result) goes to its file.
    public static func deliver(_ report: AuditReport, options: AuditOptions, merging: SeccompProfile = SeccompProfile()) throws(TenderError) {
        if let path = options.profile {
            try write(report.seccompProfile.merged(with: merging).json, to: path)
        }
        let text = options.json ? report.json : report.text
        guard let path = options.output else { return StandardError.write(options.json ? "\n" + text : text) }
        try write(text, to: path)
    }

    private static func write(_ text: String, to path: String) throws(TenderError) {
        switch Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC) {
        case .success(let fd):
            Sys.writeAll(fd, text)
            Sys.close(fd)
        case .failure(let error):
            throw .auditFailed("cannot write \(path): \(error)")
        }
    }

    private static func resolve(_ name: String) -> String? {
        if name.contains("/") { return Sys.isAccessible(name, X_OK) ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where Sys.isAccessible("\(directory)/\(name)", X_OK) {
            return "\(directory)/\(name)"
        }
        return nil
    }

    // ptrace requests and options (linux/ptrace.h).
    private static let ptraceSyscall: Int32 = 24
    private static let ptraceSetOptions: Int32 = 0x4200
    private static let ptraceGetSigInfo: Int32 = 0x4202
    private static let optionTraceSysGood: UInt = 0x1
    private static let optionTraceExit: UInt = 0x40
    private static let optionExitKill: UInt = 0x10_0000
    private static let eventExit: Int32 = 6
    private static let syscallStopSignal = SIGTRAP | 0x80

    private static func trace(executable: String, arguments: [String], manifest: (read: Int32, write: Int32)?,
                              options: AuditOptions, report: inout AuditReport) throws(TenderError) {
        let kernel = options.kernel ? try KernelFunctionTracer() : nil
        var environment = ProcessEnvironment.current.filter { !$0.hasPrefix(AuditManifest.variable + "=") }
        if let manifest { environment.append("\(AuditManifest.variable)=\(manifest.write)") }
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                nabla_spawn_traced(executable, argv, envp, manifest?.write ?? -1)
            }
        }
        if let manifest { Sys.close(manifest.write) }
        guard pid > 0 else { throw .auditFailed("cannot start \(executable): \(Errno(rawValue: -pid))") }

        var status: Int32
        switch Sys.wait(for: pid, options: __WALL) {
        case .success(let raw): status = raw
        case .failure(let error): throw .auditFailed("waitpid: \(error)")
        }
        guard isStopped(status) else {
            throw .auditFailed("\(executable) did not start (status \(status >> 8 & 0xff))")
        }
        _ = nabla_ptrace(ptraceSetOptions, pid, 0, optionTraceSysGood | optionTraceExit | optionExitKill)
        var guestPhase = manifest == nil  // a native process has one phase, recorded as "setup"
        if manifest == nil { try kernel?.start(pid: pid) }  // a native process is traced from exec
        var lastEntry: ObservedCall?
        var manifestText = ""
        var countersAddress: UInt64 = 0
        var resumeSignal: Int32 = 0
        _ = nabla_ptrace(ptraceSyscall, pid, 0, 0)
        while true {
            switch Sys.wait(for: pid, options: __WALL) {
            case .success(let raw): status = raw
            case .failure(let error): throw .auditFailed("waitpid: \(error)")
            }
            if status & 0x7f == 0 { report.exit = .status(status >> 8 & 0xff); break }
            if !isStopped(status) { report.exit = .signal(status & 0x7f); break }
            let signal = status >> 8 & 0xff
            resumeSignal = 0
            if signal == syscallStopSignal {
                var stop = nabla_syscall_stop()
                if nabla_ptrace_syscall_stop(pid, &stop) == 0 {
                    if stop.kind == 1 {
                        let args = withUnsafeBytes(of: stop.args) { Array($0.bindMemory(to: UInt64.self)) }
                        let call = ObservedCall(number: Int(truncatingIfNeeded: stop.nr), arguments: args, native: stop.arch == Diagnostics.auditArchX86_64)
                        if manifest != nil && guestPhase {
                            report.recordGuestCall(call)
                        } else {
                            report.setup.add(call)
                            report.profile.record(call)
                        }
                        lastEntry = call
                    } else if stop.kind == 2, !guestPhase, let entry = lastEntry, entry.native, entry.number == 317,
                              entry.arguments[0] == 1, entry.arguments[2] != 0, stop.rval == 0 {
                        // seccomp(SECCOMP_SET_MODE_FILTER, ..., prog) succeeded: the guest phase begins.
                        guestPhase = true
                        report.guestRan = manifest != nil
                        if let manifest {
                            manifestText += drain(manifest.read)
                            guard let decoded = AuditManifest(decoding: manifestText) else {
                                throw .auditFailed("the traced tender's manifest is malformed: \(manifestText.prefix(200))")
                            }
                            report.rules = decoded.rules
                            countersAddress = decoded.countersAddress
                        }
                        try kernel?.start(pid: pid)
                    }
                }
            } else if status >> 16 != 0 {
                // A ptrace event stop, not a signal: nothing to deliver.
                if status >> 16 == eventExit {
                    if countersAddress != 0 { report.hypercalls = readCounters(pid: pid, address: countersAddress) }
                    if let kernel { (report.kernelFunctions, report.kernelEntriesLost) = try kernel.stop() }
                }
            } else {
                // A real signal (SIGTRAP from int3 included: syscall stops
                // carry 0x80): delivered as without the tracer.
                if signal == SIGSYS {
                    var info = siginfo_t()
                    if nabla_ptrace(ptraceGetSigInfo, pid, 0, UInt(bitPattern: withUnsafeMutablePointer(to: &info) { $0 })) == 0,
                       report.trapped.count < AuditReport.violationLimit {
                        report.trapped.append(Int(nabla_siginfo_syscall(&info)))
                    }
                }
                if signal == SIGALRM && guestPhase { report.timedOut = true }
                if Diagnostics.faultSignals.contains(signal) && guestPhase && report.fault == nil { report.fault = signal }
                resumeSignal = signal
            }
            _ = nabla_ptrace(ptraceSyscall, pid, 0, UInt(resumeSignal))
        }
        if let kernel, report.kernelFunctions == nil { (report.kernelFunctions, report.kernelEntriesLost) = try kernel.stop() }
    }

    private static func isStopped(_ status: Int32) -> Bool { status & 0xff == 0x7f }

    /// Reads what is in the pipe now, without blocking.
    private static func drain(_ fd: Int32) -> String {
        _ = Sys.setNonBlocking(fd)
        return Sys.readAvailable(fd)
    }

    /// The traced tender's hypercall counters, read when it exits.
    private static func readCounters(pid: Int32, address: UInt64) -> [(Hypercall, calls: UInt64, bytes: UInt64)] {
        var counters = [UInt64](repeating: 0, count: 2 * Int(NABLA_HYPERCALL_COUNT))
        let result = counters.withUnsafeMutableBytes { nabla_read_process_memory(pid, address, $0.baseAddress, UInt64($0.count)) }
        guard result == 0 else { return [] }
        return Hypercall.allCases.map { ($0, calls: counters[$0.rawValue], bytes: counters[Int(NABLA_HYPERCALL_COUNT) + $0.rawValue]) }
    }
}

/// The process environment as `KEY=VALUE` strings.
enum ProcessEnvironment {
    static var current: [String] {
        var result: [String] = []
        let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var at = start else { return result }
        while let entry = at.pointee {
            result.append(String(cString: entry))
            at += 1
        }
        return result
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T) -> T {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
