// GuestMemory.swift: where everything goes in guest memory (GuestLayout),
// and putting it there (GuestMemory). docs/abi.md, "Memory layout".

import CNablaTender
import Glibc

/// An address in guest memory (which is also a tender address: the guest
/// runs in the tender's address space).
public typealias GuestAddress = UInt64

/// A range of guest addresses, `[start, end)`.
///
/// A concrete type rather than `Range<UInt64>`: it is used on the start-up
/// path, where each generic type's metadata costs a runtime lookup.
public struct GuestRange: Hashable, Sendable, CustomStringConvertible {
    public var start: GuestAddress
    public var end: GuestAddress

    public init(_ start: GuestAddress, _ end: GuestAddress) {
        self.start = start
        self.end = end
    }

    /// Bytes in the range.
    public var size: UInt64 { end - start }
    public var isEmpty: Bool { start >= end }

    /// `0x60000000-0x64000000`.
    public var description: String { "\(hex(start))-\(hex(end))" }
}

/// The placement of the image, heap, guard page and stack for one run.
public struct GuestLayout: Sendable, Equatable {
    /// The smallest and largest `--mem` accepted.
    public static let memoryLimit: UInt64 = 64 << 30
    /// `--mem` when none is given.
    public static let defaultMemory: UInt64 = 64 << 20

    /// All of guest memory.
    public var memory: GuestRange
    public var heap: GuestRange
    public var guardPage: GuestRange
    public var stack: GuestRange
    /// Where the guest (and so a hypercall) may read: boot page, command
    /// line, segments, heap, stack; adjacent ranges merged, in address order.
    public var readable: [GuestRange]
    /// Where the tender may store for the guest: command line, writable
    /// segments, heap, stack.
    public var writable: [GuestRange]

    /// The most ranges of either kind the hypercall handlers keep.
    public static let rangeLimit = Int(NABLA_HOST_MAX_RANGES)

    /// Places `image` in `memorySize` bytes (rounded up to whole pages).
    public init(image: ELFImage, memorySize: UInt64) throws(TenderError) {
        guard memorySize <= Self.memoryLimit else {
            throw .memoryTooLarge(given: memorySize, limit: Self.memoryLimit)
        }
        let start = GuestAddress(NABLA_MEM_BASE)
        let end = start + alignUp(memorySize, to: pageSize)
        let overhead = UInt64(NABLA_STACK_SIZE) + UInt64(NABLA_GUARD_SIZE)
        let needed = image.highestAddress + overhead - start
        guard end >= start + needed else { throw .memoryTooSmall(given: memorySize, needed: needed) }
        memory = GuestRange(start, end)
        stack = GuestRange(end - UInt64(NABLA_STACK_SIZE), end)
        guardPage = GuestRange(stack.start - UInt64(NABLA_GUARD_SIZE), stack.start)
        heap = GuestRange(image.highestAddress, guardPage.start)

        let boot = GuestRange(start, GuestAddress(NABLA_CMDLINE_ADDR))
        let commandLine = GuestRange(GuestAddress(NABLA_CMDLINE_ADDR), GuestAddress(NABLA_CMDLINE_ADDR) + GuestAddress(NABLA_CMDLINE_SIZE))
        var readable = [boot, commandLine], writable = [commandLine]
        for segment in image.segments where !segment.permissions.isEmpty {
            readable.append(segment.pageRange)
            if segment.permissions.contains(.write) { writable.append(segment.pageRange) }
        }
        readable += [heap, stack]
        writable += [heap, stack]
        self.readable = Self.merged(readable)
        self.writable = Self.merged(writable)
        guard self.readable.count <= Self.rangeLimit, self.writable.count <= Self.rangeLimit else {
            throw .tooManySegments(limit: Self.rangeLimit)
        }
    }

    /// `ranges` (in address order) without empty ones, adjacent ones joined.
    static func merged(_ ranges: [GuestRange]) -> [GuestRange] {
        var result: [GuestRange] = []
        for range in ranges where !range.isEmpty {
            if let last = result.last, last.end == range.start {
                result[result.count - 1].end = range.end
            } else {
                result.append(range)
            }
        }
        return result
    }
}

