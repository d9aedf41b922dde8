// ELFBuilder.swift: small synthetic guest images, for the loader's tests
// (Tests/NablaTests) and the fuzzer's seeds (fuzz/), which share this one
// builder.
//
// The default image is the smallest valid nabla guest: one r-x PT_LOAD at
// NABLA_IMAGE_BASE holding `mov eax, STATUS; ret`, and a PT_NOTE with the ABI
// note. Tests change one field at a time to make each malformed case.

import CNablaTender

/// One ELF64 program header.
public struct ProgramHeader: Sendable {
    public var type: UInt32
    public var flags: UInt32
    public var offset: UInt64
    public var address: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64
    public var align: UInt64

    public init(type: UInt32, flags: UInt32, offset: UInt64, address: UInt64, fileSize: UInt64, memorySize: UInt64,
                align: UInt64 = 0x1000) {
        self.type = type
        self.flags = flags
        self.offset = offset
        self.address = address
        self.fileSize = fileSize
        self.memorySize = memorySize
        self.align = align
    }

    /// A PT_LOAD segment; `flags` are PF_X 1, PF_W 2, PF_R 4.
    public static func load(_ address: UInt64, offset: UInt64, fileSize: UInt64, memorySize: UInt64? = nil, flags: UInt32) -> ProgramHeader {
        ProgramHeader(type: 1, flags: flags, offset: offset, address: address, fileSize: fileSize, memorySize: memorySize ?? fileSize)
    }

    /// A header of another type (PT_NOTE, PT_GNU_STACK, ...) over a few bytes.
    public static func other(_ type: UInt32) -> ProgramHeader {
        ProgramHeader(type: type, flags: 4, offset: 0x800, address: 0, fileSize: 8, memorySize: 8)
    }
}

/// A synthetic guest image, every field of which can be changed.
public struct ELFBuilder: Sendable {
    public static let base = UInt64(NABLA_IMAGE_BASE)
    public static let codeOffset: UInt64 = 0x1000
    public static let noteOffset: UInt64 = 0x800

    public var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]
    public var type: UInt16 = 2
    public var machine: UInt16 = 62
    public var version: UInt32 = 1
    public var entry: UInt64 = base
    public var phentsize: UInt16 = 56
    public var programHeaders: [ProgramHeader]
    public var noteName: [UInt8] = Array(NABLA_NOTE_NAME.utf8) + [0]
    public var noteType: UInt32 = NABLA_NOTE_TYPE_ABI
    public var abiVersion: UInt32 = NABLA_ABI_VERSION
    public var code: [UInt8]
    /// Cut the file to this many bytes.
    public var truncate: Int?

    /// A guest whose entry returns `status`.
    public init(status: UInt8 = 0) {
        code = [0xb8, status, 0, 0, 0, 0xc3]  // mov eax, status; ret
        programHeaders = [
            .load(Self.base, offset: Self.codeOffset, fileSize: UInt64(code.count), flags: 5),
            ProgramHeader(type: 4, flags: 4, offset: Self.noteOffset, address: 0, fileSize: 24, memorySize: 0, align: 4),
        ]
    }

    /// The image's bytes. With more program headers than fit before the note
    /// (35), the note is left out.
    public func build() -> [UInt8] {
        let headerEnd = 64 + programHeaders.count * 56
        var bytes = [UInt8](repeating: 0, count: max(Int(Self.codeOffset) + code.count, headerEnd))
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            for i in 0..<(T.bitWidth / 8) { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        for (i, b) in ident.enumerated() { bytes[i] = b }
        put(type, at: 16)
        put(machine, at: 18)
        put(version, at: 20)
        put(entry, at: 24)
        put(UInt64(64), at: 32)       // e_phoff
        put(UInt16(64), at: 52)       // e_ehsize
        put(phentsize, at: 54)
        put(UInt16(programHeaders.count), at: 56)
        for (index, header) in programHeaders.enumerated() {
            let at = 64 + index * 56
            put(header.type, at: at)
            put(header.flags, at: at + 4)
            put(header.offset, at: at + 8)
            put(header.address, at: at + 16)
            put(header.address, at: at + 24)
            put(header.fileSize, at: at + 32)
            put(header.memorySize, at: at + 40)
            put(header.align, at: at + 48)
        }
        let note = Int(Self.noteOffset)
        if headerEnd <= note {
            put(UInt32(noteName.count), at: note)
            put(UInt32(4), at: note + 4)
            put(noteType, at: note + 8)
            for (i, b) in noteName.enumerated() { bytes[note + 12 + i] = b }
            put(abiVersion, at: note + 12 + ((noteName.count + 3) & ~3))
        }
        for (i, b) in code.enumerated() { bytes[Int(Self.codeOffset) + i] = b }
        if let truncate { bytes = Array(bytes.prefix(truncate)) }
        return bytes
    }
}
