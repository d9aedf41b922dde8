// Seeds.swift: the seed corpus, written at build time by
// `nabla-fuzz --write-seeds DIR [IMAGE...]` (fuzz/run.sh).
//
// The seeds are: each guest image given (as built, and cut to the bytes its
// program headers reach, which fuzzes faster); a minimal valid guest and a
// few valid variants; and one image per case of the malformed-image table
// in Tests/NablaTests/ELFImageTests.swift, built the same way (one field
// changed in the minimal guest), so the fuzzer starts next to every check.

import CNablaTender
import Glibc
import NablaTestSupport

enum Seeds {
    typealias Change = @Sendable (inout ELFBuilder) -> Void
    static let base = ELFBuilder.base

    /// Images the validator accepts (the last two have more memory ranges
    /// than GuestLayout allows).
    static let valid: [(String, Change)] = [
        ("minimal", { _ in }),
        ("bss-and-unsorted", {
            $0.programHeaders.insert(.load(base + 0x3000, offset: 0x1000, fileSize: 4, memorySize: 0x2000, flags: 6), at: 0)
        }),
        ("empty-load-and-other-headers", {
            $0.programHeaders.append(.load(0, offset: 0, fileSize: 0, memorySize: 0, flags: 7))
            $0.programHeaders.append(.other(6))            // PT_PHDR
            $0.programHeaders.append(.other(0x6474e551))   // PT_GNU_STACK
        }),
        ("raw-syscalls", { $0.code = [0x0f, 0x05, 0x0f, 0x34, 0xcd, 0x80, 0xc3] }),
        ("segment-without-permissions", {
            $0.programHeaders.append(.load(base + 0x1000, offset: 0x1000, fileSize: 6, flags: 0))
        }),
        ("two-notes", {
            $0.programHeaders.insert(ProgramHeader(type: 4, flags: 4, offset: 0x800, address: 0, fileSize: 12, memorySize: 0, align: 4), at: 0)
        }),
        // Readable ranges: boot page and command line, each segment, heap
        // (joined to the last segment) and stack: 16, the limit, then 17.
        ("at-the-range-limit", {
            for i in 1...13 { $0.programHeaders.append(.load(base + UInt64(i) * 0x2000, offset: 0x1000, fileSize: 6, flags: 4)) }
        }),
        ("past-the-range-limit", {
            for i in 1...14 { $0.programHeaders.append(.load(base + UInt64(i) * 0x2000, offset: 0x1000, fileSize: 6, flags: 4)) }
        }),
        ("many-segments", {
            for i in 1...30 { $0.programHeaders.append(.load(base + UInt64(i) * 0x2000, offset: 0x1000, fileSize: 6, flags: i % 2 == 0 ? 4 : 6)) }
        }),
    ]

