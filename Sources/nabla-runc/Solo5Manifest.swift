// Solo5Manifest.swift: the network devices a Solo5 image declares.
//
// A Solo5 spt image (docs/solo5.md) names its devices in a manifest note
// (`.note.solo5.manifest`, layout in tender/include/nabla_solo5.h), and the
// tender attaches a device only under a name the manifest declares, and
// refuses to run with a declared one left unattached. So for a Solo5 image
// nabla-runc gives the container's network to the image's one declared NIC
// by its name (`--net:NAME=TAP`), and wires no TAP for an image that
// declares none. Only what that needs is read: the note's entries' names
// and types; the tender checks the rest of the manifest when it loads the
// image.

import Glibc

enum Solo5Manifest {
    private static let noteTypeManifest: UInt32 = 0x3154_464d   // "MFT1"
    private static let entrySize = 104, nameSize = 68, typeOffset = 68
    private static let netBasic: UInt32 = 2
    private static let maxEntries: UInt32 = 64

    /// The names of the network devices the image at `image` (an O_PATH
    /// descriptor) declares, or nil if it is not a Solo5 image (no manifest
    /// note: a nabla image).
    static func networkDevices(ofImage image: Int32) -> [String]? {
        let fd = open("/proc/self/fd/\(image)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let header = read(fd, at: 0, count: 64), header.count == 64,
              header.starts(with: [0x7f, 0x45, 0x4c, 0x46]), header[4] == 2 else { return nil }   // ELF64
        // The file is the image's, so no value in it is trusted: offsets and
        // sizes are bounded before any arithmetic (a bad one means "not a
        // Solo5 image here"; the tender then judges the file itself).
        let limit: UInt64 = 1 << 32
        let programHeaders = word64(header, 32), entrySize = Int(word16(header, 54)), count = Int(word16(header, 56))
        guard programHeaders < limit, entrySize >= 56, count <= 64 else { return nil }
        for index in 0..<count {
            guard let entry = read(fd, at: Int(programHeaders) + index * entrySize, count: 56),
                  word32(entry, 0) == 4 else { continue }   // PT_NOTE
            let offset = word64(entry, 8), size = word64(entry, 32)
            guard offset < limit, size <= 1 << 16, let notes = read(fd, at: Int(offset), count: Int(size)) else { continue }
            if let names = manifestNetworks(in: notes) { return names }
        }
        return nil
    }

    /// The NET_BASIC entries' names of the first Solo5 manifest note in `notes`.
    private static func manifestNetworks(in notes: [UInt8]) -> [String]? {
        var at = 0
        while at + 12 <= notes.count {
            let nameLength = Int(word32(notes, at)), descLength = Int(word32(notes, at + 4)), type = word32(notes, at + 8)
            let descStart = at + 12 + ((nameLength + 3) & ~3)
            guard descStart + descLength <= notes.count else { return nil }
            let name = notes[(at + 12)..<min(at + 12 + nameLength, notes.count)]
            if type == noteTypeManifest, Array(name) == Array("Solo5\0".utf8) {
                // The manifest is 8-aligned: 24 bytes from the note's start.
                let manifest = at + 24
                guard manifest + 8 <= notes.count else { return nil }
                let entries = min(word32(notes, manifest + 4), maxEntries)
                var names: [String] = []
                for index in 1..<max(Int(entries), 1) {
                    let entry = manifest + 8 + index * entrySize
                    guard entry + entrySize <= notes.count else { break }
                    if word32(notes, entry + typeOffset) == netBasic {
                        let bytes = notes[entry..<(entry + nameSize)].prefix { $0 != 0 }
                        names.append(String(decoding: bytes, as: UTF8.self))
                    }
                }
                return names
            }
            at = descStart + ((descLength + 3) & ~3)
        }
        return nil
    }

    private static func read(_ fd: Int32, at offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        return got == count ? bytes : nil
    }

    private static func word16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private static func word32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
    }
    private static func word64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
}
