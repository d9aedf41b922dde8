// ByteCount.swift: sizes given on the command line, such as `--mem 64M`.

/// A number of bytes, written as an integer with an optional binary suffix.
public struct ByteCount: Hashable, Sendable, CustomStringConvertible {
    public var bytes: UInt64
    public init(bytes: UInt64) { self.bytes = bytes }

    /// Parses `4096`, `512K`, `64M`, `2G` (also `64m`, `64MiB`, `64MB`):
    /// suffixes are powers of 1024. Returns nil for anything else, including
    /// a value that does not fit in 64 bits.
    public init?(parsing text: String) {
        var digits = Substring(text)
        var unit: UInt64 = 1
        for suffix in ["iB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        if let last = digits.last, !last.isNumber {
            switch last {
            case "K", "k": unit = 1 << 10
            case "M", "m": unit = 1 << 20
            case "G", "g": unit = 1 << 30
            case "T", "t": unit = 1 << 40
            default: return nil
            }
            digits = digits.dropLast()
        } else if digits.count != text.count, text.hasSuffix("iB") {
            return nil  // "iB" needs a unit letter before it
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        bytes = product
    }

    /// Parses `--mem`'s value: as ``init(parsing:)``, except that a bare
    /// number means MiB, as in Solo5 and QEMU (`--mem=512`); `4096B` is bytes.
    public init?(parsingMemory text: String) {
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            self.init(parsing: text + "M")
        } else {
            self.init(parsing: text)
        }
    }

    /// `--mem`'s spelling of the value, read back the same by
    /// ``init(parsingMemory:)``: `64M`, `1536K`, or `100B`.
    public var memorySpelling: String {
        let text = description
        return text.last?.isNumber == true ? text + "B" : text
    }

    /// The largest unit that divides the value exactly: `64M`, `1536K`, `100`.
    public var description: String {
        for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes != 0 && bytes % (1 << UInt64(shift)) == 0 {
            return "\(bytes >> UInt64(shift))\(suffix)"
        }
        return "\(bytes)"
    }
}
