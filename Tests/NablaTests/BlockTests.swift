// The block device guests, end to end: blk (patterns and persistence),
// blkbad (every refused argument, and the disk left alone), kvlog (a
// checksummed log that survives runs, corruption and SIGKILL) and blkbench.

import Foundation
import Testing

/// The word blk writes at byte `offset` (a multiple of 8) for `seed`; see
/// guests/blk/blk.c.
private func blkPattern(seed: UInt64, offset: UInt64) -> UInt64 {
    var x = seed &* 0x9e37_79b9_7f4a_7c15 &+ (offset >> 3) &+ 1
    x ^= x >> 30
    x = x &* 0xbf58_476d_1ce4_e5b9
    x ^= x >> 27
    x = x &* 0x94d0_49bb_1331_11eb
    x ^= x >> 31
    return x
}

@Suite("Block device guests")
struct BlockTests {
    // MARK: blk

    @Test("blk writes the whole disk, and a second run reads the same pattern back")
    func blkPersistence() throws {
        let blk = try Paths.guest("blk")
        try withTemporaryDirectory { dir in
            let size = 4 << 20
            let disk = try makeDisk(in: dir, size: size)
            let write = try nablaRun(["--disk", disk, blk, "write", "7"])
            #expect(write.status == 0, "\(write)")
            #expect(write.stdout.hasPrefix("blk: wrote \(size) bytes in "), "\(write)")
            #expect(write.stdout.contains("blk: verified \(size) bytes in "), "\(write)")

            let verify = try nablaRun(["--disk", disk, blk, "verify", "7"])
            #expect(verify.status == 0, "\(verify)")
            #expect(verify.stdout.hasPrefix("blk: verified \(size) bytes in "), "\(verify)")
            #expect(!verify.stdout.contains("wrote"), "verify must not write: \(verify)")

            // The pattern is where blk says it put it, on the host's file.
            let bytes = try fileBytes(disk)
            #expect(bytes.count == size)
            for offset in stride(from: 0, to: size, by: 4096 + 8) + [size - 8] {
                let word: UInt64 = readLittleEndian(bytes, at: offset)
                #expect(word == blkPattern(seed: 7, offset: UInt64(offset)), "word at offset \(offset)")
            }

            let other = try nablaRun(["--disk", disk, blk, "verify", "8"])
            #expect(other.status == 1, "\(other)")
            #expect(other.stdout.hasPrefix("blk: mismatch at offset "), "\(other)")

            // Read-only attachments read the same data.
            let readonly = try nablaRun(["--disk-readonly", disk, blk, "verify", "7"])
            #expect(readonly.status == 0, "\(readonly)")
        }
    }

    @Test("blk without a disk says so and returns 2")
    func blkNoDisk() throws {
        let outcome = try nablaRun([try Paths.guest("blk"), "write", "1"])
        #expect(outcome.status == 2, "\(outcome)")
        #expect(outcome.stdout == "blk: no disk\n")
    }

    // MARK: blkbad

