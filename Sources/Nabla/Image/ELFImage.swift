// ELFImage.swift: validates a guest image and describes what to load.
//
// The image is hostile input. Every field is read with bounds checks and
// every sum with overflow checks; each failure is an `ImageError` that names
// the header and field at fault. Nothing here traps on bad input.

import CNablaTender

/// Memory permissions of a loadable segment.
public struct SegmentPermissions: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// PF_X.
    public static let execute = SegmentPermissions(rawValue: 1)
    /// PF_W.
    public static let write = SegmentPermissions(rawValue: 2)
    /// PF_R.
    public static let read = SegmentPermissions(rawValue: 4)

    /// `r-x` style, as `readelf` prints it.
    public var description: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }
}

/// One PT_LOAD program header that passed validation.
public struct LoadSegment: Sendable, Equatable {
    /// Index of the program header in the image.
    public var index: Int
    /// Guest virtual address of the first byte.
    public var address: UInt64
    /// Bytes in memory (`p_memsz`); the part past `fileSize` is zeroed.
    public var memorySize: UInt64
    /// Offset of the segment's bytes in the file.
    public var fileOffset: UInt64
    /// Bytes taken from the file (`p_filesz`).
    public var fileSize: UInt64
    public var permissions: SegmentPermissions

    /// First address past the segment.
    public var end: UInt64 { address + memorySize }
    /// The segment rounded out to whole pages: the unit of protection.
    public var pageRange: GuestRange {
        GuestRange(alignDown(address, to: pageSize), alignUp(end, to: pageSize))
    }
}

/// A validated static x86_64 guest image.
public struct ELFImage: Sendable {
    /// The entry point (`e_entry`), inside an executable segment.
    public var entry: UInt64
    /// PT_LOAD segments in address order.
    public var segments: [LoadSegment]
    /// The ABI version from the image's nabla note (for a Solo5 image, the
    /// spt ABI version from its Solo5 note).
    public var abiVersion: UInt32
    /// Which interface the image was built for: it decides the layout, the
    /// boot info, the devices and the policy (``GuestABI``).
    public var abi: GuestABI
    /// What the guest says it can handle: the mask of its features note
    /// (NABLA_FEATURE_*), 0 without one (and for Solo5 images).
    public var features: UInt32 = 0

    /// Lowest page the image occupies.
    public var lowestAddress: UInt64 { segments.first?.pageRange.start ?? 0 }
    /// First page boundary past the image.
    public var highestAddress: UInt64 {
        var highest: UInt64 = 0
        for segment in segments { highest = max(highest, segment.pageRange.end) }
        return highest
    }

