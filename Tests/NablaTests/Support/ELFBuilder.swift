// ELFBuilder.swift: small synthetic guest images for loader tests.
//
// The default image is the smallest valid nabla guest: one r-x PT_LOAD at
// NABLA_IMAGE_BASE holding `mov eax, STATUS; ret`, and a PT_NOTE with the ABI
// note. Tests change one field at a time to make each malformed case.

import CNablaTender

struct ProgramHeader {
    var type: UInt32
    var flags: UInt32
    var offset: UInt64
    var address: UInt64
    var fileSize: UInt64
    var memorySize: UInt64
    var align: UInt64 = 0x1000

    static func load(_ address: UInt64, offset: UInt64, fileSize: UInt64, memorySize: UInt64? = nil, flags: UInt32) -> ProgramHeader {
        ProgramHeader(type: 1, flags: flags, offset: offset, address: address, fileSize: fileSize, memorySize: memorySize ?? fileSize)
    }
}

struct ELFBuilder {
    static let base = UInt64(NABLA_IMAGE_BASE)
    static let codeOffset: UInt64 = 0x1000
    static let noteOffset: UInt64 = 0x800

    var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]
    var type: UInt16 = 2
    var machine: UInt16 = 62
    var version: UInt32 = 1
    var entry: UInt64 = base
    var phentsize: UInt16 = 56
    var programHeaders: [ProgramHeader]
    var noteName: [UInt8] = Array("nabla".utf8) + [0]
    var noteType: UInt32 = NABLA_NOTE_TYPE_ABI
    var abiVersion: UInt32 = NABLA_ABI_VERSION
    var code: [UInt8]
    /// Cut the file to this many bytes.
    var truncate: Int?

    /// A guest whose entry returns `status`.
    init(status: UInt8 = 0) {
        code = [0xb8, status, 0, 0, 0, 0xc3]  // mov eax, status; ret
        programHeaders = [
            .load(Self.base, offset: Self.codeOffset, fileSize: UInt64(code.count), flags: 5),
            ProgramHeader(type: 4, flags: 4, offset: Self.noteOffset, address: 0, fileSize: 24, memorySize: 0, align: 4),
        ]
    }

    func build() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(Self.codeOffset) + code.count)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[offset + i] = b } }
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
        put(UInt32(noteName.count), at: note)
        put(UInt32(4), at: note + 4)
        put(noteType, at: note + 8)
        for (i, b) in noteName.enumerated() { bytes[note + 12 + i] = b }
        put(abiVersion, at: note + 12 + ((noteName.count + 3) & ~3))
        for (i, b) in code.enumerated() { bytes[Int(Self.codeOffset) + i] = b }
        if let truncate { bytes = Array(bytes.prefix(truncate)) }
        return bytes
    }
}
