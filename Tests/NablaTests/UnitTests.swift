// Size parsing, guest layout, the command line area and the seccomp policy.

import CNablaTender
import NablaTestSupport
import Testing
@testable import Nabla

private let kib: UInt64 = 1 << 10, mib: UInt64 = 1 << 20, gib: UInt64 = 1 << 30
private let validSizes: [(String, UInt64)] = [
    ("4096", 4096), ("0", 0), ("512K", 512 * kib), ("512k", 512 * kib), ("64M", 64 * mib),
    ("64m", 64 * mib), ("64MiB", 64 * mib), ("64MB", 64 * mib), ("2G", 2 * gib), ("1T", 1024 * gib),
    ("100B", 100),
]

@Suite("Sizes")
struct ByteCountTests {
    @Test("parses", arguments: validSizes)
    func parses(_ text: String, _ bytes: UInt64) {
        #expect(ByteCount(parsing: text)?.bytes == bytes)
    }

    @Test("refuses", arguments: ["", "M", "-1", "1.5M", "12Q", "0x100", " 1M", "1M ", "iB", "64iB", "18446744073709551616",
                                 "17179869184G", "1MM", "+5"])
    func refuses(_ text: String) {
        #expect(ByteCount(parsing: text) == nil)
    }

    @Test("prints the largest exact unit")
    func prints() {
        #expect(ByteCount(bytes: 64 << 20).description == "64M")
        #expect(ByteCount(bytes: 1536 << 10).description == "1536K")
        #expect(ByteCount(bytes: 100).description == "100")
        #expect(ByteCount(bytes: 0).description == "0")
    }
}

@Suite("Guest layout")
struct GuestLayoutTests {
    let image = try! ELFImage(bytes: ELFBuilder().build())

    @Test("places heap, guard page and stack at the top of guest memory")
    func layout() throws {
        let layout = try GuestLayout(image: image, memorySize: 8 << 20)
        let start = UInt64(NABLA_MEM_BASE)
        #expect(layout.memory == GuestRange(start, start + (8 << 20)))
        #expect(layout.stack == GuestRange(layout.memory.end - UInt64(NABLA_STACK_SIZE), layout.memory.end))
        #expect(layout.guardPage.end == layout.stack.start)
        #expect(layout.guardPage.size == UInt64(NABLA_GUARD_SIZE))
        #expect(layout.heap == GuestRange(ELFBuilder.base + 0x1000, layout.guardPage.start))
    }

    @Test("rounds memory up to whole pages")
    func rounds() throws {
        let layout = try GuestLayout(image: image, memorySize: (8 << 20) + 1)
        #expect(layout.memory.size == (8 << 20) + 4096)
    }

    @Test("refuses too little memory and names the minimum")
    func tooSmall() {
        let needed = UInt64(0x100000 + 0x1000) + UInt64(NABLA_STACK_SIZE) + UInt64(NABLA_GUARD_SIZE)
        #expect(throws: TenderError.memoryTooSmall(given: 1 << 20, needed: needed)) {
            try GuestLayout(image: image, memorySize: 1 << 20)
        }
        #expect(throws: Never.self) { try GuestLayout(image: image, memorySize: needed) }
        #expect(throws: TenderError.memoryTooSmall(given: needed - 4096, needed: needed)) {
            try GuestLayout(image: image, memorySize: needed - 4096)
        }
    }

    @Test("refuses more than the limit")
    func tooLarge() {
        #expect(throws: TenderError.memoryTooLarge(given: GuestLayout.memoryLimit + 1, limit: GuestLayout.memoryLimit)) {
            try GuestLayout(image: image, memorySize: GuestLayout.memoryLimit + 1)
        }
    }
}

@Suite("Command line area")
struct CommandLineAreaTests {
    @Test("counts pointers, strings and terminators")
    func size() throws {
        let area = try CommandLineArea(["a", "bc"])
        #expect(area.size == 4 * 8 + 2 + 3)
        #expect(try CommandLineArea([]).size == 16)
        // Two argv entries, one envp entry, two NULLs; "a", "bc", "K=V".
        #expect(try CommandLineArea(["a", "bc"], environment: ["K=V"]).size == 5 * 8 + 2 + 3 + 4)
    }

    @Test("refuses arguments longer than the area")
    func tooLong() throws {
        let limit = Int(NABLA_CMDLINE_SIZE)
        let fits = String(repeating: "x", count: limit - 24 - 1)
        #expect(throws: Never.self) { try CommandLineArea([fits]) }
        #expect(throws: TenderError.commandLineTooLong(bytes: limit + 1, limit: limit)) { try CommandLineArea([fits + "x"]) }
    }
}

@Suite("Seccomp policy")
struct SeccompPolicyTests {
    let host = HostAddresses(diagnosticBuffer: 0xd01000, stdinBuffer: 0xd04000, pollfds: 0xd02000, pollfdCount: 0, pollTimeout: 0xd03000)

    @Test("a run without devices allows exactly these rules")
    func rules() {
        let policy = SeccompPolicy(for: host)
        #expect(policy.description.split(separator: "\n") == [
            "allow write (1) if fd == 1 [console]",
            "allow write (1) if fd == 2 [stderr] && buf == 0xd01000 [tender diagnostic buffer] && count <= 512 [its size]",
            "allow read (0) if fd == 0 [stdin] && buf == 0xd04000 [tender stdin buffer] && count <= 0x10000 [its size]",
            "allow ppoll (271) if fds == 0xd02000 [tender pollfd array] && nfds == 0 && tmo == 0xd03000 [tender timeout] && sigmask == 0 [no signal mask]",
            "allow clock_gettime (228) if clockid <= 2 [CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID]",
            "allow exit_group (231)",
            "default: trap: SIGSYS, reported on stderr, exit status 159",
        ])
    }

    @Test("uses only the seven guest-phase system calls")
    func sevenSyscalls() {
        let used = Set(SeccompPolicy(for: host).rules.map(\.syscall))
        #expect(used.isSubset(of: Set(Syscall.guestSet)))
        #expect(Syscall.guestSet.count == 7)
    }

    @Test("pins the addresses of the tender's own buffers")
    func currentAddresses() {
        let current = HostAddresses.current(pollfdCount: 2)
        let scratch = nabla_scratch()
        #expect(current.diagnosticBuffer == UInt64(UInt(bitPattern: nabla_diag())))
        #expect(current.stdinBuffer == UInt64(UInt(bitPattern: nabla_stdin_buffer())))
        #expect(current.pollfds == withUnsafeMutablePointer(to: &scratch.pointee.pollfds) { UInt64(UInt(bitPattern: $0)) })
        #expect(current.pollTimeout == withUnsafeMutablePointer(to: &scratch.pointee.poll_timeout) { UInt64(UInt(bitPattern: $0)) })
        #expect(current.pollfdCount == 2)
    }

    @Test("compiles to a BPF program")
    func compiles() throws {
        let filter = try SeccompPolicy(for: host).compile()
        #expect(filter.program.count > 10)
        // The program starts by checking the architecture: ld [4] (seccomp_data.arch).
        #expect(filter.program.first?.code == 0x20 && filter.program.first?.k == 4)
    }
}
