// Fuzz.swift: the libFuzzer entry point (fuzz/README.md).
//
// Every input goes to the ELF validator. An image it accepts goes on to
// its ABI's layout (GuestLayout, or Solo5SPT.Layout for a Solo5 spt image)
// at memory sizes around the smallest that fits and to ImageInspection, and each result is held to the rules the validator and
// the layout promise (docs/abi.md). A crash, a trap, a sanitizer report, a
// hang or a broken rule (`require`, which traps) is a failure.

import CNablaTender
import Glibc
import Nabla

/// One input; libFuzzer calls this (through LLVMFuzzerRunDriver, main.swift).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let image: ELFImage
    do {
        image = try ELFImage(bytes: input)
    } catch {
        let message = error.description
        require(!message.isEmpty && !message.contains("\n"), "refusal is not one line: \(message)")
        return 0
    }
    checkImage(image, input)
    if case let .solo5SPT(manifest) = image.abi {
        checkSolo5(image, manifest)
    } else {
        checkLayouts(image)
    }
    checkInspection(image, input)
    return 0
}

/// Traps with `message` if `condition` is false: libFuzzer reports it as
/// a crash and saves the input.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("broken rule: \(message())", file: file, line: line) }
}

let pageSize = UInt64(NABLA_PAGE_SIZE)
let imageBase = UInt64(NABLA_IMAGE_BASE)
let memoryBase = UInt64(NABLA_MEM_BASE)
/// x86_64 user space ends below 2^47.
let addressLimit: UInt64 = 1 << 47

func alignUp(_ value: UInt64) -> UInt64 { (value + pageSize - 1) & ~(pageSize - 1) }

/// What ELFImage promises about an image it accepts.
func checkImage(_ image: ELFImage, _ input: UnsafeRawBufferPointer) {
    let fileSize = UInt64(input.count)
    let phnum = input.count >= 58 ? Int(input[56]) | Int(input[57]) << 8 : 0
    require(!image.segments.isEmpty, "accepted an image without segments")
    let solo5: Bool
    if case .solo5SPT = image.abi { solo5 = true } else { solo5 = false }
    require(image.abiVersion == (solo5 ? SOLO5_SPT_ABI_VERSION : NABLA_ABI_VERSION), "accepted ABI version \(image.abiVersion)")
    let imageBase = solo5 ? UInt64(SOLO5_SPT_IMAGE_BASE) : imageBase
    for segment in image.segments {
        let (end, overflow) = segment.address.addingReportingOverflow(segment.memorySize)
        require(!overflow && end <= addressLimit, "segment \(segment.index) ends past user space")
        require(segment.end == end, "segment \(segment.index): end is not address + memsz")
        require(segment.address >= imageBase, "segment \(segment.index) below the image base")
        require(segment.memorySize > 0, "segment \(segment.index) is empty")
        require(segment.fileSize <= segment.memorySize, "segment \(segment.index): filesz > memsz")
        let (fileEnd, fileOverflow) = segment.fileOffset.addingReportingOverflow(segment.fileSize)
        require(!fileOverflow && fileEnd <= fileSize, "segment \(segment.index) past the end of the file")
        require(!segment.permissions.isSuperset(of: [.write, .execute]), "segment \(segment.index) is W+X")
        require(segment.permissions.rawValue & ~7 == 0, "segment \(segment.index) has flags \(segment.permissions.rawValue)")
        require(segment.index >= 0 && segment.index < phnum, "segment index \(segment.index) of \(phnum) headers")
        require(segment.pageRange.start <= segment.address && segment.pageRange.end >= end
                    && segment.pageRange.start % pageSize == 0 && segment.pageRange.end % pageSize == 0,
                "segment \(segment.index): page range \(segment.pageRange) does not cover it")
    }
    for (previous, next) in zip(image.segments, image.segments.dropFirst()) {
        require(previous.address < next.address, "segments \(previous.index), \(next.index) out of order")
        require(previous.pageRange.end <= next.pageRange.start, "segments \(previous.index), \(next.index) share a page")
    }
    require(image.segments.contains { $0.permissions.contains(.execute) && image.entry >= $0.address && image.entry < $0.end },
            "entry \(image.entry) is not in an executable segment")
    require(image.lowestAddress == image.segments[0].pageRange.start, "lowestAddress")
    require(image.highestAddress == image.segments[image.segments.count - 1].pageRange.end, "highestAddress")
}

