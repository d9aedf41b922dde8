// AuditReport+JSON.swift: the report as `--audit --json` writes it, schema
// "nabla-audit/1" (docs/audit.md).

extension AuditReport {
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
                            json.field("rule") { json.string(rule.condition) }
                            json.field("number") { json.number(Int(rule.syscall.number)) }
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
                json.field("guest_ran") { json.bool(guestRan) }
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
                json.field("unused_rules") { json.array(rules.indices.filter { use[$0] == 0 }) { json.string(rules[$0].condition) } }
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