/// Guest memory, mapped and filled.
public enum GuestMemory {
    /// The boot info page and the command line area.
    static let bootArea = GuestRange(GuestAddress(NABLA_MEM_BASE), GuestAddress(NABLA_CMDLINE_ADDR) + GuestAddress(NABLA_CMDLINE_SIZE))

    /// Maps guest memory and puts the image's segments in; the boot area,
    /// heap and stack are writable until ``boot(image:layout:arguments:devices:facts:hypercalls:)``.
    /// Done before any device is opened, so that the image file is closed
    /// by then and the devices' descriptors start at 3.
    static func load(image: ELFImage, from file: ImageFile, layout: GuestLayout) throws(TenderError) {
        try reserve(layout.memory)
        try protect(bootArea, PROT_READ | PROT_WRITE)
        try placeSegments(of: image, from: file)
        if !layout.heap.isEmpty {
            try protect(layout.heap, PROT_READ | PROT_WRITE)
        }
        try protect(layout.stack, PROT_READ | PROT_WRITE)
    }

    /// Lays out argv and envp in the command line area, writes the boot info and
    /// gives the boot page and the segments their final permissions.
    static func boot(image: ELFImage, layout: GuestLayout, arguments: CommandLineArea, devices: [AttachedDevice],
                     facts: ProcessFacts, hypercalls: nabla_hypercalls) throws(TenderError) {
        let (argv, envp) = arguments.write()
        BootInfo.write(layout: layout, arguments: arguments, argv: argv, envp: envp, devices: devices,
                       facts: facts, hypercalls: hypercalls)

        // Final permissions: the boot info page becomes read-only, each
        // segment gets exactly what its program header asks for.
        try protect(GuestRange(GuestAddress(NABLA_MEM_BASE), GuestAddress(NABLA_CMDLINE_ADDR)), PROT_READ)
        try applySegmentPermissions(of: image)
    }

    // The steps every guest ABI's loader takes (Solo5SPT.swift too).

    /// Reserves `memory` (no access yet) at exactly its address, with no
    /// backing until touched; fails rather than replace anything there.
    static func reserve(_ memory: GuestRange) throws(TenderError) {
        switch Sys.mapFixed(memory.start, memory.size, PROT_NONE) {
        case .success: break
        case .failure(.exists): throw .guestMemoryInUse(start: memory.start, end: memory.end)
        case .failure(let error): throw .hostCall("mmap of \(ByteCount(bytes: memory.size)) guest memory", error)
        }
    }

    /// Puts each segment's file bytes at its address, the rest of its
    /// memory zero. Where the file allows it (the segment's offset and
    /// address agree within a page), its pages are the file's own, mapped
    /// private and copy-on-write with the segment's permissions: a page the
    /// guest never writes, its code above all, stays the page cache's and is
    /// shared by every guest of the same image, and nothing is copied.
    /// Otherwise, or where the file system refuses (an executable mapping
    /// from a `noexec` mount), the bytes are copied. Pages past the file's
    /// part are left read-write for ``applySegmentPermissions(of:)``.
    static func placeSegments(of image: ELFImage, from file: ImageFile) throws(TenderError) {
        for segment in image.segments {
            let mappedEnd = mapFromFile(segment, file)
            let rest = GuestRange(mappedEnd ?? segment.pageRange.start, segment.pageRange.end)
            if !rest.isEmpty { try protect(rest, PROT_READ | PROT_WRITE) }
            if mappedEnd == nil, segment.fileSize > 0, let base = file.bytes.baseAddress {
                UnsafeMutableRawPointer(bitPattern: UInt(segment.address))!
                    .copyMemory(from: base + Int(segment.fileOffset), byteCount: Int(segment.fileSize))
            }
        }
    }

