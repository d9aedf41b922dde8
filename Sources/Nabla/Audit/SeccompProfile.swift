// SeccompProfile.swift: `--seccomp-profile`: the OCI seccomp profile (the
// JSON runc, crun and podman load) that allows exactly the system calls a
// traced run made, pinning the arguments that mean the same thing in every
// run. docs/audit.md describes the format and its limits.
//
// The profile covers the whole process: for a nabla guest that is the
// tender's set-up and the guest phase, for a native command everything
// after its execve. Profiles merge (`--merge`): the union, each argument
// condition widened soundly (a call allowed with any arguments in one
// profile is allowed with any in the merge).

import CNablaTender

/// An OCI seccomp profile as a set of allowed system calls, each either
/// with any arguments or only with one of a few argument tuples.
public struct SeccompProfile: Sendable, Equatable {
    /// One argument pinned to one value (`SCMP_CMP_EQ` on all 64 bits).
    public struct Condition: Hashable, Comparable, Sendable {
        /// The argument's position, 0 to 5.
        public var index: Int
        public var value: UInt64

        public static func < (a: Condition, b: Condition) -> Bool {
            a.index != b.index ? a.index < b.index : a.value < b.value
        }
    }

    /// When a system call is allowed.
    public enum Allowance: Sendable, Equatable {
        /// With any arguments.
        case always
        /// Only when every condition of one of the tuples holds (each tuple
        /// sorted by index, one condition per index).
        case when(Set<[Condition]>)
    }

    /// The errno a call outside the profile fails with: EPERM. A denial
    /// then reads "Operation not permitted", which says a policy refused it;
    /// ENOSYS would make the C library fall back to older calls the traced
    /// run never made (and the profile does not allow either), and would
    /// make the refusal look like an old kernel (docs/audit.md).
    public static let deniedErrno = 1

    /// The most argument tuples a call keeps; past that it is allowed with
    /// any arguments, which is wider and therefore still sound. This also
    /// bounds the tracer's memory.
    public static let tupleLimit = 16

    /// The calls whose arguments are pinned, and which arguments: values
    /// that name a kind of thing (a clock, a socket family, an option, a
    /// request) and are the same in every run of the same code path. Never
    /// descriptors, pointers, sizes, pids or times.
    public static let pinnedArguments: [String: [Int]] = [
        "arch_prctl": [0],          // code (ARCH_SET_FS, ...)
        "clock_getres": [0],        // clock id
        "clock_gettime": [0],       // clock id
        "clock_nanosleep": [0, 1],  // clock id, flags (TIMER_ABSTIME)
        "clone": [0],               // flags (CLONE_NEWUSER and the other namespaces stay out)
        "fcntl": [1],               // command (F_GETFL, F_SETFD, ...)
        "getrandom": [2],           // flags (GRND_NONBLOCK, ...)
        "ioctl": [1],               // request (TCGETS, TUNSETIFF, BLKGETSIZE64, ...)
        "personality": [0],         // persona
        "prctl": [0],               // option (PR_SET_NO_NEW_PRIVS, ...)
        "prlimit64": [1],           // resource (RLIMIT_STACK, ...)
        "seccomp": [0, 1],          // operation, flags
        "socket": [0, 1],           // family (AF_INET, AF_UNIX, ...), type with its flags
        "socketpair": [0, 1],       // family, type
        "timer_create": [0],        // clock id
        "timerfd_create": [0, 1],   // clock id, flags
    ]

    /// The calls that start the process, allowed in every profile: a
    /// runtime loads the profile before it executes the program, so the
    /// execve (runc, crun) or execveat (nabla-runc) that the tracer cannot
    /// see (it begins after it) runs under the filter, and so does the rest
    /// of the runtime's own start-up after it loaded the filter. For runc
    /// 1.1 (traced with strace under podman, docs/audit.md) that is its
    /// init's last steps (capabilities, user, the exec fifo, closing
    /// descriptors) and the Go runtime's threads; without these, runc
    /// cannot start the program ("error closing exec fds ...").
    public static let startCalls = [
        "execve", "execveat",
        // runc's init after the filter (without no_new_privs it loads it before dropping privileges).
        "capget", "capset", "chdir", "close", "faccessat2", "fcntl", "fstat", "fstatfs", "getcwd", "getdents64",
        "getppid", "newfstatat", "openat", "prctl", "read", "setgid", "setgroups", "setuid", "write",
        // The Go runtime of runc's init, on any of its threads.
        "epoll_ctl", "epoll_pwait", "exit_group", "futex", "getpid", "gettid", "madvise", "mmap", "munmap",
        "nanosleep", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sched_yield", "sigaltstack", "tgkill",
    ]