/// A Solo5 image: its manifest as Solo5 defines it, and Solo5SPT.Layout at
/// memory sizes around the smallest that fits and at the limits.
func checkSolo5(_ image: ELFImage, _ manifest: Solo5Manifest) {
    let entries = manifest.entries
    require(!entries.isEmpty && entries.count <= Int(SOLO5_MFT_MAX_ENTRIES), "\(entries.count) manifest entries")
    require(manifest.bytes.count == 8 + entries.count * 104, "manifest of \(manifest.bytes.count) bytes for \(entries.count) entries")
    require(entries[0].name.isEmpty && entries[0].type == .reserved(SOLO5_MFT_RESERVED_FIRST), "entry 0 is not the reserved one")
    for (index, entry) in entries.enumerated() {
        require(entry.index == index && entry.name.utf8.count < Int(SOLO5_MFT_NAME_SIZE), "manifest entry \(index)")
    }
    let minimum = image.highestAddress + UInt64(NABLA_STACK_SIZE)
    let limit = GuestLayout.memoryLimit
    for size in [1, pageSize, Solo5SPT.defaultMemory, minimum - 1, minimum, minimum + pageSize, limit, limit + 1, .max] as [UInt64] {
        let result = Result { () throws(TenderError) in try Solo5SPT.Layout(image: image, memorySize: size) }
        let rounded = size > limit ? size : alignUp(size)
        switch result {
        case .success(let layout):
            require(rounded <= limit && rounded >= minimum, "--mem \(size) accepted (needs \(minimum))")
            require(layout.memory == GuestRange(UInt64(SOLO5_SPT_MEM_BASE), rounded) && layout.imageEnd == image.highestAddress,
                    "layout \(layout.memory) for --mem \(size)")
        case .failure(.memoryTooLarge): require(rounded > limit, "--mem \(size) called too large")
        case .failure(.memoryTooSmall): require(rounded < minimum, "--mem \(size) called too small (needs \(minimum))")
        case .failure(let error): require(false, "--mem \(size): \(error)")
        }
    }
}

/// GuestLayout at memory sizes on both sides of the smallest that fits,
/// and at the limits.
func checkLayouts(_ image: ELFImage) {
    let overhead = UInt64(NABLA_STACK_SIZE) + UInt64(NABLA_GUARD_SIZE)
    let minimum = image.highestAddress + overhead - memoryBase
    let limit = GuestLayout.memoryLimit
    var sizes: [UInt64] = [0, 1, pageSize, GuestLayout.defaultMemory, limit - 1, limit, limit + 1, .max,
                           minimum - 1, minimum, minimum + 1, minimum + pageSize]
    if minimum > pageSize { sizes.append(minimum - pageSize) }
    for size in sizes {
        let result = Result { () throws(TenderError) in try GuestLayout(image: image, memorySize: size) }
        if size > limit {
            require(result == .failure(.memoryTooLarge(given: size, limit: limit)), "--mem \(size) above the limit: \(result)")
            continue
        }
        if alignUp(size) < minimum {
            require(result == .failure(.memoryTooSmall(given: size, needed: minimum)), "--mem \(size) below \(minimum): \(result)")
            continue
        }
        switch result {
        case .success(let layout): checkLayout(layout, image, size)
        case .failure(.tooManySegments): continue
        case .failure(let error): require(false, "--mem \(size) (needs \(minimum)) refused: \(error)")
        }
    }
}

