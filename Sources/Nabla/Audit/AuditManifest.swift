// AuditManifest.swift: what a traced tender tells its tracer before it loads
// its filter: the policy's own rules (every pin, its comparison and what its
// value means) and the address of its hypercall counters. It crosses a pipe
// between two processes, so it is encoded as lines of tab-separated fields:
//
//   counters <hex address>
//   rule <number> (<argument> <== or <=> <hex value> <meaning or ->)...
//
// Meanings lose tabs and newlines (device paths may contain them).

import CNablaTender
import Glibc

/// The traced tender's policy and counters, as the tracer needs them.
struct AuditManifest: Equatable {
    /// The environment variable naming the manifest pipe in the traced tender.
    static let variable = "NABLA_AUDIT_FD"

    var rules: [SyscallRule]
    /// Where the hypercall counters (`nabla_scratch()->hypercall_calls`,
    /// then `hypercall_bytes`) are in the traced process.
    var countersAddress: UInt64

    /// The manifest of a run under `policy`; `countsHypercalls` is false
    /// for a Solo5 image, which has no hypercalls (counters address 0).
    init(policy: SeccompPolicy, countsHypercalls: Bool = true) {
        rules = policy.rules
        countersAddress = countsHypercalls
            ? UInt64(UInt(bitPattern: nabla_scratch())) + UInt64(MemoryLayout<nabla_host_scratch>.offset(of: \.hypercall_calls)!)
            : 0
    }

    init(rules: [SyscallRule], countersAddress: UInt64) {
        self.rules = rules
        self.countersAddress = countersAddress
    }

    /// The text that crosses the pipe.
    var encoded: String {
        var lines = ["counters\t\(hex(countersAddress))"]
        for rule in rules {
            var fields = ["rule", String(rule.syscall.number)]
            for pin in rule.pins {
                let meaning = pin.meaning.map { String($0.map { $0 == "\t" || $0 == "\n" ? " " : $0 }) } ?? "-"
                fields += [String(pin.argument), pin.comparison.rawValue, hex(pin.value), meaning.isEmpty ? "-" : meaning]
            }
            lines.append(fields.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Decodes `text`; nil if any line is malformed (a truncated manifest
    /// must not pass for a smaller policy).
    init?(decoding text: String) {
        var rules: [SyscallRule] = []
        var counters: UInt64?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "counters":
                guard fields.count == 2, let address = Self.hexValue(fields[1]) else { return nil }
                counters = address
            case "rule":
                guard fields.count >= 2, (fields.count - 2) % 4 == 0, let number = Int32(fields[1]) else { return nil }
                var pins: [ArgumentPin] = []
                var at = 2
                while at < fields.count {
                    guard let argument = Int(fields[at]), let comparison = ArgumentPin.Comparison(rawValue: fields[at + 1]),
                          let value = Self.hexValue(fields[at + 2]) else { return nil }
                    pins.append(ArgumentPin(argument, comparison, value, fields[at + 3] == "-" ? nil : fields[at + 3]))
                    at += 4
                }
                rules.append(SyscallRule(.numbered(number), pins))
            default:
                return nil
            }
        }
        guard let counters else { return nil }
        self.init(rules: rules, countersAddress: counters)
    }

    private static func hexValue(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : nil
    }

    /// Writes this process's manifest for the tracer, if it is being audited.
    static func write(policy: SeccompPolicy, countsHypercalls: Bool = true) {
        guard let value = getenv(variable), let fd = Int32(String(cString: value)) else { return }
        Sys.writeAll(fd, AuditManifest(policy: policy, countsHypercalls: countsHypercalls).encoded)
    }
}

extension SyscallRule {
    /// True if this rule allows `call`: same number, native architecture,
    /// every pin admits its argument.
    func admits(_ call: ObservedCall) -> Bool {
        call.native && call.number == Int(syscall.number)
            && pins.allSatisfy { $0.argument < call.arguments.count && $0.admits(call.arguments[$0.argument]) }
    }
}
