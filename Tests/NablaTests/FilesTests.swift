// FilesTests.swift: files for guests (docs/files.md): the file API of the
// library OS (files-test, with exact errno values), the root file system
// from a tar archive on the disk named `root`, and /tmp in memory.

import Foundation
import Testing

/// Makes the directory files-test expects (see guests/files-test) under
/// `directory`/root and its archive `directory`/root.tar (made with the
/// host's tar, as docs/files.md says a user does); returns the archive.
func makeFilesTestRoot(in directory: String) throws -> String {
    let root = directory + "/root"
    let files = FileManager.default
    try files.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
    try files.createDirectory(atPath: root + "/dir/sub", withIntermediateDirectories: true)
    try Data("hello from the root\n".utf8).write(to: URL(fileURLWithPath: root + "/etc/greeting"))
    try Data("a\n".utf8).write(to: URL(fileURLWithPath: root + "/dir/a"))
    try Data("b\n".utf8).write(to: URL(fileURLWithPath: root + "/dir/b"))
    try files.createSymbolicLink(atPath: root + "/link", withDestinationPath: "etc/greeting")
    try files.createSymbolicLink(atPath: root + "/dir/up", withDestinationPath: "../etc")
    try files.createSymbolicLink(atPath: root + "/loop", withDestinationPath: "loop")
    try Data((0..<(1 << 20) + 100).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: root + "/big"))
    let archive = directory + "/root.tar"
    let made = try run("/usr/bin/tar", ["-cf", archive, "-C", root, "."])
    guard made.status == 0 else { throw HarnessError("tar failed: \(made)") }
    return archive
}

@Suite("Files")
struct FilesTests {
    @Test("files-test: the file API on a tar root and /tmp, each call and each misuse with its errno")
    func fileAPI() throws {
        try withTemporaryDirectory { directory in
            let archive = try makeFilesTestRoot(in: directory)
            let outcome = try nablaRun(["--disk-readonly", "root=\(archive)", try Paths.guest("files-test")])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(!outcome.stdout.contains("not ok"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("# SKIP"), "\(outcome.stdout)")
        }
    }

    @Test("without a root disk, / is empty and read-only, and /tmp still works")
    func noRoot() throws {
        let outcome = try nablaRun([try Paths.guest("files-test")])
        #expect(outcome.status == 0, "\(outcome)")
        // The tests of the root skip; those of /tmp and descriptors pass.
        #expect(outcome.stdout.contains("ok 1 - root_read # SKIP no disk named root"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("ok 7 - tmp_files\n"), "\(outcome.stdout)")
    }

    @Test("a disk named root that is not a tar archive: one line on stderr, and the guest runs on")
    func damagedRoot() throws {
        try withTemporaryDirectory { directory in
            let disk = try makeDisk(in: directory, size: 4096, fill: .byte(0x41))
            let outcome = try nablaRun(["--disk-readonly", "root=\(disk)", try Paths.guest("files-test"), "tmp_files"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stderr.contains("nabla: disk root: not a tar header (bad checksum) at byte 0; the members from there on are not mounted"), "\(outcome.stderr)")
        }
    }
}
