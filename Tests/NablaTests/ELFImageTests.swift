// The ELF validator against a table of malformed images: each case asserts
// the exact error.

import CNablaTender
import NablaTestSupport
import Testing
@testable import Nabla

private func validate(_ builder: ELFBuilder) -> Result<ELFImage, ImageError> {
    Result { () throws(ImageError) in try ELFImage(bytes: builder.build()) }
}

private let base = ELFBuilder.base

struct MalformedImage: CustomTestStringConvertible, Sendable {
    let name: String
    let change: @Sendable (inout ELFBuilder) -> Void
    let expected: ImageError
    var testDescription: String { name }
}

private let malformedImages: [MalformedImage] = [
    .init(name: "empty file", change: { $0.truncate = 0 }, expected: .notELF),
    .init(name: "bad magic", change: { $0.ident[1] = 0x46 }, expected: .notELF),
    .init(name: "truncated header", change: { $0.truncate = 40 }, expected: .truncated("ELF header", need: 64, have: 40)),
    .init(name: "32-bit class", change: { $0.ident[4] = 1 }, expected: .wrongClass(1)),
    .init(name: "big endian", change: { $0.ident[5] = 2 }, expected: .wrongEndianness(2)),
    .init(name: "ident version", change: { $0.ident[6] = 0 }, expected: .wrongVersion(0)),
    .init(name: "aarch64", change: { $0.machine = 183 }, expected: .wrongMachine(183)),
    .init(name: "relocatable object", change: { $0.type = 1 }, expected: .notExecutable(1)),
    .init(name: "position independent", change: { $0.type = 3 }, expected: .notExecutable(3)),
    .init(name: "truncated program headers", change: { $0.truncate = 100 },
          expected: .truncated("program header table", need: 176, have: 100)),
    .init(name: "odd program header size", change: { $0.phentsize = 32 }, expected: .badProgramHeaderSize(32)),
    .init(name: "no program headers", change: { $0.programHeaders = [] }, expected: .noLoadSegment),
    .init(name: "only a note", change: { $0.programHeaders.removeFirst() }, expected: .noLoadSegment),
    .init(name: "PT_INTERP", change: {
        $0.programHeaders.append(ProgramHeader(type: 3, flags: 4, offset: 0x800, address: 0, fileSize: 8, memorySize: 8))
    }, expected: .dynamicallyLinked("PT_INTERP", index: 2)),
    .init(name: "PT_DYNAMIC", change: {
        $0.programHeaders.insert(ProgramHeader(type: 2, flags: 6, offset: 0x800, address: 0, fileSize: 8, memorySize: 8), at: 0)
    }, expected: .dynamicallyLinked("PT_DYNAMIC", index: 0)),
    .init(name: "PT_TLS", change: {
        $0.programHeaders.append(ProgramHeader(type: 7, flags: 4, offset: 0x800, address: 0, fileSize: 8, memorySize: 8))
    }, expected: .threadLocalStorage(index: 2)),
    .init(name: "filesz > memsz", change: { $0.programHeaders[0].memorySize = 2 },
          expected: .fileSizeExceedsMemorySize(index: 0, fileSize: 6, memorySize: 2)),
    .init(name: "segment past end of file", change: { $0.programHeaders[0].fileSize = 0x2000; $0.programHeaders[0].memorySize = 0x2000 },
          expected: .segmentPastEndOfFile(index: 0, end: 0x3000, fileSize: 0x1006)),
    .init(name: "offset overflow", change: { $0.programHeaders[0].offset = .max - 1 },
          expected: .segmentPastEndOfFile(index: 0, end: .max, fileSize: 0x1006)),
    .init(name: "address overflow", change: { $0.programHeaders[0].address = .max - 2; $0.entry = .max - 2 },
          expected: .segmentOutsideMemory(index: 0, start: .max - 2, end: .max)),
    .init(name: "above user space", change: { $0.programHeaders[0].address = 1 << 47 },
          expected: .segmentOutsideMemory(index: 0, start: 1 << 47, end: (1 << 47) + 6)),
    .init(name: "below the image base", change: { $0.programHeaders[0].address = 0x400000; $0.entry = 0x400000 },
          expected: .segmentBelowImageBase(index: 0, start: 0x400000)),
    .init(name: "writable and executable", change: { $0.programHeaders[0].flags = 7 }, expected: .writableAndExecutable(index: 0)),
    .init(name: "overlapping segments", change: {
        $0.programHeaders.append(.load(base + 2, offset: 0x1000, fileSize: 4, flags: 4))
    }, expected: .segmentsOverlap(0, 2)),
    .init(name: "segments sharing a page", change: {
        $0.programHeaders.append(.load(base + 0x100, offset: 0x1000, fileSize: 4, flags: 6))
    }, expected: .segmentsSharePage(0, 2)),
    .init(name: "entry outside any segment", change: { $0.entry = base + 0x5000 }, expected: .entryNotExecutable(base + 0x5000)),
    .init(name: "entry in a non-executable segment", change: {
        $0.programHeaders.append(.load(base + 0x1000, offset: 0x1000, fileSize: 6, flags: 4))
        $0.entry = base + 0x1000
    }, expected: .entryNotExecutable(base + 0x1000)),
    .init(name: "no ABI note", change: { $0.programHeaders.removeLast() }, expected: .missingABINote),
    .init(name: "note of another owner", change: { $0.noteName = Array("GNU".utf8) + [0] }, expected: .missingABINote),
    .init(name: "note of another type", change: { $0.noteType = 1 }, expected: .missingABINote),
    .init(name: "note past end of file", change: { $0.programHeaders[1].offset = 0x1000; $0.programHeaders[1].fileSize = 0x100 },
          expected: .segmentPastEndOfFile(index: 1, end: 0x1100, fileSize: 0x1006)),
    .init(name: "PT_NOTEs covering the same bytes again and again", change: {
        $0.programHeaders.removeLast()
        for _ in 0..<3 {
            $0.programHeaders.append(ProgramHeader(type: 4, flags: 4, offset: 0x100, address: 0, fileSize: 0x600, memorySize: 0, align: 4))
        }
    }, expected: .tooManyNotes(index: 3)),
    .init(name: "wrong ABI version", change: { $0.abiVersion = 7 }, expected: .wrongABIVersion(found: 7, expected: NABLA_ABI_VERSION)),
]

