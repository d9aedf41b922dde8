// SeccompProfile+Parsing.swift: reading an OCI seccomp profile back, for
// `--merge`. Only allow-lists merge soundly: a profile whose default
// denies, whose entries allow (or deny) by name, and whose argument
// conditions are equalities, as `--seccomp-profile` writes them. Anything
// else is refused with the reason, never guessed at.

/// A JSON value with whole, non-negative numbers: all a profile holds.
private enum ProfileValue {
    case object([(String, ProfileValue)])
    case array([ProfileValue])
    case string(String)
    case number(UInt64)
    case literal(String)  // true, false, null

    subscript(key: String) -> ProfileValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }
}

/// A recursive-descent reader of RFC 8259 text, refusing fractions and
/// negative numbers (no profile field has them).
private struct ProfileReader {
    let bytes: [UInt8]
    var at = 0
    var depth = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    mutating func document() -> Result<ProfileValue, ProfileError> {
        let result = value()
        skipSpace()
        if case .success = result, at != bytes.count { return .failure(.syntax("text after the end of the document", at)) }
        return result
    }

    private mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[at]) { at += 1 }
    }

    private mutating func value() -> Result<ProfileValue, ProfileError> {
        skipSpace()
        guard at < bytes.count else { return .failure(.syntax("unexpected end", at)) }
        switch bytes[at] {
        case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}")) { reader in
            guard case .success(let key) = reader.string() else { return .failure(.syntax("expected a member name", reader.at)) }
            reader.skipSpace()
            guard reader.at < reader.bytes.count, reader.bytes[reader.at] == UInt8(ascii: ":") else { return .failure(.syntax("expected ':'", reader.at)) }
            reader.at += 1
            return reader.value().map { (key, $0) }
        }.map { .object($0) }
        case UInt8(ascii: "["): return container(close: UInt8(ascii: "]")) { $0.value() }.map { .array($0) }
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            var number: UInt64 = 0
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) {
                let (times, o1) = number.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(bytes[at] - UInt8(ascii: "0")))
                guard !o1 && !o2 else { return .failure(.syntax("a number above 2^64 - 1", at)) }
                number = sum
                at += 1
            }
            if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) {
                return .failure(.syntax("a number with a fraction or exponent", at))
            }
            return .success(.number(number))
        case UInt8(ascii: "-"): return .failure(.syntax("a negative number", at))
        default:
            for word in ["true", "false", "null"] where bytes[at...].starts(with: Array(word.utf8)) {
                at += word.utf8.count
                return .success(.literal(word))
            }
            return .failure(.syntax("unexpected character", at))
        }
    }

    private mutating func container<T>(close: UInt8, _ element: (inout ProfileReader) -> Result<T, ProfileError>) -> Result<[T], ProfileError> {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { return .failure(.syntax("nested too deeply", at)) }
        at += 1
        var items: [T] = []
        skipSpace()
        if at < bytes.count, bytes[at] == close { at += 1; return .success(items) }
        while true {
            switch element(&self) {
            case .failure(let error): return .failure(error)
            case .success(let item): items.append(item)
            }
            skipSpace()
            guard at < bytes.count else { return .failure(.syntax("unexpected end", at)) }
            if bytes[at] == close { at += 1; return .success(items) }
            guard bytes[at] == UInt8(ascii: ",") else { return .failure(.syntax("expected ',' or '\(Character(Unicode.Scalar(close)))'", at)) }
            at += 1
        }
    }

    private mutating func string() -> Result<String, ProfileError> {
        skipSpace()
        guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return .failure(.syntax("expected a string", at)) }
        at += 1
        var out: [UInt8] = []
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""): return .success(String(decoding: out, as: UTF8.self))
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { break }
                let escaped = bytes[at]
                at += 1
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                default: return .failure(.syntax("an escape a profile never needs (\\\(Character(Unicode.Scalar(escaped))))", at - 1))
                }
            case 0..<0x20: return .failure(.syntax("a control character in a string", at - 1))
            default: out.append(byte)
            }
        }
        return .failure(.syntax("an unterminated string", at))
    }
}

/// Why a profile cannot be merged.
enum ProfileError: Error {
    case syntax(String, Int)
    case unmergeable(String)

    var description: String {
        switch self {
        case let .syntax(what, offset): "not JSON: \(what) at byte \(offset)"
        case let .unmergeable(what): what
        }
    }
}

extension SeccompProfile {
    /// Actions that deny: an entry with one of them adds nothing to an
    /// allow-list whose default also denies.
    private static let denyingActions: Set = ["SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
                                              "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"]

    /// Reads a profile for `--merge`: its x86_64 allow-list. `path` names
    /// the file in errors.
    public init(parsing text: String, path: String) throws(TenderError) {
        var reader = ProfileReader(text)
        let result: Result<SeccompProfile, ProfileError> = reader.document().flatMap { Self.read($0) }
        switch result {
        case .success(let profile): self = profile
        case .failure(let error): throw .badProfile(path: path, error.description)
        }
    }

    private static func read(_ document: ProfileValue) -> Result<SeccompProfile, ProfileError> {
        guard case .string(let defaultAction)? = document["defaultAction"] else {
            return .failure(.unmergeable("no defaultAction: not an OCI seccomp profile"))
        }
        guard denyingActions.contains(defaultAction) else {
            return .failure(.unmergeable("defaultAction \(defaultAction) does not deny: only allow-lists merge"))
        }
        if case .array(let architectures)? = document["architectures"] {
            let x86_64 = architectures.contains { if case .string("SCMP_ARCH_X86_64") = $0 { true } else { false } }
            guard x86_64 else { return .failure(.unmergeable("architectures has no SCMP_ARCH_X86_64")) }
        }
        var profile = SeccompProfile()
        guard case .array(let entries)? = document["syscalls"] else { return .success(profile) }
        for (number, entry) in entries.enumerated() {
            let place = "syscalls[\(number)]"
            guard case .string(let action)? = entry["action"] else { return .failure(.unmergeable("\(place) has no action")) }
            for field in ["includes", "excludes"] {
                if case .object(let members)? = entry[field], !members.isEmpty {
                    return .failure(.unmergeable("\(place) has \(field): conditional entries do not merge"))
                }
            }
            if denyingActions.contains(action) { continue }
            guard action == "SCMP_ACT_ALLOW" else {
                return .failure(.unmergeable("\(place): action \(action) is neither an allowance nor a denial"))
            }
            guard case .array(let nameValues)? = entry["names"] else { return .failure(.unmergeable("\(place) has no names")) }
            var names: [String] = []
            for value in nameValues {
                guard case .string(let name) = value, !name.isEmpty else { return .failure(.unmergeable("\(place): a name is not a string")) }
                names.append(name)
            }
            var conditions: [Condition] = []
            if case .array(let args)? = entry["args"] {
                for arg in args {
                    guard case .number(let index)? = arg["index"], index < 6, case .number(let value)? = arg["value"] else {
                        return .failure(.unmergeable("\(place): an argument condition needs an index from 0 to 5 and a value"))
                    }
                    guard case .string(let op)? = arg["op"], op == "SCMP_CMP_EQ" else {
                        return .failure(.unmergeable("\(place): only SCMP_CMP_EQ conditions merge (as --seccomp-profile writes them)"))
                    }
                    guard !conditions.contains(where: { $0.index == Int(index) }) else {
                        return .failure(.unmergeable("\(place): two conditions on argument \(index) do not merge"))
                    }
                    conditions.append(Condition(index: Int(index), value: value))
                }
            }
            for name in names { profile.allow(name, when: conditions) }
        }
        return .success(profile)
    }
}
