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

    @Test("nabla-test gives each guest the same root: --disk-readonly root=ARCHIVE")
    func rootThroughNablaTest() throws {
        try withTemporaryDirectory { directory in
            let archive = try makeFilesTestRoot(in: directory)
            // Only the tests of the root: they skip without it.
            let outcome = try nablaTest(["--tap", "--disk-readonly", "root=\(archive)", try Paths.guest("files-test"), "--", "root_read", "big_file"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("ok 1 - files-test"), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("SKIP"), "\(outcome.stdout)")
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

@Suite("Files: real programs")
struct FilesProgramTests {
    /// A Lua program that reads files with io.open and io.lines, writes one
    /// to /tmp and loads a module with dofile.
    static let script = """
        local f = assert(io.open("data/words.txt"))
        local counts, total = {}, 0
        for line in f:lines() do
          for w in line:gmatch("%a+") do
            w = w:lower()
            counts[w] = (counts[w] or 0) + 1
            total = total + 1
          end
        end
        f:close()
        local keys = {}
        for k in pairs(counts) do keys[#keys + 1] = k end
        table.sort(keys, function(a, b)
          if counts[a] ~= counts[b] then return counts[a] > counts[b] end
          return a < b
        end)
        for i = 1, math.min(5, #keys) do print(keys[i], counts[keys[i]]) end
        print("total", total)
        local out = assert(io.open(arg[1], "w"))
        out:write(string.format("%d words, %d distinct\\n", total, #keys))
        out:close()
        for l in io.lines(arg[1]) do print("read back:", l) end
        print(io.open("data/missing.txt"))
        print(os.remove(arg[1]))
        print(os.remove(arg[1]))
        print(dofile("lib/helper.lua").greet("nabla"))
        local d = assert(io.open("data/words.txt", "rb"))
        print("size", d:seek("end"))
        d:close()
        """

    @Test("Lua from Debian's source runs a script from the root file system that reads files, with native Lua's output")
    func lua() throws {
        let native = "/usr/bin/lua5.4"
        guard FileManager.default.isExecutableFile(atPath: native) else {
            Issue.record("no \(native): install lua5.4 (tools/install-deps)")
            return
        }
        try withTemporaryDirectory { directory in
            let root = directory + "/root"
            try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/lib", withIntermediateDirectories: true)
            try Data(Self.script.utf8).write(to: URL(fileURLWithPath: root + "/main.lua"))
            try Data("return { greet = function(who) return \"hello, \" .. who end }\n".utf8)
                .write(to: URL(fileURLWithPath: root + "/lib/helper.lua"))
            let words = (1...300).map { "the quick brown fox jumps over the lazy dog \($0) times; The dog sleeps\n" }.joined()
            try Data(words.utf8).write(to: URL(fileURLWithPath: root + "/data/words.txt"))
            let archive = directory + "/root.tar"
            let made = try run("/usr/bin/tar", ["-cf", archive, "-C", root, "."])
            #expect(made.status == 0, "\(made)")
            // The same /tmp path in both: the guest's is in its own memory.
            let scratch = "/tmp/nabla-lua-\(UUID().uuidString).txt"
            let expected = try run("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" main.lua \"$3\"", "sh", root, native, scratch])
            #expect(expected.status == 0, "\(expected)")
            let outcome = try nablaRun(["--disk-readonly", "root=\(archive)", try Paths.guest("lua"), "main.lua", scratch])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == expected.stdout)
            #expect(outcome.stdout.contains("read back:\t3900 words, 10 distinct"), "\(outcome.stdout)")
        }
    }
}

@Suite("Files: nabla-runc")
struct FilesOCITests {
    @Test("nabla-runc: the container's own files are the guest's root; a symlink out of the rootfs stays a link inside it, a FIFO is left out",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func containerRoot() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["files-test", "lua"])
        _ = try makeFilesTestRoot(in: bundle.path + "/made")
        for entry in try FileManager.default.contentsOfDirectory(atPath: bundle.path + "/made/root") {
            try FileManager.default.moveItem(atPath: bundle.path + "/made/root/" + entry, toPath: bundle.rootfs + "/" + entry)
        }
        // What a hostile image might hold: a link to a host file and a FIFO
        // (opening it would block nabla-runc).
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/shadow", withDestinationPath: "/etc/shadow")
        #expect(mkfifo(bundle.rootfs + "/fifo", 0o600) == 0)
        let script = """
            print(io.open("/shadow"))
            print(io.open("/fifo"))
            print(io.open("/etc/greeting"):read("a"))
            """
        try Data(script.utf8).write(to: URL(fileURLWithPath: bundle.rootfs + "/check.lua"))
        try bundle.write(OCIBundle.config(args: ["/files-test.nabla"]))
        let tests = try root.runc(["run", "--bundle", bundle.path, "no-files-" + OCIHost.tag()])
        #expect(tests.status == 0, "\(tests)")
        #expect(!tests.stdout.contains("not ok") && !tests.stdout.contains("# SKIP"), "\(tests.stdout)")
        try bundle.write(OCIBundle.config(args: ["/lua.nabla", "/check.lua"]))
        let lua = try root.runc(["run", "--bundle", bundle.path, "no-files-" + OCIHost.tag()])
        #expect(lua.status == 0, "\(lua)")
        #expect(lua.stdout == "nil\t/shadow: No such file or directory\t2\nnil\t/fifo: No such file or directory\t2\nhello from the root\n\n", "\(lua.stdout)")
    }
}
