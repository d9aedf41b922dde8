// Disk.swift: disk image files for the block device tests, and a runner
// that reads a guest's output while it runs and kills it on cue.

import Foundation

/// What a test disk is filled with.
enum DiskFill {
    /// Zeros, as a sparse file (so large disks cost nothing).
    case zero
    /// Every byte this value.
    case byte(UInt8)
    /// Random bytes (so any change shows).
    case random
}

/// Creates a disk image of `size` bytes at `directory/name`: the one
/// helper every test that needs a disk file uses.
func makeDisk(in directory: String, name: String = "disk.img", size: Int, fill: DiskFill = .zero) throws -> String {
    let path = directory + "/" + name
    switch fill {
    case .zero:
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw HarnessError("cannot create \(path)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(size))
    case .byte(let value):
        try Data(repeating: value, count: size).write(to: URL(fileURLWithPath: path))
    case .random:
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: path))
    }
    return path
}

/// The whole contents of a file.
func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Overwrites `bytes` at `offset` in the file at `path`.
func patchFile(_ path: String, at offset: UInt64, with bytes: [UInt8]) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data(bytes))
}

/// CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial
/// value and final XOR 0xFFFFFFFF): the checksum of kvlog records.
func kvlogCRC32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A little-endian integer of `T`'s width at `offset`.
func readLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type = T.self) -> T {
    (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(bytes[offset + $1]) << (8 * $1) }
}

/// What `nablaRunUntil` saw.
struct InterruptedRun {
    /// Everything the guest wrote to stdout, including what was still in the
    /// pipe when it was killed.
    var stdout: String
    var stderr: String
    /// The exit status (137 if it was killed with SIGKILL).
    var status: Int32
    /// True if `stop` was satisfied and the process was killed.
    var killed: Bool
}

/// Runs nabla-run with `arguments`, its stdout on a FIFO in `directory`, and
/// reads the output as it comes. As soon as `stop(output so far)` is true the
/// process gets SIGKILL; the pipe then holds at most a pipe's worth of
/// output the reader had not read yet, which is drained. The pipe also
/// throttles the guest: it cannot run further ahead of the reader than the
/// pipe's capacity. Throws if neither `stop` nor the process's exit happens
/// within `timeout` seconds (the process is killed then too).
func nablaRunUntil(_ arguments: [String], in directory: String, timeout: Double = 20,
                   stop: (String) -> Bool) throws -> InterruptedRun {
    let fifo = directory + "/stdout-" + UUID().uuidString + ".fifo"
    let errPath = fifo + ".err"
    guard mkfifo(fifo, 0o600) == 0 else { throw HarnessError("mkfifo \(fifo): \(String(cString: strerror(errno)))") }
    defer { unlink(fifo); unlink(errPath) }
    // Non-blocking, so the open succeeds before the writer exists and reads
    // never hang; opened before the child so that its open for writing
    // finds a reader and does not block.
    let fd = open(fifo, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else { throw HarnessError("open \(fifo): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let child = try Child(Paths.tender, arguments, stdout: fifo, stderr: errPath)

    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    /// Reads what is in the pipe now; returns false at end of file.
    func readAvailable() -> Bool {
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { output += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0     // EAGAIN: open but empty; 0: no writer
        }
    }

    let deadline = Date().addingTimeInterval(timeout)
    var killed = false
    while true {
        _ = readAvailable()
        if stop(String(decoding: output, as: UTF8.self)) {
            child.kill()
            killed = true
            break
        }
        if !child.isRunning { break }
        if Date() > deadline {
            child.kill()
            throw HarnessError("nabla-run \(arguments) neither finished nor met its stop condition in \(timeout) s; output so far: \(String(decoding: output.suffix(300), as: UTF8.self))")
        }
        usleep(500)
    }
    // The writer is gone: what is left in the pipe ends with end of file.
    let drainDeadline = Date().addingTimeInterval(5)
    while readAvailable() && Date() < drainDeadline { usleep(500) }
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return InterruptedRun(stdout: String(decoding: output, as: UTF8.self), stderr: stderr,
                          status: child.status ?? -1, killed: killed)
}

/// The complete lines of `text` (a final line without its newline is left out).
func completeLines(_ text: String) -> [Substring] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    lines.removeLast()   // after the last newline: empty, or a partial line
    return lines
}
