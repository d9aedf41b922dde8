// ImageSymbols.swift: the image's ELF symbol table, kept mapped read-only
// so that the fault handler can name the function a guest faulted in (a
// Swift guest's failed runtime check is a `ud2` in the function that
// failed it) without reading a file or allocating under the filter.
//
// Found from the section headers of the validated image; every offset and
// size is checked against the file, and an image without a symbol table
// (stripped) or with a malformed one simply gets no names. The mapping is
// private and read-only: the guest can read it (the names are in its own
// file) but not change it, since mprotect and mmap are not in the filter.

import CNablaTender
import Glibc

/// Where an image's symbols and their names are in the tender's memory.
struct ImageSymbols {
    /// The `Elf64_Sym` array.
    var symbols: UInt64
    var symbolCount: UInt64
    /// The string table the symbols' names index.
    var strings: UInt64
    var stringsSize: UInt64

    static let symbolSize = 24       // sizeof(Elf64_Sym)
    private static let sectionHeaderSize = 64
    private static let symtabType: UInt32 = 2, strtabType: UInt32 = 3

    /// The file ranges of the symbol table and its string table, if the
    /// image has both and they lie inside the file.
    static func locate(in bytes: UnsafeRawBufferPointer) -> (symbols: Range<Int>, strings: Range<Int>)? {
        guard bytes.count >= 64 else { return nil }
        func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
            guard offset >= 0, offset <= bytes.count - MemoryLayout<T>.size else { return nil }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard let headerOffset = load(UInt64.self, at: 0x28), let entrySize = load(UInt16.self, at: 0x3a),
              let count = load(UInt16.self, at: 0x3c), Int(entrySize) == sectionHeaderSize,
              headerOffset <= UInt64(bytes.count) else { return nil }
        func section(_ index: Int) -> (type: UInt32, offset: UInt64, size: UInt64, link: UInt32)? {
            let base = Int(headerOffset) + index * sectionHeaderSize
            guard let type = load(UInt32.self, at: base + 4), let offset = load(UInt64.self, at: base + 24),
                  let size = load(UInt64.self, at: base + 32), let link = load(UInt32.self, at: base + 40) else { return nil }
            return (type, offset, size, link)
        }
        func fileRange(_ offset: UInt64, _ size: UInt64) -> Range<Int>? {
            let (end, overflow) = offset.addingReportingOverflow(size)
            guard !overflow, end <= UInt64(bytes.count) else { return nil }
            return Int(offset)..<Int(end)
        }
        for index in 0..<Int(count) {
            guard let symtab = section(index), symtab.type == symtabType else { continue }
            guard Int(symtab.link) < Int(count), let strtab = section(Int(symtab.link)), strtab.type == strtabType,
                  symtab.size % UInt64(symbolSize) == 0,
                  let symbols = fileRange(symtab.offset, symtab.size),
                  let strings = fileRange(strtab.offset, strtab.size) else { return nil }
            return (symbols, strings)
        }
        return nil
    }

    /// Maps the symbol and string tables of `file` read-only; nil if the
    /// image has none or the mapping fails (fault lines then name no
    /// function). One mmap of the pages that hold both.
    static func map(_ file: ImageFile) -> ImageSymbols? {
        guard let (symbols, strings) = locate(in: file.bytes) else { return nil }
        let page = Int(NABLA_PAGE_SIZE)
        let start = min(symbols.lowerBound, strings.lowerBound) / page * page
        let end = max(symbols.upperBound, strings.upperBound)
        guard case .success(let mapping) = Sys.mapFile(file.fd, size: end - start, offset: start) else { return nil }
        let base = UInt64(UInt(bitPattern: mapping)) &- UInt64(start)
        return ImageSymbols(symbols: base &+ UInt64(symbols.lowerBound), symbolCount: UInt64(symbols.count / symbolSize),
                            strings: base &+ UInt64(strings.lowerBound), stringsSize: UInt64(strings.count))
    }
}
