// Audit.swift: `--audit`: run a guest (or a native command) under ptrace and
// report every system call it made, by phase, checked against the policy.
//
// The tracer is this process; the traced one is a fresh nabla-run started
// with the same configuration. Before it loads its filter, the traced tender
// writes a manifest (its policy rules and the address of its hypercall
// counters) to a pipe named by NABLA_AUDIT_FD; it then closes the pipe with
// every other descriptor. docs/audit.md explains the choice of ptrace.

import CNablaTender
import Glibc

/// What `--audit` reports and where.
public struct AuditOptions: Sendable {
    /// Also record the kernel functions reached (ftrace function tracer).
    public var kernel: Bool
    /// Write the report as JSON (schema in docs/audit.md).
    public var json: Bool
    /// Write the report to this file instead of stderr.
    public var output: String?

    public init(kernel: Bool = false, json: Bool = false, output: String? = nil) {
        self.kernel = kernel
        self.json = json
        self.output = output
    }
}

/// One system call as the tracer saw it at entry.
public struct ObservedCall: Hashable, Sendable {
    public var number: Int
    public var arguments: [UInt64]
    /// False for a call made through another architecture's entry (int 0x80).
    public var native: Bool

    public var name: String {
        guard native else { return "i386 #\(number)" }
        return nabla_syscall_name(number).map { String(cString: $0) } ?? "#\(number)"
    }
}

/// A policy rule as the traced tender reported it.
public struct ManifestRule: Sendable {
    public var number: Int
    public var pins: [ArgumentPin]
    public var description: String

    func allows(_ call: ObservedCall) -> Bool {
        call.native && call.number == number
            && pins.allSatisfy { $0.argument < call.arguments.count && $0.admits(call.arguments[$0.argument]) }
    }
}

/// How often one system call was seen.
public struct SyscallCount: Sendable, Equatable {
    public var name: String
    public var number: Int
    public var native: Bool
    public var count: Int
}

/// Calls counted by system call, in constant memory per distinct call: a
/// guest that makes millions of calls costs the tracer no more than one
/// that makes ten.
public struct SyscallTally: Sendable {
    private var counts: [Int: SyscallCount] = [:]
    /// Calls seen in all.
    public private(set) var total = 0

    mutating func add(_ call: ObservedCall) {
        let key = call.native ? call.number : -1 - call.number
        counts[key, default: SyscallCount(name: call.name, number: call.number, native: call.native, count: 0)].count += 1
        total += 1
    }

    /// The counts, most frequent first.
    public var histogram: [SyscallCount] {
        counts.values.sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
    }
}

/// How the traced process ended.
public enum AuditExit: Sendable, Equatable {
    case status(Int32)
    case signal(Int32)

    /// The status a shell would report.
    public var shellStatus: Int32 {
        switch self {
        case .status(let status): status
        case .signal(let signal): 128 + signal
        }
    }
}

/// Everything `--audit` found.
public struct AuditReport: Sendable {
    /// The most violations the report lists; the rest are only counted.
    public static let violationLimit = 64

    public var subject: [String]
    /// True for a nabla guest, false for a native command.
    public var isGuest: Bool
    /// Calls before the filter was loaded (a native command: all its calls).
    public var setup = SyscallTally()
    /// Calls after the filter was loaded.
    public var guest = SyscallTally()
    public var rules: [ManifestRule] = []
    /// How many guest-phase calls each rule allowed.
    public var ruleUse: [Int] = []
    /// The first ``violationLimit`` guest-phase calls that no rule allows.
    public var violations: [ObservedCall] = []
    /// All such calls.
    public var violationCount = 0
    /// System calls the filter trapped (from the kernel's SIGSYS siginfo).
    public var trapped: [Int] = []
    /// True if the kernel delivered SIGALRM (`--timeout` expired).
    public var timedOut = false
    /// The first fault signal the kernel delivered in the guest phase.
    public var fault: Int32?
    /// Per hypercall: calls and bytes moved (guests only).
    public var hypercalls: [(Hypercall, calls: UInt64, bytes: UInt64)] = []
    /// Unique kernel functions reached (with `--audit-kernel`).
    public var kernelFunctions: [String]?
    /// Trace entries the kernel dropped (the function list is then partial).
    public var kernelEntriesLost: UInt64 = 0
    public var exit: AuditExit = .status(0)