    /// The malformed-image table of ELFImageTests, case for case.
    static let malformed: [(String, Change)] = [
        ("empty-file", { $0.truncate = 0 }),
        ("bad-magic", { $0.ident[1] = 0x46 }),
        ("truncated-header", { $0.truncate = 40 }),
        ("32-bit-class", { $0.ident[4] = 1 }),
        ("big-endian", { $0.ident[5] = 2 }),
        ("ident-version", { $0.ident[6] = 0 }),
        ("aarch64", { $0.machine = 183 }),
        ("relocatable-object", { $0.type = 1 }),
        ("position-independent", { $0.type = 3 }),
        ("truncated-program-headers", { $0.truncate = 100 }),
        ("odd-program-header-size", { $0.phentsize = 32 }),
        ("no-program-headers", { $0.programHeaders = [] }),
        ("only-a-note", { $0.programHeaders.removeFirst() }),
        ("PT_INTERP", { $0.programHeaders.append(.other(3)) }),
        ("PT_DYNAMIC", { $0.programHeaders.insert(.other(2), at: 0) }),
        ("PT_TLS", { $0.programHeaders.append(.other(7)) }),
        ("filesz-greater-than-memsz", { $0.programHeaders[0].memorySize = 2 }),
        ("segment-past-end-of-file", { $0.programHeaders[0].fileSize = 0x2000; $0.programHeaders[0].memorySize = 0x2000 }),
        ("offset-overflow", { $0.programHeaders[0].offset = .max - 1 }),
        ("address-overflow", { $0.programHeaders[0].address = .max - 2; $0.entry = .max - 2 }),
        ("above-user-space", { $0.programHeaders[0].address = 1 << 47 }),
        ("below-the-image-base", { $0.programHeaders[0].address = 0x400000; $0.entry = 0x400000 }),
        ("writable-and-executable", { $0.programHeaders[0].flags = 7 }),
        ("overlapping-segments", { $0.programHeaders.append(.load(base + 2, offset: 0x1000, fileSize: 4, flags: 4)) }),
        ("segments-sharing-a-page", { $0.programHeaders.append(.load(base + 0x100, offset: 0x1000, fileSize: 4, flags: 6)) }),
        ("entry-outside-any-segment", { $0.entry = base + 0x5000 }),
        ("entry-in-a-non-executable-segment", {
            $0.programHeaders.append(.load(base + 0x1000, offset: 0x1000, fileSize: 6, flags: 4))
            $0.entry = base + 0x1000
        }),
        ("no-ABI-note", { $0.programHeaders.removeLast() }),
        ("note-of-another-owner", { $0.noteName = Array("GNU".utf8) + [0] }),
        ("note-of-another-type", { $0.noteType = 1 }),
        ("note-past-end-of-file", { $0.programHeaders[1].offset = 0x1000; $0.programHeaders[1].fileSize = 0x100 }),
        ("wrong-ABI-version", { $0.abiVersion = 7 }),
    ]

    /// Writes the seeds into `directory` (which must exist); returns the
    /// exit status.
    static func write(to directory: String, guests: [String]) -> Int32 {
        var count = 0
        func save(_ name: String, _ bytes: [UInt8]) -> Bool {
            let path = directory + "/" + name
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            count += 1
            return written == bytes.count
        }
        for (name, change) in valid {
            var image = ELFBuilder()
            change(&image)
            guard save("valid-" + name, image.build()) else { return fail("cannot write \(directory)/valid-\(name)") }
        }
        for (name, change) in malformed {
            var image = ELFBuilder()
            change(&image)
            guard save("malformed-" + name, image.build()) else { return fail("cannot write \(directory)/malformed-\(name)") }
        }
        for path in guests {
            guard let bytes = read(path) else { return fail("cannot read \(path)") }
            let name = "guest-" + (path.split(separator: "/").last.map(String.init) ?? path)
            guard save(name, bytes) else { return fail("cannot write \(directory)/\(name)") }
            if let cut = trimmed(bytes), cut.count < bytes.count {
                guard save(name + "-trimmed", cut) else { return fail("cannot write \(directory)/\(name)-trimmed") }
            }
        }
        print("nabla-fuzz: \(count) seeds in \(directory) (\(valid.count) valid, \(malformed.count) malformed, \(guests.count) guests)")
        return 0
    }

    static func fail(_ message: String) -> Int32 {
        let line = "nabla-fuzz: \(message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        return 1
    }

    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
        }
    }

    /// `image` cut after the last byte a program header reaches, without
    /// its section headers: the same guest in far fewer bytes.
    static func trimmed(_ image: [UInt8]) -> [UInt8]? {
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(image[at + $1]) << (8 * $1) } }
        func u16(_ at: Int) -> Int { Int(image[at]) | Int(image[at + 1]) << 8 }
        guard image.count >= 64 else { return nil }
        let phoff = u64(32), phnum = u16(56)
        guard phoff < UInt64(image.count), Int(phoff) + phnum * 56 <= image.count else { return nil }
        var end = Int(phoff) + phnum * 56
        for index in 0..<phnum {
            let at = Int(phoff) + index * 56
            let (reach, overflow) = u64(at + 8).addingReportingOverflow(u64(at + 32))
            guard !overflow, reach <= UInt64(image.count) else { return nil }
            end = max(end, Int(reach))
        }
        var cut = Array(image.prefix(end))
        for at in [40, 41, 42, 43, 44, 45, 46, 47, 60, 61, 62, 63] { cut[at] = 0 }  // e_shoff, e_shnum, e_shstrndx
        return cut
    }
}
