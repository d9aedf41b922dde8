// EnvironmentVariable.swift: one entry of the guest's environment, as
// `nabla-run --env KEY=VALUE` gives it (docs/abi.md, "Boot info").

/// `KEY=VALUE`: a non-empty key without `=`, then any value (possibly
/// empty, possibly with more `=`), no NUL anywhere.
public struct EnvironmentVariable: Hashable, Sendable, CustomStringConvertible {
    public let key: String
    public let value: String

    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex, !text.utf8.contains(0) else { return nil }
        key = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
    }

    /// `KEY=VALUE`, as the guest's `environ` holds it.
    public var description: String { key + "=" + value }
}
