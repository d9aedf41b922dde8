// AuditReport+Text.swift: the report as `nabla-run --audit` prints it
// (docs/audit.md).

extension AuditReport {
    /// The text report.
    public var text: String {
        var lines = ["nabla-run audit: \(subject.joined(separator: " "))"]
        func phase(_ title: String, _ calls: SyscallTally) {
            let histogram = calls.histogram
            lines.append("\(title): \(calls.total) system calls, \(histogram.count) distinct")
            for entry in histogram { lines.append("  \(padded(entry.name, 20)) \(entry.count)") }
        }
        if isGuest && !guestRan {
            phase("setup phase (nabla-run, before the filter)", setup)
            lines.append("guest phase: none (the guest never ran)")
        } else if isGuest {
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
            if hypercalls.isEmpty {
                lines.append("hypercalls: none (a Solo5 spt guest makes its own system calls, listed above)")
            } else {
                lines.append("hypercalls (counted in tender memory the guest can write; the system calls above are the kernel's record):")
            }
            let width = Hypercall.allCases.map { $0.name.count }.max() ?? 0
            for (hypercall, calls, bytes) in hypercalls {
                let moved = hypercall == .walltime || hypercall == .poll ? "" : ", \(bytes) bytes"
                lines.append("  \(padded(hypercall.name, width)) \(calls) calls\(moved)")
            }
            let use = used
            let unused = rules.indices.filter { use[$0] == 0 }
            lines.append("policy rules never used: \(unused.count) of \(rules.count)")
            for index in unused { lines.append("  \(rules[index].condition)") }
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
}

/// `text` followed by spaces up to `width` characters.
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
