// Solo5Manifest.swift: the device manifest a Solo5 image carries in its
// MFT1 note (tender/include/nabla_solo5.h, docs/solo5.md). The manifest is
// hostile input like the rest of the image: it is checked as Solo5's own
// tenders check it, plus unknown device types and duplicate names, and each
// failure names the entry and the field.

import CNablaTender

/// The kinds of entry a Solo5 manifest may declare.
public enum Solo5DeviceType: Equatable, Sendable, CustomStringConvertible {
    /// `MFT_DEV_BLOCK_BASIC`: a disk of fixed-size blocks.
    case block
    /// `MFT_DEV_NET_BASIC`: an Ethernet NIC.
    case net
    /// `MFT_RESERVED_FIRST` and above: entry 0, and anything the tender skips.
    case reserved(UInt32)

    init?(rawValue: UInt32) {
        switch rawValue {
        case SOLO5_MFT_BLOCK_BASIC: self = .block
        case SOLO5_MFT_NET_BASIC: self = .net
        case SOLO5_MFT_RESERVED_FIRST...: self = .reserved(rawValue)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .block: "BLOCK_BASIC"
        case .net: "NET_BASIC"
        case .reserved: "RESERVED"
        }
    }
}

/// A validated Solo5 manifest: its entries, and its bytes as the image holds
/// them (copied into guest memory after the boot info, then filled in).
public struct Solo5Manifest: Equatable, Sendable {
    /// One declared device.
    public struct Entry: Equatable, Sendable {
        /// The entry's index: the guest's `solo5_handle_t`, and the epoll data of a NIC.
        public var index: Int
        public var name: String
        public var type: Solo5DeviceType
    }

    public var entries: [Entry]
    /// The manifest's bytes (`struct solo5_mft` and its entries).
    public var bytes: [UInt8]

    static let headerSize = MemoryLayout<solo5_mft>.size
    static let entrySize = MemoryLayout<solo5_mft_entry>.size
    static let nameSize = Int(SOLO5_MFT_NAME_SIZE)
    static let typeOffset = MemoryLayout<solo5_mft_entry>.offset(of: \.type)!
    static let attachedOffset = MemoryLayout<solo5_mft_entry>.offset(of: \.attached)!
    /// The largest manifest note descriptor: the pad and 64 entries.
    static let largestDescriptor = Int(SOLO5_MFT_NOTE_PAD) + headerSize + Int(SOLO5_MFT_MAX_ENTRIES) * entrySize

    /// The devices (block and net entries), in manifest order.
    public var devices: [Entry] { entries.filter { if case .reserved = $0.type { false } else { true } } }

    /// The entry named `name` of `type`, if the manifest declares one.
    public func entry(named name: String, type: Solo5DeviceType) -> Entry? {
        entries.first { $0.name == name && $0.type == type }
    }

    /// Validates `bytes`, the manifest as cut from its note.
    public init(bytes: [UInt8]) throws(Solo5ManifestError) {
        // Every read below is inside `bytes`: the size is checked first.
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard bytes.count >= Self.headerSize else { throw .truncated(size: bytes.count) }
        let version = u32(0), count = u32(4)
        guard version == SOLO5_MFT_VERSION else { throw .wrongVersion(version) }
        guard count <= SOLO5_MFT_MAX_ENTRIES else { throw .tooManyEntries(count) }
        guard count >= 1 else { throw .noEntries }
        let expected = Self.headerSize + Int(count) * Self.entrySize
        guard bytes.count == expected else { throw .sizeMismatch(size: bytes.count, entries: count, expected: expected) }

        var entries: [Entry] = []
        for index in 0..<Int(count) {
            let base = Self.headerSize + index * Self.entrySize
            guard bytes[base + Self.nameSize - 1] == 0 else { throw .nameNotTerminated(index: index) }
            var name: [UInt8] = []
            for at in base..<(base + Self.nameSize) {
                let byte = bytes[at]
                if byte == 0 { break }
                name.append(byte)
            }
            let rawType = u32(base + Self.typeOffset)
            guard let type = Solo5DeviceType(rawValue: rawType) else { throw .unknownType(index: index, rawType) }
            guard bytes[base + Self.attachedOffset] == 0 else { throw .alreadyAttached(index: index) }
            if index == 0 {
                guard rawType == SOLO5_MFT_RESERVED_FIRST, name.isEmpty else { throw .firstEntryNotReserved }
            }
            let text = String(decoding: name, as: UTF8.self)
            if case .reserved = type {} else {
                guard !name.isEmpty else { throw .emptyName(index: index) }
                if entries.contains(where: { $0.name == text && $0.type == type }) { throw .duplicateName(text) }
            }
            entries.append(Entry(index: index, name: text, type: type))
        }
        self.entries = entries
        self.bytes = bytes
    }
}

/// Why a Solo5 manifest was refused.
public enum Solo5ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(size: Int)
    case wrongVersion(UInt32)
    case tooManyEntries(UInt32)
    case noEntries
    case sizeMismatch(size: Int, entries: UInt32, expected: Int)
    case firstEntryNotReserved
    case nameNotTerminated(index: Int)
    case emptyName(index: Int)
    case unknownType(index: Int, UInt32)
    case alreadyAttached(index: Int)
    case duplicateName(String)

    public var description: String {
        switch self {
        case let .truncated(size):
            "the manifest is \(size) bytes, smaller than its 8-byte header"
        case let .wrongVersion(version):
            "manifest version \(version) is not \(SOLO5_MFT_VERSION): the image was built for another Solo5"
        case let .tooManyEntries(count):
            "the manifest declares \(count) entries; Solo5 allows at most \(SOLO5_MFT_MAX_ENTRIES)"
        case .noEntries:
            "the manifest has no entries (entry 0 must be the reserved one)"
        case let .sizeMismatch(size, entries, expected):
            "the manifest is \(size) bytes, but \(entries) entries need exactly \(expected)"
        case .firstEntryNotReserved:
            "manifest entry 0 is not the reserved entry (type RESERVED_FIRST, empty name)"
        case let .nameNotTerminated(index):
            "manifest entry \(index): the name is not NUL-terminated within \(SOLO5_MFT_NAME_SIZE) bytes"
        case let .emptyName(index):
            "manifest entry \(index): a device without a name"
        case let .unknownType(index, type):
            "manifest entry \(index): unknown device type \(type)"
        case let .alreadyAttached(index):
            "manifest entry \(index) is marked attached in the image; only the tender may attach devices"
        case let .duplicateName(name):
            "the manifest declares '\(name)' twice"
        }
    }
}