    /// Maps the pages of `segment` that hold file bytes from `file`, and
    /// zeroes the rest of the last one that belongs to the segment. Returns
    /// the end of the mapping, or nil if nothing was mapped.
    private static func mapFromFile(_ segment: LoadSegment, _ file: ImageFile) -> GuestAddress? {
        let start = alignDown(segment.address, to: pageSize)
        let lead = segment.address - start
        let fileEnd = segment.address + segment.fileSize
        // A tail to zero needs a writable segment; W^X keeps it from being
        // executable, so no page is ever writable and executable.
        let zeroes = segment.memorySize > segment.fileSize
        guard segment.fileSize > 0, segment.fileOffset >= lead, (segment.fileOffset - lead) % pageSize == 0,
              !zeroes || segment.permissions.contains(.write) else { return nil }
        let end = alignUp(fileEnd, to: pageSize)
        guard case .success = Sys.mapFileFixed(file.fd, offset: segment.fileOffset - lead, at: start, end - start,
                                               segment.permissions.protection) else { return nil }
        if zeroes {
            UnsafeMutableRawPointer(bitPattern: UInt(fileEnd))!.initializeMemory(as: UInt8.self, repeating: 0,
                                                                                  count: Int(min(end, segment.end) - fileEnd))
        }
        return end
    }

    /// Gives each segment exactly the permissions its program header asks for.
    static func applySegmentPermissions(of image: ELFImage) throws(TenderError) {
        for segment in image.segments {
            try protect(segment.pageRange, segment.permissions.protection)
        }
    }

    /// mprotect of guest memory.
    static func protect(_ range: GuestRange, _ protection: Int32) throws(TenderError) {
        if case .failure(let error) = Sys.protect(range.start, range.size, protection) {
            throw .hostCall("mprotect of guest memory \(range)", error)
        }
    }
}

extension SegmentPermissions {
    /// As mmap and mprotect take them.
    var protection: Int32 {
        var protection: Int32 = PROT_NONE
        if contains(.read) { protection |= PROT_READ }
        if contains(.write) { protection |= PROT_WRITE }
        if contains(.execute) { protection |= PROT_EXEC }
        return protection
    }
}

/// The guest's arguments and environment as they will sit in the command
/// line area: an argv array of argc pointers and a NULL, an envp array of
/// envc pointers and a NULL, then the strings.
public struct CommandLineArea: Sendable {
    public let arguments: [String]
    /// `KEY=VALUE` strings (`--env`).
    public let environment: [String]
    /// Bytes the area needs.
    public let size: Int

    public var count: Int { arguments.count }

    /// Fails if the arguments and the environment do not fit in
    /// NABLA_CMDLINE_SIZE bytes.
    public init(_ arguments: [String], environment: [String] = []) throws(TenderError) {
        self.arguments = arguments
        self.environment = environment
        var strings = 0
        for string in arguments { strings += string.utf8.count + 1 }
        for string in environment { strings += string.utf8.count + 1 }
        size = (arguments.count + 1 + environment.count + 1) * 8 + strings
        guard size <= Int(NABLA_CMDLINE_SIZE) else { throw .commandLineTooLong(bytes: size, limit: Int(NABLA_CMDLINE_SIZE)) }
    }

    /// Writes the area at NABLA_CMDLINE_ADDR (which must be writable) and
    /// returns the argv and envp addresses.
    func write() -> (argv: GuestAddress, envp: GuestAddress) {
        let base = GuestAddress(NABLA_CMDLINE_ADDR)
        let pointers = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
        let envp = arguments.count + 1
        var next = base + GuestAddress((arguments.count + 1 + environment.count + 1) * 8)
        // Each string with its NUL at `next`; its address in pointer slot `slot`.
        func place(_ string: String, at slot: Int) {
            pointers[slot] = next
            let target = UnsafeMutablePointer<UInt8>(bitPattern: UInt(next))!
            var count = 0
            for byte in string.utf8 {
                target[count] = byte
                count += 1
            }
            target[count] = 0
            next += GuestAddress(count + 1)
        }
        for (index, argument) in arguments.enumerated() { place(argument, at: index) }
        for (index, variable) in environment.enumerated() { place(variable, at: envp + index) }
        pointers[arguments.count] = 0
        pointers[envp + environment.count] = 0
        return (base, base + GuestAddress(envp * 8))
    }
}