    @Test("blkbad: every bad block request gets its code, and the disk is unchanged")
    func blkbadWritable() throws {
        let blkbad = try Paths.guest("blkbad")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 20, fill: .byte(0xA5))
            let before = try fileBytes(disk)
            let outcome = try nablaRun(["--disk", disk, blkbad])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome)")
            #expect(!outcome.stdout.contains("MISMATCH"), "\(outcome)")
            #expect(outcome.stderr.isEmpty, "\(outcome)")
            let after = try fileBytes(disk)
            #expect(after == before, "blkbad changed the disk: first difference at byte \(before.indices.first { $0 >= after.count || before[$0] != after[$0] }.map(String.init) ?? "(size)")")
        }
    }

    @Test("blkbad ro: a read-only disk refuses writes with EROFS and serves reads")
    func blkbadReadOnly() throws {
        let blkbad = try Paths.guest("blkbad")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 20, fill: .byte(0xA5))
            let before = try fileBytes(disk)
            let outcome = try nablaRun(["--disk-readonly", disk, blkbad, "ro"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("case ro-write-first-sector: got -5, expected -5: ok"), "\(outcome)")
            #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome)")
            #expect(try fileBytes(disk) == before, "blkbad ro changed the disk")
        }
    }

    // MARK: kvlog

    @Test("kvlog: put, get, list and count across separate runs")
    func kvlogRoundTrip() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 20)
            func kv(_ arguments: String...) throws -> Outcome { try nablaRun(["--disk", disk, kvlog] + arguments) }

            #expect(try kv("count").stdout == "records 0\n")
            #expect(try kv("put", "colour", "blue").stdout == "ok 1\n")
            #expect(try kv("put", "size", "large").stdout == "ok 2\n")
            #expect(try kv("put", "colour", "red").stdout == "ok 3\n")
            #expect(try kv("put", "note", "a value = with spaces").stdout == "ok 4\n")
            #expect(try kv("put", "empty", "").stdout == "ok 5\n")

            let get = try kv("get", "colour")
            #expect(get.status == 0, "\(get)")
            #expect(get.stdout == "red\n")
            #expect(try kv("get", "note").stdout == "a value = with spaces\n")
            #expect(try kv("get", "empty").stdout == "\n")
            let missing = try kv("get", "weight")
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stdout == "not found\n")

            let list = try kv("list")
            #expect(list.status == 0, "\(list)")
            #expect(list.stdout == "colour=red\nempty=\nnote=a value = with spaces\nsize=large\n")
            #expect(try kv("count").stdout == "records 5\n")

            // A value that spans sectors.
            let long = String(repeating: "0123456789", count: 100)
            #expect(try kv("put", "long", long).stdout == "ok 6\n")
            #expect(try kv("get", "long").stdout == long + "\n")
            #expect(try kv("put", "after-long", "x").stdout == "ok 7\n")
            #expect(try kv("count").stdout == "records 7\n")

            let tooLong = try kv("put", String(repeating: "k", count: 65), "v")
            #expect(tooLong.status == 64, "\(tooLong)")
            #expect(try kv("count").stdout == "records 7\n")
        }
    }

    @Test("kvlog writes the documented record format")
    func kvlogFormat() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 64 * 1024)
            #expect(try nablaRun(["--disk", disk, kvlog, "put", "colour", "blue"]).stdout == "ok 1\n")
            #expect(try nablaRun(["--disk", disk, kvlog, "put", "size", "large"]).stdout == "ok 2\n")
            let bytes = try fileBytes(disk)
            var previousCRC: UInt32 = 0
            for (index, (key, value)) in [("colour", "blue"), ("size", "large")].enumerated() {
                let record = Array(bytes[index * 512..<(index + 1) * 512])
                #expect(Array(record[0..<4]) == Array("KVL1".utf8))
                #expect(readLittleEndian(record, at: 8, as: UInt64.self) == UInt64(index + 1))
                #expect(readLittleEndian(record, at: 16, as: UInt16.self) == UInt16(key.utf8.count))
                #expect(readLittleEndian(record, at: 18, as: UInt16.self) == UInt16(value.utf8.count))
                #expect(readLittleEndian(record, at: 20, as: UInt32.self) == previousCRC)
                #expect(Array(record[24..<(24 + key.utf8.count + value.utf8.count)]) == Array((key + value).utf8))
                #expect(record[(24 + key.utf8.count + value.utf8.count)...].allSatisfy { $0 == 0 })
                let crc: UInt32 = readLittleEndian(record, at: 4)
                #expect(crc == kvlogCRC32(record[8...]), "record \(index + 1)")
                previousCRC = crc
            }
            #expect(bytes[1024...].allSatisfy { $0 == 0 })
        }
    }

    @Test("kvlog stops at a corrupt record, zeroes it, and appends from there")
    func kvlogRepair() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 64 * 1024)
            func kv(_ arguments: String...) throws -> Outcome { try nablaRun(["--disk", disk, kvlog] + arguments) }
            #expect(try kv("fill", "5", "k").status == 0)
            // Flip a byte in the value of record 4 (sector 3).
            try patchFile(disk, at: 3 * 512 + 40, with: [0xFF])

            let count = try kv("count")
            #expect(count.status == 0, "\(count)")
            #expect(count.stdout == "kvlog: repaired tail at sector 3\nrecords 3\n", "\(count)")
            #expect(try fileBytes(disk)[(3 * 512)..<(4 * 512)].allSatisfy { $0 == 0 }, "the bad sector must be zeroed")
            // Record 5 behind the tail is stale now: it must never come back.
            #expect(try kv("get", "k-4").stdout == "not found\n")
            #expect(try kv("put", "new", "value").stdout == "ok 4\n")
            // Record 5's sector now follows a record 4 it was not written
            // after; its sequence number fits but its link to the previous
            // record does not, so it is the (repaired) tail.
            let after = try kv("count")
            #expect(after.stdout == "kvlog: repaired tail at sector 4\nrecords 4\n", "\(after)")
            #expect(try kv("count").stdout == "records 4\n", "a clean tail needs no repair")
            #expect(try kv("list").stdout == "k-0=value-0\nk-1=value-1\nk-2=value-2\nnew=value\n")
        }
    }

    @Test("kvlog on a full disk says so and returns 3")
    func kvlogDiskFull() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4 * 512)
            let fill = try nablaRun(["--disk", disk, kvlog, "fill", "10"])
            #expect(fill.status == 3, "\(fill)")
            #expect(fill.stdout == "written 1\nwritten 2\nwritten 3\nwritten 4\nkvlog: disk full\n")
            #expect(try nablaRun(["--disk", disk, kvlog, "count"]).stdout == "records 4\n")
            #expect(try nablaRun(["--disk", disk, kvlog, "get", "key-3"]).stdout == "value-3\n")
            #expect(try nablaRun(["--disk", disk, kvlog, "put", "a", "b"]).status == 3)
        }
    }

    @Test("kvlog without a disk returns 2")
    func kvlogNoDisk() throws {
        let outcome = try nablaRun([try Paths.guest("kvlog"), "count"])
        #expect(outcome.status == 2, "\(outcome)")
        #expect(outcome.stdout == "kvlog: no disk\n")
    }

    @Test("kvlog: every record reported written survives a SIGKILL of nabla-run, and the log stays usable")
    func kvlogCrash() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            // 64 MiB: room for all 100000 records, so only the kill stops the fill.
            let disk = try makeDisk(in: dir, size: 64 << 20)
            let run = try nablaRunUntil(["--disk", disk, kvlog, "fill", "100000", "crash"], in: dir, timeout: 30) { output in
                completeLines(output).count >= 200
            }
            #expect(run.killed && run.status == 128 + SIGKILL,
                    "the fill should have been killed midway: status \(run.status), stderr \(run.stderr)")

            // Every complete line, including those still in the pipe at the kill.
            let lines = completeLines(run.stdout)
            #expect(lines.count >= 200, "\(run.stdout.suffix(300))")
            for (index, line) in lines.enumerated() {
                guard line == "written \(index + 1)" else {
                    Issue.record("line \(index + 1) is '\(line)', expected 'written \(index + 1)'")
                    return
                }
            }
            let last = lines.count

            // The records are durable: all that were reported, perhaps one more
            // (written, then killed before its line).
            let count = try nablaRun(["--disk", disk, kvlog, "count"])
            #expect(count.status == 0, "\(count)")
            let records = Int(count.stdout.split(separator: "\n").last?.dropFirst("records ".count) ?? "") ?? -1
            #expect(records == last || records == last + 1, "count after the crash: \(count.stdout), last reported \(last)")
            #expect(!count.stdout.contains("repaired"), "a killed writer leaves no torn record: \(count.stdout)")

            // Sequence number s is key crash-(s-1) = value-(s-1).
            for seq in Set([1, 2, last / 2, last - 1, last]) {
                let get = try nablaRun(["--disk", disk, kvlog, "get", "crash-\(seq - 1)"])
                #expect(get.status == 0 && get.stdout == "value-\(seq - 1)\n", "record \(seq): \(get)")
            }
            // And every reported one, in one pass.
            let list = try nablaRun(["--disk", disk, kvlog, "list"])
            #expect(list.status == 0, "\(list.stderr)")
            let listed = Set(list.stdout.split(separator: "\n"))
            let absent = (1...last).filter { !listed.contains("crash-\($0 - 1)=value-\($0 - 1)") }
            #expect(absent.isEmpty, "reported written but missing after the crash: \(absent.prefix(10))")

            // The log is usable after the crash.
            let put = try nablaRun(["--disk", disk, kvlog, "put", "after-crash", "still here"])
            #expect(put.status == 0 && put.stdout == "ok \(records + 1)\n", "\(put)")
            let get = try nablaRun(["--disk", disk, kvlog, "get", "after-crash"])
            #expect(get.stdout == "still here\n", "\(get)")
            #expect(try nablaRun(["--disk", disk, kvlog, "count"]).stdout == "records \(records + 1)\n")
        }
    }

    // MARK: blkbench

    @Test("blkbench reads and writes the whole disk and reports the time", arguments: ["read", "write"])
    func blkbench(_ mode: String) throws {
        let blkbench = try Paths.guest("blkbench")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 20)
            let outcome = try nablaRun(["--disk", disk, blkbench, mode, "4096"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.hasPrefix("blkbench: \(mode) 4096: 1048576 bytes in "), "\(outcome)")
            #expect(outcome.stdout.hasSuffix(" ns\n"), "\(outcome)")
        }
    }
}
