// The installed SDK, used as a user would: `make install PREFIX=<tmp>` (its
// copying step), then nabla-cc, nabla-swiftc, SwiftPM with the toolset and
// nabla-test from a temporary folder outside the repository, the installed
// tree moved elsewhere, the source tree hidden, and `make uninstall`.

import Foundation
import Testing

/// An SDK installed into a fresh temporary prefix for one test.
struct InstalledSDK {
    let prefix: String
    var bin: String { prefix + "/bin" }

    /// Runs `make install-files PREFIX=prefix` in the repository: the copying
    /// half of `make install` (the other half, building, cannot run inside
    /// `swift test`, which holds the build directory).
    static func install(into prefix: String) throws -> InstalledSDK {
        let outcome = try run("/usr/bin/make", ["-s", "-C", Paths.packageRoot.path, "install-files", "PREFIX=\(prefix)"], timeout: 120)
        guard outcome.status == 0 else { throw HarnessError("make install-files failed (run 'make' first): \(outcome)") }
        return InstalledSDK(prefix: prefix)
    }

    /// Runs an installed tool with `arguments` in `directory`.
    func tool(_ name: String, _ arguments: [String], in directory: String, timeout: Double = 120) throws -> Outcome {
        try run("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory, bin + "/" + name] + arguments, timeout: timeout)
    }
}

/// Debian 12's zlib source package, for the minigzip test.
private let zlibVersion = "1:1.2.13.dfsg-1"

/// Every file under `directory`, relative to it, sorted.
private func files(under directory: String) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: directory)
    var found: [String] = []
    while let path = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
            found.append(path)
        }
    }
    return found.sorted()
}

private let cProgram = """
    #include <stdio.h>
    #include <string.h>
    int twice(int x);
    int main(int argc, char **argv)
    {
        printf("c guest: %d arguments, twice(21) = %d, %s\\n", argc - 1, twice(21), argc > 1 ? argv[argc - 1] : "-");
        return strlen("four") == 4 ? 0 : 1;
    }
    """
private let cHelper = "int twice(int x) { return 2 * x; }\n"

private let cTests = """
    #include <nabla_test.h>
    #include <ctype.h>
    static int by_value(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
    NABLA_TEST(adds) { CHECK_EQ(1 + 2, 3); }
    NABLA_TEST(fails) { CHECK_EQ(6 * 7, 41); }
    NABLA_TEST(libc) {
        char text[32];
        snprintf(text, sizeof text, "%.2f|%5s|%c", 2.5, "ab", toupper('q'));
        CHECK_STREQ(text, "2.50|   ab|Q");
        int v[] = {3, 1, 2};
        qsort(v, 3, sizeof v[0], by_value);
        CHECK(v[0] == 1 && v[2] == 3);
        errno = 0;
        CHECK(fopen("x", "r") == NULL && errno == ENOENT);  /* files: the root is empty without a disk named root */
    }
    """

/// A UDP echo of one datagram, on the socket API.
private let cSocketProgram = """
#include <nabla_net.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (nabla_net_arg(argv[i]) != 1)
            return 2;
    if (nabla_net_start() != 0)
        return 3;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(7), .sin_addr = { htonl(INADDR_ANY) } };
    if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) != 0)
        return 4;
    printf("echo: ready\\n");
    fflush(stdout);
    char buf[512];
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
    if (n < 0 || sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&peer, len) != n)
        return 5;
    return close(s);
}
"""

private let swiftProgram = """
    import NablaGuest

    final class Box<T> { let value: T; init(_ value: T) { self.value = value } }

    @main
    struct App {
        static func main() {
            let words = CommandLine.arguments.dropFirst().map { Box($0.uppercased()) }.map { $0.value }
            var counts: [String: Int] = [:]
            for word in words { counts[word, default: 0] += 1 }
            print("swift guest: \\(words.joined(separator: " ")) \\(counts["ÉTÉ"] ?? 0)")
        }
    }
    """

private let swiftTests = """
    import NablaGuest
    test("passes") { expect([1, 2, 3].reduce(0, +) == 6) }
    test("fails") { expect("a" + "b" == "abc", "concatenation") }
    Guest.exit(testsFinished())
    """

