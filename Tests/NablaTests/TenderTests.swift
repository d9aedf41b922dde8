// nabla-run end to end on synthetic images: exit statuses and the one-line
// errors for every kind of bad input.

import CNablaTender
import Foundation
import NablaTestSupport
import Testing
@testable import Nabla

/// Asserts that `outcome` is a failure with `status` and exactly one line
/// on stderr that starts with "nabla-run: " and contains `fragment`.
func expectOneLineError(_ outcome: Outcome, status: Int32, containing fragment: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(outcome.status == status, "\(outcome)", sourceLocation: sourceLocation)
    let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "not one line: \(outcome.stderr)", sourceLocation: sourceLocation)
    #expect(outcome.stderr.hasPrefix("nabla-run: "), "\(outcome.stderr)", sourceLocation: sourceLocation)
    #expect(outcome.stderr.contains(fragment), "\(outcome.stderr)", sourceLocation: sourceLocation)
    #expect(outcome.stdout.isEmpty, sourceLocation: sourceLocation)
}

@Suite("nabla-run on synthetic images")
struct TenderTests {
    @Test("exits with the status the guest entry returns", arguments: [UInt8(0), 7, 255])
    func guestStatus(_ status: UInt8) throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder(status: status).build(), in: dir)
            let outcome = try nablaRun([image])
            #expect(outcome.status == Int32(status), "\(outcome)")
            #expect(outcome.stderr.isEmpty)
        }
    }

    @Test("refuses each malformed image with one line and status 65")
    func malformed() throws {
        try withTemporaryDirectory { dir in
            var builder = ELFBuilder()
            builder.programHeaders[0].flags = 7
            let wx = try writeImage(builder.build(), in: dir, name: "wx.nabla")
            expectOneLineError(try nablaRun([wx]), status: ExitStatus.badImage,
                               containing: "\(wx): program header 0: segment is writable and executable")

            builder = ELFBuilder()
            builder.abiVersion = 9
            let old = try writeImage(builder.build(), in: dir, name: "abi.nabla")
            expectOneLineError(try nablaRun([old]), status: ExitStatus.badImage,
                               containing: "built for nabla ABI version 9; this nabla-run speaks version \(NABLA_ABI_VERSION)")
            builder.abiVersion = 2
            let previous = try writeImage(builder.build(), in: dir, name: "abi2.nabla")
            expectOneLineError(try nablaRun([previous]), status: ExitStatus.badImage,
                               containing: "built for nabla ABI version 2; this nabla-run speaks version 3 (rebuild it with this nabla's SDK: nabla-cc or make guests)")

            let text = try writeImage(Array("#!/bin/sh\necho hi\n".utf8), in: dir, name: "script")
            expectOneLineError(try nablaRun([text]), status: ExitStatus.badImage, containing: "not an ELF file")

            let empty = try writeImage([], in: dir, name: "empty")
            expectOneLineError(try nablaRun([empty]), status: ExitStatus.badImage, containing: "not an ELF file")

            expectOneLineError(try nablaRun(["/bin/sh"]), status: ExitStatus.badImage, containing: "ET_DYN")
        }
    }

    @Test("refuses what cannot be opened with status 66")
    func unopenable() throws {
        try withTemporaryDirectory { dir in
            expectOneLineError(try nablaRun([dir + "/missing.nabla"]), status: ExitStatus.noInput,
                               containing: "cannot open \(dir)/missing.nabla: No such file or directory")
            expectOneLineError(try nablaRun([dir]), status: ExitStatus.noInput, containing: "is not a regular file")
            expectOneLineError(try nablaRun(["/dev/null"]), status: ExitStatus.noInput, containing: "is not a regular file")
        }
    }

    @Test("checks --mem against the image and the limit")
    func memory() throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder(status: 3).build(), in: dir)
            // The image's one page above NABLA_IMAGE_BASE, then a guard page and the stack.
            let needed = (UInt64(NABLA_IMAGE_BASE) - UInt64(NABLA_MEM_BASE) + UInt64(NABLA_PAGE_SIZE)
                          + UInt64(NABLA_GUARD_SIZE) + UInt64(NABLA_STACK_SIZE)) / 1024
            expectOneLineError(try nablaRun(["--mem", "1M", image]), status: ExitStatus.badImage,
                               containing: "--mem 1M is too small for this image: it needs at least \(needed)K")
            expectOneLineError(try nablaRun(["--mem", "65G", image]), status: ExitStatus.usage,
                               containing: "--mem 65G is larger than the limit of 64G")
            expectOneLineError(try nablaRun(["--mem", "lots", image]), status: ExitStatus.usage,
                               containing: "'lots' is not a size: a bare number is MiB")
            // A user who reads "a size" as bytes learns that a bare number is MiB.
            expectOneLineError(try nablaRun(["--mem", "67108864", image]), status: ExitStatus.usage,
                               containing: "--mem 64T is larger than the limit of 64G (a number without a suffix is MiB)")
            #expect(try nablaRun(["--mem", "\(needed)K", image]).status == 3)
            #expect(try nablaRun(["--mem", "\(needed - 4)K", image]).status == ExitStatus.badImage)
            #expect(try nablaRun(["--mem=2G", image]).status == 3)
        }
    }

    @Test("refuses guest arguments longer than the command line area")
    func longArguments() throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder().build(), in: dir)
            let long = String(repeating: "a", count: Int(NABLA_CMDLINE_SIZE))
            expectOneLineError(try nablaRun([image, long]), status: ExitStatus.usage,
                               // argv[0] (the image path), the argument, three pointers, envp's NULL.
                               containing: "the guest arguments and environment take \(Int(NABLA_CMDLINE_SIZE) + image.utf8.count + 34) bytes; the command line area holds \(NABLA_CMDLINE_SIZE)")
        }
    }

    @Test("enforces the documented limits: image size, --timeout range")
    func limits() throws {
        try withTemporaryDirectory { dir in
            let big = dir + "/big.nabla"
            #expect(FileManager.default.createFile(atPath: big, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
            try handle.truncate(atOffset: Tender.imageSizeLimit + 1)
            try handle.close()
            expectOneLineError(try nablaRun([big]), status: ExitStatus.badImage,
                               containing: "is \(Tender.imageSizeLimit + 1) bytes; the largest image nabla-run loads is 256M")
            let image = try writeImage(ELFBuilder().build(), in: dir)
            for bad in ["0", "-1", "1e9", "forever", "31536001"] {
                expectOneLineError(try nablaRun(["--timeout=" + bad, image]), status: ExitStatus.usage, containing: "is not a timeout")
            }
            #expect(try nablaRun(["--timeout", "5", image]).status == 0)
        }
    }

    @Test("reports command-line mistakes in one line with status 64")
    func usage() throws {
        expectOneLineError(try nablaRun([]), status: ExitStatus.usage, containing: "Missing expected argument")
        expectOneLineError(try nablaRun(["--frobnicate", "x.nabla"]), status: ExitStatus.usage, containing: "Unknown option '--frobnicate'")
        let help = try nablaRun(["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: nabla-run"))
    }
}
