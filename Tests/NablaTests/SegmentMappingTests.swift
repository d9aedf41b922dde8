// Segments mapped from the image file (GuestMemory.placeSegments): what the
// guest sees is the same whether its pages are the file's own (private,
// copy-on-write) or copied, the file never changes, and a guest's code is
// shared with the page cache.

import CNablaTender
import Foundation
import NablaTestSupport
import Testing

/// A synthetic image with a read-write data segment of `fileSize` 16 bytes
/// (the first one 7) and 4 KiB in memory, at the page after the code,
/// placed at `dataOffset` in the file, followed there by junk (0xAA) that
/// is not part of the segment. `store` makes the guest write 9 to the
/// segment's first byte first. The guest returns the segment's first byte
/// plus its 17th (past the file part, so zero): 7 if both are right.
private func dataImage(dataOffset: UInt64, store: Bool = false) -> [UInt8] {
    let data = ELFBuilder.base + 0x2000
    func absolute(_ address: UInt64) -> [UInt8] { withUnsafeBytes(of: UInt32(address).littleEndian, Array.init) }
    var code: [UInt8] = []
    if store { code += [0xc6, 0x04, 0x25] + absolute(data) + [9] }  // mov byte [data], 9
    code += [0x0f, 0xb6, 0x04, 0x25] + absolute(data)                 // movzx eax, byte [data]
    code += [0x0f, 0xb6, 0x0c, 0x25] + absolute(data + 16)            // movzx ecx, byte [data + 16]
    code += [0x01, 0xc8, 0xc3]                                        // add eax, ecx; ret
    var builder = ELFBuilder()
    builder.code = code
    builder.programHeaders[0].fileSize = UInt64(code.count)
    builder.programHeaders[0].memorySize = UInt64(code.count)
    builder.programHeaders.insert(.load(data, offset: dataOffset, fileSize: 16, memorySize: 0x1000, flags: 6), at: 1)
    var bytes = builder.build()
    let start = Int(dataOffset)
    if bytes.count < start + 0x100 { bytes += [UInt8](repeating: 0, count: start + 0x100 - bytes.count) }
    bytes[start] = 7
    for index in (start + 16)..<(start + 0x100) { bytes[index] = 0xAA }
    return bytes
}

@Suite("Segments mapped from the image file")
struct SegmentMappingTests {
    @Test("a data segment has its file bytes and zeroes past them, mapped or copied",
          arguments: [(UInt64(0x2000), "mapped: offset and address agree within a page"),
                      (UInt64(0x2800), "copied: they do not")])
    func dataSegment(_ offset: UInt64, _ how: String) throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(dataImage(dataOffset: offset), in: dir)
            let outcome = try nablaRun([image])
            #expect(outcome.status == 7, "\(how): \(outcome)")
            #expect(outcome.stderr.isEmpty)
        }
    }

    @Test("what the guest writes to its segments never reaches the image file")
    func fileUnchanged() throws {
        try withTemporaryDirectory { dir in
            let bytes = dataImage(dataOffset: 0x2000, store: true)
            let image = try writeImage(bytes, in: dir)
            let outcome = try nablaRun([image])
            #expect(outcome.status == 9, "\(outcome)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: image)) == Data(bytes))
        }
    }

    @Test("a guest's code is the image file's pages, read-only and private, shared with the page cache")
    func codeShared() throws {
        let idle = try Paths.guest("idle")
        let until = UInt64(Date().timeIntervalSince1970 * 1e9) + 5_000_000_000
        let child = try Child(Paths.tender, [idle, String(until)])
        defer { child.kill() }
        #expect(waitUntilGuestRuns(child))
        let maps = try String(contentsOfFile: "/proc/\(child.pid)/maps", encoding: .utf8)
        let image = URL(fileURLWithPath: idle).resolvingSymlinksInPath().path
        let code = maps.split(separator: "\n").filter { $0.hasSuffix(" " + image) && $0.contains(" r-xp ") }
        #expect(code.count == 1, "\(maps)")
        // No page of the code is the process's own copy (a copied or
        // written page would be anonymous): all are the page cache's.
        let smaps = try String(contentsOfFile: "/proc/\(child.pid)/smaps", encoding: .utf8)
        let line = try #require(code.first)
        let start = try #require(smaps.range(of: String(line)))
        let entry = smaps[start.upperBound...].prefix { $0 != "V" }  // up to VmFlags
        #expect(entry.contains("\nRss:") && !entry.contains("\nRss:                  0 kB"), "\(entry)")
        #expect(entry.contains("\nAnonymous:             0 kB"), "\(entry)")
    }

    @Test("an image on a noexec file system is copied in and runs",
          .needsRoot("mounting a noexec tmpfs needs root"))
    func noexecMount() throws {
        try withTemporaryDirectory { dir in
            let mountPoint = dir + "/noexec"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
            let mounted = try run("/bin/mount", ["-t", "tmpfs", "-o", "noexec,size=4m", "nabla-noexec", mountPoint])
            try #require(mounted.status == 0, "\(mounted)")
            defer { _ = try? run("/bin/umount", [mountPoint]) }
            let image = mountPoint + "/hello.nabla"
            try FileManager.default.copyItem(atPath: try Paths.guest("hello"), toPath: image)
            let outcome = try nablaRun([image])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == "Hello from a nabla guest!\n")
        }
    }
}
