// DiskCopies.swift: each guest gets its own copy of every writable disk,
// so that guests running at the same time neither lock each other out
// (nabla-run locks a writable disk) nor see each other's writes.

#if canImport(Glibc)
import Glibc
#endif

/// A private scratch directory holding the copies; removed by `remove()`.
struct DiskCopies {
    let directory: String

    /// Creates the directory under $TMPDIR (or /tmp).
    init() throws(HostError) {
        var template = Array(((environment("TMPDIR") ?? "/tmp") + "/nabla-test.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw HostError("cannot create a directory for disk copies in \(environment("TMPDIR") ?? "/tmp")") }
        directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Copies each disk for the guest numbered `index`; returns the
    /// nabla-run options naming the copies.
    func copies(of disks: [DiskOption], forGuest index: Int) throws(HostError) -> (options: [String], paths: [String]) {
        var options: [String] = [], paths: [String] = []
        for (number, disk) in disks.enumerated() {
            let copy = "\(directory)/guest\(index)-disk\(number).img"
            try copyFile(disk.path, to: copy)
            paths.append(copy)
            options += ["--disk", disk.name.map { "\($0)=\(copy)" } ?? copy]
        }
        return (options, paths)
    }

    /// Removes the copies of one guest.
    func discard(_ paths: [String]) {
        for path in paths { unlink(path) }
    }

    /// Removes the directory and anything left in it.
    func remove() {
        if let entries = opendir(directory) {
            while let entry = readdir(entries) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(entries)
        }
        rmdir(directory)
    }
}

/// ioctl(FICLONE): share the blocks on file systems that can (btrfs, XFS).
private let ficlone: UInt = 0x4004_9409

/// Copies `source` to a new file `destination`: a reflink where the file
/// system offers one, else read and write.
private func copyFile(_ source: String, to destination: String) throws(HostError) {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw HostError("cannot read disk \(source)") }
    defer { close(input) }
    var info = stat()
    guard fstat(input, &info) == 0 else { throw HostError("cannot read disk \(source)") }
    let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw HostError("cannot create disk copy \(destination)") }
    defer { close(output) }
    if ioctl(output, ficlone, input) == 0 { return }

    var remaining = Int(info.st_size)
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while remaining > 0 {
        let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, min($0.count, remaining)) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw HostError("cannot copy disk \(source)", count == 0 ? EIO : errno) }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(output, $0.baseAddress! + offset, count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw HostError("cannot write disk copy \(destination)") }
            offset += written
        }
        remaining -= count
    }
}