    /// Records a guest-phase call: counts it, and the rule that allowed it
    /// or, if none did, a violation.
    mutating func recordGuestCall(_ call: ObservedCall) {
        guest.add(call)
        if ruleUse.count != rules.count { ruleUse = Array(repeating: 0, count: rules.count) }
        if let rule = rules.firstIndex(where: { $0.allows(call) }) {
            ruleUse[rule] += 1
        } else {
            violationCount += 1
            if violations.count < Self.violationLimit { violations.append(call) }
        }
    }

    /// What the tracer, not the guest, saw end the run: the tender's own
    /// lines on stderr can be forged by the guest, this cannot.
    public var verdict: String {
        if let number = trapped.first {
            let name = nabla_syscall_name(number).map { String(cString: $0) } ?? "unknown"
            return "the filter trapped \(name) (\(number)) (SIGSYS from seccomp, seen by the tracer)"
        }
        if timedOut { return "--timeout expired (SIGALRM, seen by the tracer)" }
        if let fault { return "the guest faulted with signal \(fault) (seen by the tracer)" }
        switch exit {
        case .status(let status): return "the guest exited with status \(status) (no trap, no timeout)"
        case .signal(let signal): return "killed by signal \(signal)"
        }
    }

    private var used: [Int] { ruleUse.count == rules.count ? ruleUse : Array(repeating: 0, count: rules.count) }