    /// Validates `bytes` as a guest image: a nabla guest, or a Solo5 spt
    /// unikernel (``GuestABI``), as its ABI note says.
    ///
    /// Checks the ELF identification and header, that the image is a static
    /// executable for x86_64 with no interpreter, dynamic section or TLS, that
    /// its PT_LOAD segments lie inside the file and above `NABLA_IMAGE_BASE`,
    /// do not share pages, and are never writable and executable at once, that
    /// the entry point is executable, and that the ABI note names the version
    /// this tender speaks. A Solo5 image's segments start at 0x100000
    /// instead, its PT_INTERP (a name Solo5 gives so that the host never runs
    /// it) and PT_TLS are ignored, and its manifest must be valid
    /// (``Solo5Manifest``). Where each segment must fit in guest memory
    /// depends on `--mem` and is checked by ``GuestLayout`` (``Solo5SPT/Layout``).
    /// The bytes are only read while the initialiser runs (the tender passes
    /// the image file's read-only mapping: nothing is copied).
    public init(bytes: UnsafeRawBufferPointer) throws(ImageError) {
        let file = ByteReader(bytes)
        guard bytes.count >= 4, try file.u8(0) == 0x7f, try file.u8(1) == 0x45, try file.u8(2) == 0x4c, try file.u8(3) == 0x46 else {
            throw .notELF
        }
        guard bytes.count >= ELF.headerSize else { throw .truncated("ELF header", need: UInt64(ELF.headerSize), have: UInt64(bytes.count)) }
        guard try file.u8(4) == ELF.classELF64 else { throw .wrongClass(try file.u8(4)) }
        guard try file.u8(5) == ELF.dataLittleEndian else { throw .wrongEndianness(try file.u8(5)) }
        guard try file.u8(6) == ELF.versionCurrent else { throw .wrongVersion(UInt32(try file.u8(6))) }
        let type = try file.u16(16), machine = try file.u16(18)
        guard machine == ELF.machineX86_64 else { throw .wrongMachine(machine) }
        guard try file.u32(20) == UInt32(ELF.versionCurrent) else { throw .wrongVersion(try file.u32(20)) }
        guard type == ELF.typeExecutable else { throw .notExecutable(type) }

        let entry = try file.u64(24)
        let phoff = try file.u64(32)
        let phentsize = try file.u16(54), phnum = try file.u16(56)
        guard phnum > 0 else { throw .noLoadSegment }
        guard phentsize == ELF.programHeaderSize else { throw .badProgramHeaderSize(phentsize) }
        let tableSize = UInt64(phnum) * UInt64(phentsize)
        guard let tableEnd = phoff.checkedAdd(tableSize), tableEnd <= UInt64(bytes.count) else {
            throw .truncated("program header table", need: phoff.saturatingAdd(tableSize), have: UInt64(bytes.count))
        }

        // The notes first: the ABI they name decides how segments are checked.
        var notes = NoteScan()
        var noteBytesScanned: UInt64 = 0
        for index in 0..<Int(phnum) where try file.u32(Int(phoff) + index * Int(phentsize)) == ELF.ptNote {
            let base = Int(phoff) + index * Int(phentsize)
            let offset = try file.u64(base + 8), filesz = try file.u64(base + 32)
            guard let noteEnd = offset.checkedAdd(filesz), noteEnd <= UInt64(bytes.count) else {
                throw .segmentPastEndOfFile(index: index, end: offset.saturatingAdd(filesz), fileSize: UInt64(bytes.count))
            }
            // Scan note bytes at most once per byte of the file in all:
            // many PT_NOTE headers over the same bytes would otherwise
            // make validation quadratic. The first note of each kind counts.
            guard !notes.isComplete else { continue }
            noteBytesScanned += filesz
            guard noteBytesScanned <= UInt64(bytes.count) else { throw .tooManyNotes(index: index) }
            try notes.scan(file, from: Int(offset), to: Int(noteEnd))
        }
        let solo5 = notes.solo5ABI != nil && notes.nablaVersion == nil
        let imageBase = solo5 ? UInt64(SOLO5_SPT_IMAGE_BASE) : UInt64(NABLA_IMAGE_BASE)

        var segments: [LoadSegment] = []
        for index in 0..<Int(phnum) {
            let base = Int(phoff) + index * Int(phentsize)
            let ptype = try file.u32(base), flags = try file.u32(base + 4)
            let offset = try file.u64(base + 8), vaddr = try file.u64(base + 16)
            let filesz = try file.u64(base + 32), memsz = try file.u64(base + 40)
            switch ptype {
            // Solo5's bindings name a PT_INTERP that does not exist (so that
            // the host never runs the image by itself) and set up their own
            // TLS from PT_TLS; neither means anything to the tender.
            case ELF.ptInterp where solo5, ELF.ptTLS where solo5: continue
            case ELF.ptInterp: throw .dynamicallyLinked("PT_INTERP", index: index)
            case ELF.ptDynamic: throw .dynamicallyLinked("PT_DYNAMIC", index: index)
            case ELF.ptTLS: throw .threadLocalStorage(index: index)
            case ELF.ptLoad:
                guard filesz <= memsz else { throw .fileSizeExceedsMemorySize(index: index, fileSize: filesz, memorySize: memsz) }
                guard let fileEnd = offset.checkedAdd(filesz), fileEnd <= UInt64(bytes.count) else {
                    throw .segmentPastEndOfFile(index: index, end: offset.saturatingAdd(filesz), fileSize: UInt64(bytes.count))
                }
                guard memsz > 0 else { continue }
                guard let end = vaddr.checkedAdd(memsz), end <= ELF.addressLimit else {
                    throw .segmentOutsideMemory(index: index, start: vaddr, end: vaddr.saturatingAdd(memsz))
                }
                guard vaddr >= imageBase else {
                    throw solo5 ? .solo5SegmentBelowImageBase(index: index, start: vaddr) : .segmentBelowImageBase(index: index, start: vaddr)
                }
                let permissions = SegmentPermissions(rawValue: flags & 7)
                guard !permissions.isSuperset(of: [.write, .execute]) else { throw .writableAndExecutable(index: index) }
                segments.append(LoadSegment(index: index, address: vaddr, memorySize: memsz,
                                            fileOffset: offset, fileSize: filesz, permissions: permissions))
            default:
                continue
            }
        }
        guard !segments.isEmpty else { throw .noLoadSegment }
        segments.sort { $0.address < $1.address }
        for i in segments.indices.dropFirst() {
            let previous = segments[i - 1], next = segments[i]
            if previous.end > next.address { throw .segmentsOverlap(previous.index, next.index) }
            if previous.pageRange.end > next.pageRange.start { throw .segmentsSharePage(previous.index, next.index) }
        }
        var entryIsExecutable = false
        for segment in segments where segment.permissions.contains(.execute) && entry >= segment.address && entry < segment.end {
            entryIsExecutable = true
        }
        guard entryIsExecutable else { throw .entryNotExecutable(entry) }

        self.entry = entry
        self.segments = segments
        if solo5, let info = notes.solo5ABI {
            guard info.target == SOLO5_TARGET_SPT else { throw .solo5WrongTarget(info.target) }
            guard info.version == SOLO5_SPT_ABI_VERSION else { throw .solo5WrongABIVersion(info.version) }
            guard let range = notes.solo5Manifest else { throw .solo5MissingManifest }
            guard let range = range else { throw .solo5Manifest(.truncated(size: 0)) }
            do {
                abi = .solo5SPT(manifest: try Solo5Manifest(bytes: Array(UnsafeRawBufferPointer(rebasing: bytes[range]))))
            } catch {
                throw .solo5Manifest(error)
            }
            abiVersion = info.version
            return
        }
        guard let abiVersion = notes.nablaVersion else { throw .missingABINote }
        guard abiVersion == NABLA_ABI_VERSION else { throw .wrongABIVersion(found: abiVersion, expected: NABLA_ABI_VERSION) }
        self.abiVersion = abiVersion
        features = notes.nablaFeatures ?? 0
        abi = .nabla
    }

