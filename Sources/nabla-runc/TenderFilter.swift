// TenderFilter.swift: the seccomp filter nabla-runc loads around the tender
// (docs/oci.md, "The tender's profile"): the calls the tender's set-up and
// guest phase make, from its own audits (TenderProfile.swift, generated),
// and EPERM for anything else. init loads it last, just before execveat,
// with no_new_privs; the tender then stacks its own, narrower filter, and
// the kernel applies both. The annotation org.nabla.tender-seccomp=unconfined
// leaves it out.

import CSeccomp
import Glibc

/// The tender's profile: see TenderProfile.swift for the rules.
enum TenderProfile {
    /// One allowed shape of a call: the name, and the arguments pinned
    /// to one value each (none: any arguments).
    struct Rule {
        let name: String
        let pins: [(index: UInt32, value: UInt64)]

        init(_ name: String, _ pins: [(UInt32, UInt64)] = []) {
            self.name = name
            self.pins = pins.map { (index: $0.0, value: $0.1) }
        }
    }

    /// The errno of a refused call: EPERM, as the profiles
    /// `nabla-run --seccomp-profile` writes (docs/audit.md).
    static let deniedErrno: UInt32 = 1
}

/// The profile compiled with libseccomp.
enum TenderFilter {
    /// Loads the filter into this process; no_new_privs must be set
    /// (or the process must have CAP_SYS_ADMIN).
    static func load() throws(RuncError) {
        try withCompiled { context throws(RuncError) in try check(seccomp_load(context), "load it") }
    }

    /// Writes the compiled classic-BPF program to `fd`.
    static func export(to fd: Int32) throws(RuncError) {
        try withCompiled { context throws(RuncError) in try check(seccomp_export_bpf(context, fd), "write it out") }
    }

    /// Compiles TenderProfile.rules for `body`. Calls through another
    /// architecture's entry (int 0x80, x32 numbers) are refused like any
    /// other call.
    private static func withCompiled(_ body: (scmp_filter_ctx) throws(RuncError) -> Void) throws(RuncError) {
        guard let context = seccomp_init(SCMP_ACT_ERRNO(TenderProfile.deniedErrno)) else {
            throw RuncError(.system, "cannot create the tender's seccomp filter (libseccomp: out of memory)")
        }
        defer { seccomp_release(context) }
        try check(seccomp_attr_set(context, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(TenderProfile.deniedErrno)), "set its bad-architecture action")
        for rule in TenderProfile.rules {
            let number = seccomp_syscall_resolve_name(rule.name)
            guard number != __NR_SCMP_ERROR else { throw RuncError(.system, "the tender's seccomp profile names an unknown system call \(rule.name)") }
            let pins = rule.pins.map { scmp_arg_cmp(arg: $0.index, op: SCMP_CMP_EQ, datum_a: $0.value, datum_b: 0) }
            try check(seccomp_rule_add_exact_array(context, SCMP_ACT_ALLOW, number, UInt32(pins.count), pins), "add the rule for \(rule.name)")
        }
        try body(context)
    }

    private static func check(_ result: Int32, _ what: String) throws(RuncError) {
        guard result == 0 else { throw .system("the tender's seccomp filter: cannot \(what)", errno: -result) }
    }
}

/// libseccomp's SCMP_ACT_ERRNO macro, which Swift does not import.
private func SCMP_ACT_ERRNO(_ code: UInt32) -> UInt32 { 0x0005_0000 | (code & 0xffff) }
