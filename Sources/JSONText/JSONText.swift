// JSONText.swift: a string as a JSON string literal, for the two JSON
// writers (the --audit report, in Nabla, and nabla-runc's state and logs),
// which share nothing else.

/// `value` as a JSON string literal: quoted, with `"`, `\` and control
/// characters escaped (RFC 8259), every other character as it is.
public func jsonQuoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