    /// Validates `bytes` as a nabla guest image; see ``init(bytes:)-(UnsafeRawBufferPointer)``.
    public init(bytes: [UInt8]) throws(ImageError) {
        let result = bytes.withUnsafeBytes { buffer -> Result<ELFImage, ImageError> in
            do throws(ImageError) {
                return .success(try ELFImage(bytes: buffer))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}

/// The notes the validator looks for, from the first of each kind found.
struct NoteScan {
    /// The version in the first well-formed nabla ABI note.
    var nablaVersion: UInt32?
    /// The mask in the first nabla features note (NABLA_FEATURE_*).
    var nablaFeatures: UInt32?
    /// Target and version from the first Solo5 ABI1 note.
    var solo5ABI: (target: UInt32, version: UInt32)?
    /// Where the first Solo5 MFT1 note's manifest lies in the file; an inner
    /// nil if the note is too short or too long to hold one.
    var solo5Manifest: Range<Int>??

    var isComplete: Bool { (nablaVersion != nil && nablaFeatures != nil) || (solo5ABI != nil && solo5Manifest != nil) }

    /// Reads the notes in `file[start..<end]`, stopping at the first that
    /// does not fit.
    mutating func scan(_ file: ByteReader, from start: Int, to end: Int) throws(ImageError) {
        var at = start
        while at + 12 <= end {
            let namesz = Int(try file.u32(at)), descsz = Int(try file.u32(at + 4)), type = try file.u32(at + 8)
            let nameStart = at + 12
            let descStart = nameStart + alignUp(namesz, to: 4)
            let next = descStart + alignUp(descsz, to: 4)
            guard namesz <= 4096, descsz <= 1 << 20, next <= end else { return }
            if type == NABLA_NOTE_TYPE_ABI, descsz == 4, try Self.named(ELF.noteName, file, nameStart, namesz), nablaVersion == nil {
                nablaVersion = try file.u32(descStart)
            } else if type == NABLA_NOTE_TYPE_FEATURES, descsz == 4, try Self.named(ELF.noteName, file, nameStart, namesz), nablaFeatures == nil {
                nablaFeatures = try file.u32(descStart)
            } else if try Self.named(ELF.solo5NoteName, file, nameStart, namesz) {
                if type == SOLO5_NOTE_TYPE_ABI, descsz >= 8, solo5ABI == nil {
                    solo5ABI = (try file.u32(descStart), try file.u32(descStart + 4))
                } else if type == SOLO5_NOTE_TYPE_MFT, solo5Manifest == nil {
                    // The manifest is 8-byte aligned: it starts 24 bytes
                    // after the note's header, 4 bytes into the descriptor.
                    let pad = Int(SOLO5_MFT_NOTE_PAD)
                    solo5Manifest = descsz > pad && descsz <= Solo5Manifest.largestDescriptor
                        ? .some((descStart + pad)..<(descStart + descsz)) : .some(nil)
                }
            }
            at = next
        }
    }

    private static func named(_ name: [UInt8], _ file: ByteReader, _ start: Int, _ size: Int) throws(ImageError) -> Bool {
        guard size == name.count + 1, file.matches(name, at: start) else { return false }
        return try file.u8(start + size - 1) == 0
    }
}

/// Why an image was refused. Each message names the header and field.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    case notELF
    case truncated(String, need: UInt64, have: UInt64)
    case wrongClass(UInt8)
    case wrongEndianness(UInt8)
    case wrongVersion(UInt32)
    case wrongMachine(UInt16)
    case notExecutable(UInt16)
    case badProgramHeaderSize(UInt16)
    case dynamicallyLinked(String, index: Int)
    case threadLocalStorage(index: Int)
    case noLoadSegment
    case fileSizeExceedsMemorySize(index: Int, fileSize: UInt64, memorySize: UInt64)
    case segmentPastEndOfFile(index: Int, end: UInt64, fileSize: UInt64)
    case segmentOutsideMemory(index: Int, start: UInt64, end: UInt64)
    case segmentBelowImageBase(index: Int, start: UInt64)
    case segmentsOverlap(Int, Int)
    case segmentsSharePage(Int, Int)
    case writableAndExecutable(index: Int)
    case entryNotExecutable(UInt64)
    case missingABINote
    case tooManyNotes(index: Int)
    case wrongABIVersion(found: UInt32, expected: UInt32)
    case solo5WrongTarget(UInt32)
    case solo5WrongABIVersion(UInt32)
    case solo5MissingManifest
    case solo5Manifest(Solo5ManifestError)
    case solo5SegmentBelowImageBase(index: Int, start: UInt64)

    public var description: String {
        switch self {
        case .notELF:
            return "not an ELF file (bad magic number)"
        case let .truncated(what, need, have):
            return "truncated: the \(what) needs \(need) bytes, the file has \(have)"
        case let .wrongClass(c):
            return "ELF class \(c) is not ELFCLASS64: nabla guests are 64-bit"
        case let .wrongEndianness(d):
            return "ELF data encoding \(d) is not little-endian"
        case let .wrongVersion(v):
            return "ELF version \(v) is not EV_CURRENT (1)"
        case let .wrongMachine(m):
            return "ELF machine \(m) is not x86_64 (62)"
        case let .notExecutable(t):
            let kind = t == 3 ? "ET_DYN (position-independent)" : t == 1 ? "ET_REL (an object file, not linked)" : "type \(t)"
            return "ELF type is \(kind), not ET_EXEC: link the guest statically at \(hex(UInt64(NABLA_IMAGE_BASE))) with -no-pie"
        case let .badProgramHeaderSize(s):
            return "e_phentsize is \(s), not \(ELF.programHeaderSize)"
        case let .dynamicallyLinked(what, index):
            return "program header \(index) is \(what): the image is dynamically linked; link it with -static"
        case let .threadLocalStorage(index):
            return "program header \(index) is PT_TLS: thread-local storage is not supported in guests"
        case .noLoadSegment:
            return "the image has no PT_LOAD segment"
        case let .fileSizeExceedsMemorySize(index, filesz, memsz):
            return "program header \(index): p_filesz (\(filesz)) is larger than p_memsz (\(memsz))"
        case let .segmentPastEndOfFile(index, end, size):
            return "program header \(index): its bytes end at offset \(end), past the end of the file (\(size) bytes)"
        case let .segmentOutsideMemory(index, start, end):
            return "program header \(index): segment \(hex(start))-\(hex(end)) lies outside guest memory"
        case let .segmentBelowImageBase(index, start):
            return "program header \(index): segment starts at \(hex(start)), below the image base \(hex(UInt64(NABLA_IMAGE_BASE))); link the guest with guests/nabla.ld"
        case let .segmentsOverlap(a, b):
            return "program headers \(a) and \(b): segments overlap"
        case let .segmentsSharePage(a, b):
            return "program headers \(a) and \(b): segments share a page, so they cannot have their own permissions; align segments to 4 KiB"
        case let .writableAndExecutable(index):
            return "program header \(index): segment is writable and executable; nabla refuses W+X memory"
        case let .entryNotExecutable(entry):
            return "entry point \(hex(entry)) is not inside an executable segment"
        case let .tooManyNotes(index):
            return "program header \(index): the PT_NOTE segments cover more bytes than the file has; refusing to scan them again"
        case .missingABINote:
            return "no nabla ABI note: the image was not built for nabla (link it with the nabla library OS)"
        case let .wrongABIVersion(found, expected):
            let hint = found < expected ? " (rebuild it with this nabla's SDK: nabla-cc or make guests)" : ""
            return "the image was built for nabla ABI version \(found); this nabla-run speaks version \(expected)\(hint)"
        case let .solo5WrongTarget(target):
            let name = target == SOLO5_TARGET_HVT ? "hvt (run it with solo5-hvt, or rebuild it with -t spt)" : "target \(target)"
            return "the image is a Solo5 unikernel for \(name), not for spt; nabla-run runs Solo5 spt images"
        case let .solo5WrongABIVersion(version):
            return "the image was built for Solo5 spt ABI version \(version); this nabla-run speaks version \(SOLO5_SPT_ABI_VERSION) (Solo5 v0.12)"
        case .solo5MissingManifest:
            return "the Solo5 image has no manifest note (.note.solo5.manifest, MFT1)"
        case let .solo5Manifest(error):
            return "invalid Solo5 manifest: \(error)"
        case let .solo5SegmentBelowImageBase(index, start):
            return "program header \(index): segment starts at \(hex(start)), below Solo5's image base \(hex(UInt64(SOLO5_SPT_IMAGE_BASE)))"
        }
    }
}

/// ELF64 constants used by the validator.
enum ELF {
    static let headerSize = 64
    static let programHeaderSize: UInt16 = 56
    static let classELF64: UInt8 = 2
    static let dataLittleEndian: UInt8 = 1
    static let versionCurrent: UInt8 = 1
    static let typeExecutable: UInt16 = 2
    static let machineX86_64: UInt16 = 62
    static let ptLoad: UInt32 = 1
    static let ptDynamic: UInt32 = 2
    static let ptInterp: UInt32 = 3
    static let ptNote: UInt32 = 4
    static let ptTLS: UInt32 = 7
    /// x86_64 user space ends below 2^47.
    static let addressLimit: UInt64 = 1 << 47
    static let noteName = Array(NABLA_NOTE_NAME.utf8)
    static let solo5NoteName = Array(SOLO5_NOTE_NAME.utf8)
}

/// Little-endian reads from an image's bytes. A read past the end throws
/// `.truncated` instead of trapping: the callers check sizes first, and this
/// makes a missed check an error message, not a crash.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func u8(_ at: Int) throws(ImageError) -> UInt8 {
        guard at >= 0, at < bytes.count else {
            throw .truncated("byte at offset \(at)", need: UInt64(max(at, 0)) + 1, have: UInt64(bytes.count))
        }
        return bytes[at]
    }
    func u16(_ at: Int) throws(ImageError) -> UInt16 { UInt16(try u8(at)) | UInt16(try u8(at + 1)) << 8 }
    func u32(_ at: Int) throws(ImageError) -> UInt32 { UInt32(try u16(at)) | UInt32(try u16(at + 2)) << 16 }
    func u64(_ at: Int) throws(ImageError) -> UInt64 { UInt64(try u32(at)) | UInt64(try u32(at + 4)) << 32 }

    /// True if `expected` stands at `at`.
    func matches(_ expected: [UInt8], at: Int) -> Bool {
        guard at >= 0, at + expected.count <= bytes.count else { return false }
        for i in expected.indices where bytes[at + i] != expected[i] { return false }
        return true
    }
}

let pageSize = UInt64(NABLA_PAGE_SIZE)

func alignDown(_ value: UInt64, to alignment: UInt64) -> UInt64 { value & ~(alignment - 1) }
func alignUp(_ value: UInt64, to alignment: UInt64) -> UInt64 { (value + alignment - 1) & ~(alignment - 1) }
func alignUp(_ value: Int, to alignment: Int) -> Int { (value + alignment - 1) & ~(alignment - 1) }

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

extension UInt64 {
    /// `self + other`, or nil on overflow.
    func checkedAdd(_ other: UInt64) -> UInt64? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }

    /// `self + other`, clamped to `UInt64.max`.
    func saturatingAdd(_ other: UInt64) -> UInt64 { checkedAdd(other) ?? .max }
}