@Suite("ELF validator")
struct ELFImageTests {
    @Test("accepts the minimal guest")
    func acceptsMinimalImage() throws {
        let image = try validate(ELFBuilder()).get()
        #expect(image.entry == base)
        #expect(image.abiVersion == NABLA_ABI_VERSION)
        #expect(image.segments == [LoadSegment(index: 0, address: base, memorySize: 6, fileOffset: 0x1000, fileSize: 6,
                                               permissions: [.read, .execute])])
        #expect(image.highestAddress == base + 0x1000)
    }

    @Test("accepts segments with bss and sorts them by address")
    func acceptsBSS() throws {
        var builder = ELFBuilder()
        builder.programHeaders.insert(.load(base + 0x3000, offset: 0x1000, fileSize: 4, memorySize: 0x2000, flags: 6), at: 0)
        let image = try validate(builder).get()
        #expect(image.segments.map(\.address) == [base, base + 0x3000])
        #expect(image.segments[1].permissions == [.read, .write])
        #expect(image.highestAddress == base + 0x5000)
    }

    @Test("refuses", arguments: malformedImages)
    func refuses(_ image: MalformedImage) {
        var builder = ELFBuilder()
        image.change(&builder)
        switch validate(builder) {
        case .success: Issue.record("accepted a malformed image: \(image.name)")
        case .failure(let error): #expect(error == image.expected)
        }
    }

    @Test("every error has a one-line message")
    func messagesAreOneLine() {
        for image in malformedImages {
            let message = image.expected.description
            #expect(!message.isEmpty && !message.contains("\n"))
        }
    }
}