    /// The allowed calls by name.
    public private(set) var allowed: [String: Allowance] = [:]

    /// An empty profile: nothing allowed.
    public init() {}

    /// Allows `name` when all of `conditions` hold (no conditions: always).
    public mutating func allow(_ name: String, when conditions: [Condition] = []) {
        if conditions.isEmpty { allowed[name] = .always; return }
        switch allowed[name] {
        case .always: return
        case .when(var tuples):
            tuples.insert(conditions.sorted())
            allowed[name] = tuples.count > Self.tupleLimit ? .always : .when(tuples)
        case nil:
            allowed[name] = .when([conditions.sorted()])
        }
    }

    /// Allows a call the tracer saw, with its pinned arguments. Calls made
    /// through another architecture's entry (int 0x80) have no place in an
    /// x86_64 profile and are left out: they stay denied.
    mutating func record(_ call: ObservedCall) {
        guard call.native, let pointer = nabla_syscall_name(call.number) else { return }
        let name = String(cString: pointer)
        let indices = Self.pinnedArguments[name] ?? []
        allow(name, when: indices.map { Condition(index: $0, value: call.arguments[$0]) })
    }

    /// The union of this profile and `other`: what either allows.
    public func merged(with other: SeccompProfile) -> SeccompProfile {
        var result = self
        for (name, allowance) in other.allowed {
            switch allowance {
            case .always: result.allow(name)
            case .when(let tuples): for tuple in tuples { result.allow(name, when: tuple) }
            }
        }
        return result
    }

    /// The profile with ``startCalls`` allowed.
    public var startable: SeccompProfile {
        var result = self
        for name in Self.startCalls { result.allow(name) }
        return result
    }

    /// The number of calls allowed with argument conditions.
    public var conditionedCount: Int {
        allowed.values.filter { if case .when = $0 { true } else { false } }.count
    }

    /// The profile as OCI JSON, canonical: the same profile always gives
    /// the same bytes. The calls allowed with any arguments share the first
    /// entry; every argument tuple is an entry of its own (runc and crun OR
    /// the entries of one name, and AND the conditions of one entry when
    /// their indices differ, as they always do here).
    public var json: String {
        var lines = [
            "{",
            "  \"defaultAction\": \"SCMP_ACT_ERRNO\",",
            "  \"defaultErrnoRet\": \(Self.deniedErrno),",
            "  \"architectures\": [\"SCMP_ARCH_X86_64\"],",
        ]
        var entries: [String] = []
        let unconditioned = allowed.filter { $0.value == .always }.map { $0.key }.sorted()
        if !unconditioned.isEmpty {
            entries.append("{\"names\": [\(unconditioned.map { jsonString($0) }.joined(separator: ", "))], \"action\": \"SCMP_ACT_ALLOW\"}")
        }
        for name in allowed.keys.sorted() {
            guard case .when(let tuples) = allowed[name] else { continue }
            for tuple in tuples.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let args = tuple.map { "{\"index\": \($0.index), \"value\": \($0.value), \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}" }
                entries.append("{\"names\": [\(jsonString(name))], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [\(args.joined(separator: ", "))]}")
            }
        }
        lines.append("  \"syscalls\": [")
        for (index, entry) in entries.enumerated() {
            lines.append("    " + entry + (index == entries.count - 1 ? "" : ","))
        }
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func jsonString(_ text: String) -> String { JSONWriter.quoted(text) }
}

extension AuditReport {
    /// The profile that allows what this run did, start calls included.
    public var seccompProfile: SeccompProfile { profile.startable }
}