    /// The text report.
    public var text: String {
        var lines = ["nabla-run audit: \(subject.joined(separator: " "))"]
        func phase(_ title: String, _ calls: SyscallTally) {
            let histogram = calls.histogram
            lines.append("\(title): \(calls.total) system calls, \(histogram.count) distinct")
            for entry in histogram { lines.append("  \(padded(entry.name, 20)) \(entry.count)") }
        }
        if isGuest {
            phase("setup phase (nabla-run, before the filter)", setup)
            phase("guest phase (under the filter)", guest)
            if violationCount == 0 {
                lines.append("policy check: every guest-phase call matched an allowed rule")
            } else {
                lines.append("policy check: \(violationCount) guest-phase calls matched no rule:")
                for call in violations {
                    lines.append("  \(call.name) (\(call.number)) args \(call.arguments.map { hex($0) }.joined(separator: ", "))")
                }
                if violationCount > violations.count { lines.append("  ... and \(violationCount - violations.count) more") }
            }
            lines.append("hypercalls (counted in tender memory the guest can write; the system calls above are the kernel's record):")
            for (hypercall, calls, bytes) in hypercalls {
                let moved = [.puts, .blkread, .blkwrite, .netread, .netwrite].contains(hypercall) ? ", \(bytes) bytes" : ""
                lines.append("  \(padded(hypercall.name, 10)) \(calls) calls\(moved)")
            }
            let use = used
            let unused = rules.indices.filter { use[$0] == 0 }
            lines.append("policy rules never used: \(unused.count) of \(rules.count)")
            for index in unused { lines.append("  \(rules[index].description)") }
        } else {
            phase("native process", setup)
        }
        if let functions = kernelFunctions {
            lines.append("kernel functions reached\(isGuest ? " in the guest phase" : ""): \(functions.count) unique"
                         + (kernelEntriesLost > 0 ? " (at least: \(kernelEntriesLost) trace entries were lost)" : ""))
        }
        if isGuest { lines.append("verdict: \(verdict)") }
        switch exit {
        case .status(let status): lines.append("exit: status \(status)")
        case .signal(let signal): lines.append("exit: killed by signal \(signal)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON report (schema "nabla-audit/1", docs/audit.md).
    public var json: String {
        let json = JSONWriter()
        json.object {
            json.field("schema") { json.string("nabla-audit/1") }
            json.field("subject") { json.array(subject) { json.string($0) } }
            json.field("mode") { json.string(isGuest ? "guest" : "native") }
            json.field("exit") {
                json.object {
                    switch exit {
                    case .status(let status): json.field("status") { json.number(Int(status)) }
                    case .signal(let signal): json.field("signal") { json.number(Int(signal)) }
                    }
                }
            }
            if isGuest {
                let use = used
                json.field("policy") {
                    json.array(Array(rules.indices)) { index in
                        let rule = rules[index]
                        json.object {
                            json.field("rule") { json.string(rule.description) }
                            json.field("number") { json.number(rule.number) }
                            json.field("pins") {
                                json.array(rule.pins) { pin in
                                    json.object {
                                        json.field("arg") { json.number(pin.argument) }
                                        json.field("op") { json.string(pin.comparison.rawValue) }
                                        json.field("value") { json.number(pin.value) }
                                    }
                                }
                            }
                            json.field("used") { json.number(use[index]) }
                        }
                    }
                }
            }
            json.field("phases") {
                json.object {
                    let phases: [(String, SyscallTally)] = isGuest ? [("setup", setup), ("guest", guest)] : [("native", setup)]
                    for (name, calls) in phases {
                        json.field(name) {
                            json.object {
                                json.field("total") { json.number(calls.total) }
                                json.field("syscalls") {
                                    json.object {
                                        for entry in calls.histogram { json.field(entry.name) { json.number(entry.count) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if isGuest {
                json.field("verdict") { json.string(verdict) }
                json.field("trapped") { json.array(trapped) { json.number($0) } }
                json.field("violation_count") { json.number(violationCount) }
                json.field("violations") {
                    json.array(violations) { call in
                        json.object {
                            json.field("syscall") { json.string(call.name) }
                            json.field("number") { json.number(call.number) }
                            json.field("args") { json.array(call.arguments) { json.number($0) } }
                        }
                    }
                }
                json.field("hypercalls") {
                    json.object {
                        for (hypercall, calls, bytes) in hypercalls {
                            json.field(hypercall.name) {
                                json.object {
                                    json.field("calls") { json.number(calls) }
                                    json.field("bytes") { json.number(bytes) }
                                }
                            }
                        }
                    }
                }
                let use = used
                json.field("unused_rules") { json.array(rules.indices.filter { use[$0] == 0 }) { json.string(rules[$0].description) } }
            }
            if let functions = kernelFunctions {
                json.field("kernel") {
                    json.object {
                        json.field("functions") { json.number(functions.count) }
                        json.field("entries_lost") { json.number(kernelEntriesLost) }
                        json.field("list") { json.array(functions) { json.string($0) } }
                    }
                }
            }
        }
        return json.text + "\n"
    }
}

/// Runs a process under ptrace and builds an ``AuditReport``.
public enum Auditor {
    /// The environment variable naming the manifest pipe in the traced tender.
    public static let manifestVariable = "NABLA_AUDIT_FD"

    /// Audits a guest run: a fresh nabla-run (`/proc/self/exe`) with
    /// `configuration`, traced from exec to exit.
    public static func audit(_ configuration: TenderConfiguration, options: AuditOptions) throws(TenderError) -> AuditReport {
        var fds: [Int32] = [0, 0]
        let piped = nabla_pipe_cloexec(&fds)
        guard piped == 0 else { throw .hostCall("pipe2", Errno(rawValue: -piped)) }
        defer { Sys.close(fds[0]) }
        let arguments = ["nabla-run"] + configuration.commandLine
        var report = AuditReport(subject: [configuration.imagePath] + configuration.guestArguments, isGuest: true)
        try trace(executable: "/proc/self/exe", arguments: arguments, manifest: (read: fds[0], write: fds[1]),
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

    /// Fails if `--audit-out`'s file cannot be written, before anything runs:
    /// a report that cannot be delivered must not cost a run.
    public static func checkOutput(_ options: AuditOptions) throws(TenderError) {
        guard let path = options.output else { return }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .auditFailed("cannot write \(path): \(Errno.current)") }
        Sys.close(fd)
    }

    /// Writes `report` where `options` says: a file, or stderr.
    public static func deliver(_ report: AuditReport, options: AuditOptions) throws(TenderError) {
        let text = options.json ? report.json : report.text
        guard let path = options.output else { return StandardError.write(text) }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .auditFailed("cannot write \(path): \(Errno.current)") }
        Sys.writeAll(fd, text)
        Sys.close(fd)
    }

    private static func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
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
        var environment = ProcessEnvironment.current.filter { !$0.hasPrefix(manifestVariable + "=") }
        if let manifest { environment.append("\(manifestVariable)=\(manifest.write)") }
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                nabla_spawn_traced(executable, argv, envp, manifest?.write ?? -1)
            }
        }
        if let manifest { Sys.close(manifest.write) }
        guard pid > 0 else { throw .auditFailed("cannot start \(executable): \(Errno(rawValue: -pid))") }

        var status: Int32 = 0
        waitpid(pid, &status, __WALL)
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
            guard waitpid(pid, &status, __WALL) == pid else {
                if errno == EINTR { continue }
                throw .auditFailed("waitpid: \(Errno.current)")
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
                        if manifest != nil && guestPhase { report.recordGuestCall(call) } else { report.setup.add(call) }
                        lastEntry = call
                    } else if stop.kind == 2, !guestPhase, let entry = lastEntry, entry.native, entry.number == 317,
                              entry.arguments[0] == 1, entry.arguments[2] != 0, stop.rval == 0 {
                        // seccomp(SECCOMP_SET_MODE_FILTER, ..., prog) succeeded: the guest phase begins.
                        guestPhase = true
                        if let manifest {
                            manifestText += drain(manifest.read)
                            (report.rules, countersAddress) = parseManifest(manifestText)
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
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        return Sys.readAvailable(fd)
    }

    /// `counters ADDR` and `rule NR ARG=VALUE... # DESCRIPTION` lines.
    private static func parseManifest(_ text: String) -> ([ManifestRule], UInt64) {
        var rules: [ManifestRule] = []
        var counters: UInt64 = 0
        for line in text.split(separator: "\n") {
            let (head, comment) = line.firstIndex(of: "#").map { (line[..<$0], String(line[line.index($0, offsetBy: 2)...])) } ?? (line[...], "")
            let words = head.split(separator: " ")
            if words.first == "counters", words.count == 2 {
                counters = UInt64(words[1].dropFirst(2), radix: 16) ?? 0
            } else if words.first == "rule", words.count >= 2, let number = Int(words[1]) {
                // ARG==0xVALUE or ARG<=0xVALUE
                let pins = words.dropFirst(2).compactMap { word -> ArgumentPin? in
                    let comparison: ArgumentPin.Comparison = word.contains("<=") ? .atMost : .equal
                    let parts = word.split(separator: comparison == .atMost ? "<=" : "==", omittingEmptySubsequences: false)
                    guard parts.count == 2, let argument = Int(parts[0]),
                          let value = UInt64(parts[1].dropFirst(2), radix: 16) else { return nil }
                    return ArgumentPin(argument, comparison, value)
                }
                rules.append(ManifestRule(number: number, pins: pins, description: comment))
            }
        }
        return (rules, counters)
    }

    /// The traced tender's hypercall counters, read when it exits.
    private static func readCounters(pid: Int32, address: UInt64) -> [(Hypercall, calls: UInt64, bytes: UInt64)] {
        var counters = [UInt64](repeating: 0, count: 14)
        let result = counters.withUnsafeMutableBytes { nabla_read_process_memory(pid, address, $0.baseAddress, UInt64($0.count)) }
        guard result == 0 else { return [] }
        return Hypercall.allCases.map { ($0, calls: counters[$0.rawValue], bytes: counters[7 + $0.rawValue]) }
    }

    /// Writes the manifest for the tracer, if this tender is being audited.
    static func writeManifest(policy: SeccompPolicy) {
        guard let value = getenv(manifestVariable), let fd = Int32(String(cString: value)) else { return }
        let counters = UInt64(UInt(bitPattern: nabla_scratch())) + UInt64(MemoryLayout<nabla_host_scratch>.offset(of: \.hypercall_calls)!)
        var text = "counters \(hex(counters))\n"
        for rule in policy.rules {
            let pins = rule.pins.map { " \($0.argument)\($0.comparison.rawValue)\(hex($0.value))" }.joined()
            text += "rule \(rule.syscall.number)\(pins) # \(rule.description.dropFirst("allow ".count))\n"
        }
        Sys.writeAll(fd, text)
    }
}

/// `text` followed by spaces up to `width` characters.
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// The process environment as `KEY=VALUE` strings.
enum ProcessEnvironment {
    static var current: [String] {
        var result: [String] = []
        var at = environ
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
