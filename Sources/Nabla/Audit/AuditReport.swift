// AuditReport.swift: what `--audit` found, as data: the system calls of each
// phase (counted, not stored), the policy's rules and their use, violations,
// the verdict. The tracer (Auditor.swift) fills it; AuditReport+Text.swift
// and AuditReport+JSON.swift render it.

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
    /// Also write an OCI seccomp profile of the run to this file.
    public var profile: String?
    /// Profiles to merge into that one.
    public var merge: [String]

    public init(kernel: Bool = false, json: Bool = false, output: String? = nil, profile: String? = nil, merge: [String] = []) {
        self.kernel = kernel
        self.json = json
        self.output = output
        self.profile = profile
        self.merge = merge
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
    /// Every call of both phases that ran (a call the filter stopped did
    /// not), with its pinned arguments: what `--seccomp-profile` writes.
    var profile = SeccompProfile()
    /// The traced tender's policy, from its manifest.
    public var rules: [SyscallRule] = []
    /// How many guest-phase calls each rule allowed.
    public var ruleUse: [Int] = []
    /// The first ``violationLimit`` guest-phase calls that no rule allows.
    public var violations: [ObservedCall] = []
    /// All such calls.
    public var violationCount = 0
    /// System calls the filter trapped (from the kernel's SIGSYS siginfo).
    public var trapped: [Int] = []
    /// True once the tender loaded its filter: the guest phase began. A
    /// guest whose tender stopped before that never ran.
    public var guestRan = false
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
        if let rule = rules.firstIndex(where: { $0.admits(call) }) {
            ruleUse[rule] += 1
            profile.record(call)
        } else {
            violationCount += 1
            if violations.count < Self.violationLimit { violations.append(call) }
        }
    }

    /// What the tracer, not the guest, saw end the run: the tender's own
    /// lines on stderr can be forged by the guest, this cannot.
    public var verdict: String {
        if isGuest && !guestRan {
            return "nothing ran: the tender stopped before it loaded the filter (its message is above), status \(exit.shellStatus)"
        }
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

    /// ``ruleUse``, with a zero for every rule when no call was recorded.
    var used: [Int] { ruleUse.count == rules.count ? ruleUse : Array(repeating: 0, count: rules.count) }
}