@Suite("The installed SDK", .serialized)
struct SDKTests {
    @Test("guests.md's install table names every file make install puts in each folder, and only those; no test-only header is installed")
    func installTable() throws {
        let page = try String(contentsOfFile: Paths.packageRoot.path + "/docs/guests.md", encoding: .utf8)
        // Rows "| `FOLDER/` | ... `name` ... |" of the table under "path under `DIR`".
        var rows: [String: Set<String>] = [:]
        var wholeFolders: Set<String> = []  // rows that name no file, or end their list with "..."
        for line in page.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasSuffix("/`") else { continue }
            let folder = String(cells[0].dropFirst().dropLast(2))
            rows[folder] = Set(cells[1].matches(of: /`([^`]+)`/).map { String($0.1) })
            if cells[1].contains("...") || !rows[folder]!.contains(where: { $0.contains(".") }) { wholeFolders.insert(folder) }
        }
        #expect(rows.keys.contains("bin") && rows.keys.contains("lib/nabla/swift"), "no install table found: \(rows.keys)")
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let installed = files(under: sdk.prefix)
            for file in installed {
                let folder = (file as NSString).deletingLastPathComponent, name = (file as NSString).lastPathComponent
                if let names = rows[folder] {
                    #expect(wholeFolders.contains(folder) || names.contains(name), "\(file) is installed but not in guests.md's row for \(folder)/")
                } else {
                    #expect(rows.keys.contains { folder.hasPrefix($0 + "/") }, "\(file) is in no folder of guests.md's install table")
                }
            }
            for (folder, names) in rows {
                let inFolder = Set(installed.filter { ($0 as NSString).deletingLastPathComponent == folder }.map { ($0 as NSString).lastPathComponent })
                if wholeFolders.contains(folder) { continue }
                for name in names where name.wholeMatch(of: /[A-Za-z0-9_+]+[A-Za-z0-9_.+-]*/) != nil && (name.contains(".") || folder == "bin") {
                    #expect(inFolder.contains(name), "guests.md lists \(folder)/\(name), which make install does not put there")
                }
            }
            #expect(!installed.contains("include/nabla/nabla_attack.h") && !installed.contains("include/nabla/nabla_check.h"))
        }
    }

    @Test("make install puts the documented files under PREFIX, none naming the source tree")
    func layout() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let installed = files(under: sdk.prefix)
            for expected in ["bin/nabla-run", "bin/nabla-test", "bin/nabla-cc", "bin/nabla-swiftc",
                             "include/nabla/nabla.h", "include/nabla/nabla_abi.h", "include/nabla/nabla_test.h",
                             "include/nabla/libc/stdio.h", "include/nabla/libc/errno.h", "include/nabla/module.modulemap",
                             "include/nabla/sys/random.h", "include/nabla/sys/utsname.h",
                             "lib/nabla/libnabla.a", "lib/nabla/start.o", "lib/nabla/nabla.ld",
                             "lib/nabla/libc.a", "lib/nabla/libm.a", "lib/nabla/libnablanet.a",
                             "include/nabla/net/sys/socket.h", "include/nabla/net/nabla_net.h", "include/nabla/net/lwip/tcp.h",
                             "lib/nabla/libNablaGuest.a", "lib/nabla/libNablaNetwork.a", "lib/nabla/libswiftUnicodeDataTables.a",
                             "lib/nabla/swift/NablaNetwork.swiftmodule", "include/nabla/net/module.modulemap",
                             "lib/nabla/swift/NablaGuest.swiftmodule", "share/nabla/toolset.json"] {
                #expect(installed.contains(expected), "\(expected) missing from \(installed)")
            }
            let root = Array(Paths.packageRoot.path.utf8)
            for file in installed {
                let bytes = try fileBytes(sdk.prefix + "/" + file)
                let names = bytes.count >= root.count && (0...(bytes.count - root.count)).contains { bytes[$0..<($0 + root.count)].elementsEqual(root) }
                #expect(!names, "\(file) names the source tree \(Paths.packageRoot.path)")
            }
        }
    }

    @Test("nabla-cc builds a guest on the socket API (lwIP) from a folder outside the repository; it echoes UDP over a TAP",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func nablaCCNetwork() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let work = dir + "/work"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try cSocketProgram.write(toFile: work + "/echo.c", atomically: true, encoding: .utf8)
            let build = try sdk.tool("nabla-cc", ["-Wall", "-Werror", "-o", "echo.nabla", "echo.c"], in: work)
            #expect(build.status == 0, "\(build)")
            let tap = try Tap(subnet: 61)
            let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, work + "/echo.nabla",
                                          "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace, tender: sdk.bin + "/nabla-run")
            try guest.waitFor("echo: ready")
            let socket = try UDPSocket(bindTo: tap.hostAddress, in: tap.namespace)
            let payload = Array("through the installed network stack".utf8)
            #expect(try socket.exchange(payload, with: tap.guestAddress, port: 7) == payload)
            #expect(try guest.finish() == 0, "\(guest.stdout)\(guest.stderr)")
        }
    }

    @Test("nabla-swiftc builds a Swift guest on NablaNetwork (echo-swift's source) outside the repository; it echoes TCP over a TAP",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func nablaSwiftcNetwork() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let work = dir + "/work"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Paths.packageRoot.path + "/guests/echo-swift/echo.swift", toPath: work + "/echo.swift")
            let build = try sdk.tool("nabla-swiftc", ["-parse-as-library", "-o", "echo.nabla", "echo.swift"], in: work)
            #expect(build.status == 0, "\(build)")
            let tap = try Tap(subnet: 63)
            let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, work + "/echo.nabla",
                                          "--ipv4=\(tap.guestAddress)/24"], in: tap.namespace, tender: sdk.bin + "/nabla-run")
            try guest.waitFor("echo-swift: ready")
            let nc = try NetHost.tool("nc", package: "netcat-openbsd")
            let outcome = try tap.namespace.run("/bin/sh", ["-c", "printf 'from an installed SDK' | \"$0\" -N -w 5 \"$1\" 7", nc, tap.guestAddress])
            #expect(outcome.stdout == "from an installed SDK", "\(outcome)")
            #expect(try guest.finish() == 0, "\(guest.stdout)\(guest.stderr)")
        }
    }

    @Test("nabla-cc builds a guest from a folder outside the repository: in one go, with -c, and with --print-cflags/--print-ldflags")
    func nablaCC() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let work = dir + "/work"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try cProgram.write(toFile: work + "/app.c", atomically: true, encoding: .utf8)
            try cHelper.write(toFile: work + "/twice.c", atomically: true, encoding: .utf8)

            let build = try sdk.tool("nabla-cc", ["-Wall", "-o", "app.nabla", "app.c", "twice.c"], in: work)
            #expect(build.status == 0, "\(build)")
            let runOne = try sdk.tool("nabla-run", ["app.nabla", "x", "last"], in: work)
            #expect(runOne.status == 0, "\(runOne)")
            #expect(runOne.stdout.hasPrefix("c guest: "), "\(runOne)")
            #expect(runOne.stdout.contains("twice(21) = 42, last\n"), "\(runOne)")

            // Separate compilation, then linking objects.
            #expect(try sdk.tool("nabla-cc", ["-c", "twice.c"], in: work).status == 0)
            #expect(try sdk.tool("nabla-cc", ["-O1", "-c", "app.c", "-o", "main.o"], in: work).status == 0)
            #expect(try sdk.tool("nabla-cc", ["-o", "linked.nabla", "main.o", "twice.o"], in: work).status == 0)
            #expect(try sdk.tool("nabla-run", ["linked.nabla"], in: work).stdout.contains("twice(21) = 42"))

            // As a Makefile would: the printed flags with the compiler and linker nabla-cc names.
            let script = """
                set -e
                cc=$("$0/nabla-cc" --print-cc); ld=$("$0/nabla-cc" --print-ld)
                $cc $("$0/nabla-cc" --print-cflags) -O2 -c app.c -o m1.o
                $cc $("$0/nabla-cc" --print-cflags) -O2 -c twice.c -o m2.o
                $ld m1.o m2.o $("$0/nabla-cc" --print-ldflags) -o flags.nabla
                """
            let flags = try run("/bin/sh", ["-c", "cd '\(work)' && sh -c '\(script)' '\(sdk.bin)'"])
            #expect(flags.status == 0, "\(flags)")
            #expect(try sdk.tool("nabla-run", ["flags.nabla"], in: work).stdout.contains("twice(21) = 42"))

            // The system's gcc instead of the toolchain's clang.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc") {
                let gcc = try run("/bin/sh", ["-c", "cd \"$0\" && NABLA_CC=/usr/bin/gcc \"$1\" -Wall -o gcc.nabla app.c twice.c",
                                              work, sdk.bin + "/nabla-cc"])
                #expect(gcc.status == 0, "\(gcc)")
                #expect(try sdk.tool("nabla-run", ["gcc.nabla"], in: work).stdout.contains("twice(21) = 42"))
            }

            // Mistakes: one line, a documented status.
            let missing = try sdk.tool("nabla-cc", ["-o", "x.nabla", "nothere.c"], in: work)
            #expect(missing.status == 66 && missing.stderr == "nabla-cc: no such file: nothere.c\n", "\(missing)")
            let pic = try sdk.tool("nabla-cc", ["-fPIC", "-o", "x.nabla", "app.c"], in: work)
            #expect(pic.status == 64 && pic.stderr.hasPrefix("nabla-cc: -fPIC: "), "\(pic)")
        }
    }

    @Test("zlib's minigzip, from Debian's zlib source and built with the installed nabla-cc, compresses stdin to stdout and back: gzip agrees both ways")
    func minigzip() throws {
        // Fetched once into .build (as lwIP and newlib are), never committed.
        let source = Paths.packageRoot.appendingPathComponent(".build/zlib-1.2.13.dfsg-1").path
        if !FileManager.default.fileExists(atPath: source + "/src/.nabla-version") {
            let fetch = try run(Paths.packageRoot.appendingPathComponent("tools/fetch-debian-source.sh").path,
                                ["zlib", zlibVersion, source, "test/minigzip.c"], timeout: 300)
            try #require(fetch.status == 0, "\(fetch)")
        }
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let files = ["test/minigzip.c", "adler32.c", "compress.c", "crc32.c", "deflate.c", "gzclose.c", "gzlib.c", "gzread.c",
                         "gzwrite.c", "infback.c", "inffast.c", "inflate.c", "inftrees.c", "trees.c", "uncompr.c", "zutil.c"]
            // -DHAVE_UNISTD_H is what zlib's ./configure writes into zconf.h.
            let build = try sdk.tool("nabla-cc", ["-O2", "-DHAVE_UNISTD_H", "-I", ".", "-o", dir + "/minigzip.nabla"] + files,
                                     in: source + "/src", timeout: 300)
            try #require(build.status == 0, "\(build)")
            // 2 MiB: text (compressible) and random bytes, through pipes both ways.
            let input = dir + "/input"
            var data = Data(String(repeating: "nabla runs unikernels as processes\n", count: 30_000).utf8)
            var generator = SystemRandomNumberGenerator()
            data += Data((0..<(2 << 20) - data.count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try data.write(to: URL(fileURLWithPath: input))
            let script = """
                set -e
                cat "$2" | "$0" "$1" | gunzip > "$2.1"
                cmp "$2" "$2.1"
                gzip -c "$2" | "$0" "$1" -d | cat > "$2.2"
                cmp "$2" "$2.2"
                echo round trips
                """
            let outcome = try run("/bin/sh", ["-c", script, sdk.bin + "/nabla-run", dir + "/minigzip.nabla", input], timeout: 120)
            #expect(outcome.status == 0 && outcome.stdout == "round trips\n", "\(outcome)")
            #expect(outcome.stderr.isEmpty, "\(outcome)")
        }
    }

    @Test("nabla-swiftc builds Swift guests with NablaGuest, top-level code or @main, outside the repository")
    func nablaSwiftc() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let work = dir + "/work"
            try FileManager.default.createDirectory(atPath: work + "/top", withIntermediateDirectories: true)
            try swiftProgram.write(toFile: work + "/app.swift", atomically: true, encoding: .utf8)
            let build = try sdk.tool("nabla-swiftc", ["-o", "app.nabla", "app.swift"], in: work)
            #expect(build.status == 0, "\(build)")
            let outcome = try sdk.tool("nabla-run", ["app.nabla", "été", "été", "x"], in: work)
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == "swift guest: ÉTÉ ÉTÉ X 2\n", "\(outcome)")

            // Top-level code in main.swift, and the Swift test API through nabla-test.
            try swiftTests.write(toFile: work + "/top/main.swift", atomically: true, encoding: .utf8)
            #expect(try sdk.tool("nabla-swiftc", ["-o", "../tests.nabla", "main.swift"], in: work + "/top").status == 0)
            let tests = try sdk.tool("nabla-test", ["--junit", "report.xml", "tests.nabla"], in: work)
            #expect(tests.status == 1, "\(tests)")
            #expect(tests.stdout.contains("| # main.swift:3: concatenation"), "\(tests)")
            #expect(tests.stdout.hasSuffix("0 passed, 1 failed\n"), "\(tests)")
            let report = try String(contentsOfFile: work + "/report.xml", encoding: .utf8)
            #expect(report.contains("name=\"passes\"") && report.contains("name=\"fails\""), "\(report)")
        }
    }

    @Test("the C test API from the installed headers, run by the installed nabla-test")
    func cTestAPI() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            try cTests.write(toFile: dir + "/t.c", atomically: true, encoding: .utf8)
            #expect(try sdk.tool("nabla-cc", ["-o", "t.nabla", "t.c"], in: dir).status == 0)
            let outcome = try sdk.tool("nabla-test", ["-j", "2", "t.nabla", "t.nabla"], in: dir)
            #expect(outcome.status == 1, "\(outcome)")
            #expect(outcome.stdout.contains("| # t.c:5: CHECK_EQ(6 * 7, 41) failed: 42 != 41"), "\(outcome)")
            #expect(outcome.stdout.contains("| ok 3 - libc"), "\(outcome)")
            #expect(outcome.stdout.hasSuffix("0 passed, 2 failed\n"), "\(outcome)")
        }
    }

    @Test("the example Swift package builds with swift build and the installed toolset")
    func swiftPackage() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            let package = dir + "/greeter"
            // cp without keeping owners: the checkout may belong to another user.
            let copied = try run("/bin/cp", ["-R", Paths.packageRoot.path + "/guests/examples/swift-package", package])
            #expect(copied.status == 0, "\(copied)")
            let swift = ProcessInfo.processInfo.environment["SWIFT_EXEC_BUILD"] ?? "/opt/swift/usr/bin/swift"
            let build = try run("/bin/sh", ["-c", "cd \"$0\" && exec \"$1\" build -c release --triple x86_64-unknown-none-elf --toolset \"$2\"",
                                            package, swift, sdk.prefix + "/share/nabla/toolset.json"], timeout: 300)
            #expect(build.status == 0, "\(build)")
            let outcome = try sdk.tool("nabla-run", [package + "/.build/release/Greeter", "Ada", "grace"], in: dir)
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.hasPrefix("Hello, ADA!\nHello, GRACE!\n2 greetings in "), "\(outcome)")
        }
    }

    @Test("a moved prefix works with the source tree out of sight",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
                   "hides the source tree under a tmpfs in a private mount namespace: needs root and unshare"))
    func movedAway() throws {
        try withTemporaryDirectory { dir in
            let sdk = try InstalledSDK.install(into: dir + "/prefix")
            try FileManager.default.moveItem(atPath: sdk.prefix, toPath: dir + "/moved")
            try cProgram.write(toFile: dir + "/app.c", atomically: true, encoding: .utf8)
            try cHelper.write(toFile: dir + "/twice.c", atomically: true, encoding: .utf8)
            try swiftProgram.write(toFile: dir + "/app.swift", atomically: true, encoding: .utf8)
            try cTests.write(toFile: dir + "/t.c", atomically: true, encoding: .utf8)
            // The repository (and its .build) is replaced by an empty tmpfs
            // for these commands only.
            let script = """
                set -e
                mount -t tmpfs none "$1"
                cd "$0"
                [ ! -e "$1/Package.swift" ]
                moved/bin/nabla-cc -o app.nabla app.c twice.c
                moved/bin/nabla-run app.nabla
                moved/bin/nabla-swiftc -o swift.nabla app.swift
                moved/bin/nabla-run swift.nabla ok
                moved/bin/nabla-cc -o t.nabla t.c
                moved/bin/nabla-test t.nabla || true
                """
            let outcome = try run("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, dir, Paths.packageRoot.path],
                                  timeout: 300)
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("twice(21) = 42"), "\(outcome)")
            #expect(outcome.stdout.contains("swift guest: OK 0\n"), "\(outcome)")
            #expect(outcome.stdout.contains("CHECK_EQ(6 * 7, 41) failed: 42 != 41"), "\(outcome)")
        }
    }

    @Test("make uninstall removes exactly what make install put there")
    func uninstall() throws {
        try withTemporaryDirectory { dir in
            let prefix = dir + "/prefix"
            try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: prefix + "/lib/nabla", withIntermediateDirectories: true)
            try "mine".write(toFile: prefix + "/bin/other-tool", atomically: true, encoding: .utf8)
            try "mine".write(toFile: prefix + "/lib/nabla/notes.txt", atomically: true, encoding: .utf8)
            _ = try InstalledSDK.install(into: prefix)
            let outcome = try run("/usr/bin/make", ["-s", "-C", Paths.packageRoot.path, "uninstall", "PREFIX=\(prefix)"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(files(under: prefix) == ["bin/other-tool", "lib/nabla/notes.txt"])
            #expect(!FileManager.default.fileExists(atPath: prefix + "/include/nabla"))
            #expect(!FileManager.default.fileExists(atPath: prefix + "/share/nabla"))
        }
    }
}