func checkLayout(_ layout: GuestLayout, _ image: ELFImage, _ size: UInt64) {
    let memory = layout.memory
    require(memory == GuestRange(memoryBase, memoryBase + alignUp(size)), "memory \(memory) for --mem \(size)")
    require(layout.stack.end == memory.end && layout.stack.size == UInt64(NABLA_STACK_SIZE), "stack \(layout.stack)")
    require(layout.guardPage.end == layout.stack.start && layout.guardPage.size == UInt64(NABLA_GUARD_SIZE), "guard \(layout.guardPage)")
    require(layout.heap.start == image.highestAddress && layout.heap.end == layout.guardPage.start
                && layout.heap.start <= layout.heap.end, "heap \(layout.heap)")
    for (name, ranges) in [("readable", layout.readable), ("writable", layout.writable)] {
        require(ranges.count <= GuestLayout.rangeLimit, "\(ranges.count) \(name) ranges")
        for range in ranges {
            require(!range.isEmpty && range.start >= memory.start && range.end <= memory.end, "\(name) range \(range) in \(memory)")
            require(!overlaps(range, layout.guardPage), "\(name) range \(range) covers the guard page")
        }
        for (previous, next) in zip(ranges, ranges.dropFirst()) {
            require(previous.end < next.start, "\(name) ranges \(previous), \(next) not ordered, apart and merged")
        }
    }
    for range in layout.writable {
        require(layout.readable.contains { $0.start <= range.start && range.end <= $0.end }, "writable \(range) not readable")
    }
    for segment in image.segments where !segment.permissions.isEmpty {
        require(layout.readable.contains { $0.start <= segment.pageRange.start && segment.pageRange.end <= $0.end },
                "segment \(segment.index) not readable")
        let writableByTender = layout.writable.contains { overlaps($0, segment.pageRange) }
        require(writableByTender == segment.permissions.contains(.write),
                "segment \(segment.index) (\(segment.permissions)) writable by the tender: \(writableByTender)")
    }
}

func overlaps(_ a: GuestRange, _ b: GuestRange) -> Bool { a.start < b.end && b.start < a.end }

/// ImageInspection reads a path, so the input goes to an unlinked file
/// reached through /proc/self/fd.
nonisolated(unsafe) var scratchFile: Int32 = -1

func checkInspection(_ image: ELFImage, _ input: UnsafeRawBufferPointer) {
    if scratchFile < 0 {
        var template = Array("/tmp/nabla-fuzz-XXXXXX".utf8CString)
        scratchFile = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        require(scratchFile >= 0, "mkstemp: errno \(errno)")
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
    }
    require(ftruncate(scratchFile, 0) == 0, "ftruncate: errno \(errno)")
    if input.count > 0 {
        require(pwrite(scratchFile, input.baseAddress!, input.count, 0) == input.count, "pwrite: errno \(errno)")
    }
    let inspection: ImageInspection
    do {
        inspection = try ImageInspection(path: "/proc/self/fd/\(scratchFile)")
    } catch {
        require(false, "inspection refused an accepted image: \(error)")
        return
    }
    require(inspection.image.segments == image.segments && inspection.image.entry == image.entry, "inspection saw another image")
    let minimum: UInt64
    if case .solo5SPT = image.abi {
        minimum = image.highestAddress + UInt64(NABLA_STACK_SIZE)
    } else {
        minimum = image.highestAddress + UInt64(NABLA_STACK_SIZE) + UInt64(NABLA_GUARD_SIZE) - memoryBase
    }
    require(inspection.minimumMemory == minimum, "minimumMemory \(inspection.minimumMemory), expected \(minimum)")

    let patterns: [String: (UInt8, UInt8)] = ["syscall": (0x0f, 0x05), "sysenter": (0x0f, 0x34), "int 0x80": (0xcd, 0x80)]
    var expected = 0
    for segment in image.segments where segment.permissions.contains(.execute) && segment.fileSize >= 2 {
        let start = Int(segment.fileOffset), end = start + Int(segment.fileSize)
        for at in start..<(end - 1) where patterns.values.contains(where: { input[at] == $0.0 && input[at + 1] == $0.1 }) {
            expected += 1
        }
    }
    require(inspection.rawSyscalls.count == expected, "\(inspection.rawSyscalls.count) raw system calls, expected \(expected)")
    for site in inspection.rawSyscalls {
        guard let pattern = patterns[site.instruction] else {
            require(false, "unknown instruction \(site.instruction)")
            return
        }
        let offset = site.fileOffset
        require(offset + 1 < UInt64(input.count) && input[Int(offset)] == pattern.0 && input[Int(offset) + 1] == pattern.1,
                "\(site.instruction) at file offset \(offset) is not there")
        require(image.segments.contains {
            $0.permissions.contains(.execute) && offset >= $0.fileOffset && offset + 2 <= $0.fileOffset + $0.fileSize
                && site.address == $0.address + (offset - $0.fileOffset)
        }, "\(site.instruction) at \(offset) is not in an executable segment at \(site.address)")
    }
    if inspection.rawSyscalls.count <= 64 {
        require(!inspection.report.isEmpty, "empty report")
    }
}
