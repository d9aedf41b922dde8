// RootArchive.swift: the container's own files as the guest's root file
// system (docs/files.md, docs/oci.md): at create, the rootfs is written as
// a tar archive into an anonymous memory file, which the tender attaches
// read-only as the disk named `root`.
//
// The rootfs is the image's content and must not be trusted: the walk
// opens every entry relative to its directory with O_NOFOLLOW, so no
// symlink is followed (a symlink is stored as a symlink, which the guest
// resolves inside its own root), takes regular files, directories and
// symlinks only (no device nodes, FIFOs or sockets), and does not cross
// into another file system mounted below the rootfs.

import CNablaRunc
import Glibc

enum RootArchive {
    /// The disk the library OS mounts at `/`.
    static let diskName = "root"

    /// Writes the tree under `root` (an O_PATH descriptor of the rootfs)
    /// as a tar archive into a new memory file; returns its descriptor.
    static func make(root: Int32, rootfs: String) throws(RuncError) -> Int32 {
        let top = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard top >= 0 else { throw failure("open", rootfs) }
        defer { close(top) }
        var topStat = stat()
        guard fstat(top, &topStat) == 0 else { throw failure("stat", rootfs) }
        let out = nrc_memfd("nabla-root")
        guard out >= 0 else { throw failure("memfd_create for the archive of", rootfs) }
        var writer = TarWriter(fd: out)
        do throws(RuncError) {
            try add(directory: top, path: "", device: topStat.st_dev, rootfs: rootfs, into: &writer)
            try writer.finish()
        } catch {
            close(out)
            throw error
        }
        return out
    }

    private static func failure(_ call: String, _ path: String) -> RuncError {
        RuncError(.noInput, "cannot \(call) \(path) for the guest's root file system: \(String(cString: strerror(errno)))")
    }

    /// Adds the entries of `directory` (open at `dir`) under `path`.
    private static func add(directory dir: Int32, path: String, device: dev_t, rootfs: String, into writer: inout TarWriter) throws(RuncError) {
        let copy = dup(dir)
        guard copy >= 0, let stream = fdopendir(copy) else { throw failure("read the folder", rootfs + "/" + path) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        for name in names.sorted() {
            let member = path + name
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard st.st_dev == device else { continue }  // another file system mounted here
                let sub = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { throw failure("open the folder", rootfs + "/" + member) }
                defer { close(sub) }
                try writer.header(name: member + "/", type: "5", mode: st.st_mode, size: 0, mtime: st.st_mtim.tv_sec)
                try add(directory: sub, path: member + "/", device: device, rootfs: rootfs, into: &writer)
            case S_IFREG:
                // O_NONBLOCK: a FIFO put in the file's place since the
                // fstatat opens at once instead of waiting for a writer.
                let file = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                guard file >= 0 else { throw failure("open", rootfs + "/" + member) }
                defer { close(file) }
                // What was opened is what is copied, whatever changed since the fstatat.
                guard fstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                guard st.st_size < 0o77777777777 else {
                    throw RuncError(.noInput, "\(rootfs)/\(member) is 8 GiB or more, too large for the guest's root file system archive")
                }
                try writer.header(name: member, type: "0", mode: st.st_mode, size: UInt64(st.st_size), mtime: st.st_mtim.tv_sec)
                try writer.copy(from: file, size: UInt64(st.st_size), what: rootfs + "/" + member)
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlinkat(dir, name, &target, Int(PATH_MAX))
                guard n > 0 else { continue }
                let text = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                try writer.header(name: member, type: "2", mode: 0o777, size: 0, mtime: st.st_mtim.tv_sec, link: text)
            default:
                continue  // device nodes, FIFOs, sockets: never given to the guest
            }
        }
    }
}

/// A tar archive written to a descriptor: ustar headers, with GNU's long
/// name and long link entries for paths over 100 bytes.
struct TarWriter {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 20)
    }

    mutating func header(name: String, type: Character, mode: mode_t, size: UInt64, mtime: Int, link: String = "") throws(RuncError) {
        let nameBytes = Array(name.utf8), linkBytes = Array(link.utf8)
        if linkBytes.count > 100 { try longEntry("K", linkBytes) }
        if nameBytes.count > 100 { try longEntry("L", nameBytes) }
        var h = [UInt8](repeating: 0, count: 512)
        put(&h, 0, Array(nameBytes.prefix(100)))
        put(&h, 100, octal(UInt64(mode & 0o7777), width: 8))
        put(&h, 108, octal(0, width: 8))
        put(&h, 116, octal(0, width: 8))
        put(&h, 124, octal(size, width: 12))
        put(&h, 136, octal(UInt64(max(mtime, 0)), width: 12))
        h[156] = type.asciiValue ?? UInt8(ascii: "0")
        put(&h, 157, Array(linkBytes.prefix(100)))
        put(&h, 257, Array("ustar\u{0}00".utf8))
        for i in 148..<156 { h[i] = UInt8(ascii: " ") }
        let sum = h.reduce(0) { $0 + UInt64($1) }
        put(&h, 148, octal(sum, width: 7))
        buffer += h
        try flushIfFull()
    }

    private mutating func longEntry(_ type: Character, _ bytes: [UInt8]) throws(RuncError) {
        try header(name: "././@LongLink", type: type, mode: 0, size: UInt64(bytes.count + 1), mtime: 0)
        buffer += bytes + [0]
        pad()
    }

    mutating func copy(from file: Int32, size: UInt64, what: String) throws(RuncError) {
        var left = size
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while left > 0 {
            let n = chunk.withUnsafeMutableBytes { read(file, $0.baseAddress, Int(min(UInt64($0.count), left))) }
            guard n > 0 else {
                throw RuncError(.noInput, "cannot read \(what) for the guest's root file system: \(n == 0 ? "it shrank while being read" : String(cString: strerror(errno)))")
            }
            buffer += chunk[0..<n]
            left -= UInt64(n)
            try flushIfFull()
        }
        pad()
    }

    /// The two zero blocks that end an archive.
    mutating func finish() throws(RuncError) {
        buffer += [UInt8](repeating: 0, count: 1024)
        try flush()
    }

    private mutating func pad() {
        let rest = buffer.count % 512
        if rest != 0 { buffer += [UInt8](repeating: 0, count: 512 - rest) }
    }

    private mutating func flushIfFull() throws(RuncError) {
        if buffer.count >= 1 << 20 { try flush() }
    }

    private mutating func flush() throws(RuncError) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            guard n > 0 else {
                throw RuncError(.system, "cannot write the guest's root file system archive: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func put(_ h: inout [UInt8], _ at: Int, _ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() { h[at + i] = b }
    }

    /// `value` in octal, zero-padded to width - 1 digits and a NUL.
    private func octal(_ value: UInt64, width: Int) -> [UInt8] {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        return digits + [0]
    }
}
