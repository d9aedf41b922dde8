// FilterInterpretationTests.swift: the BPF program the tender compiles,
// run in an interpreter (Support/BPF.swift) over crafted system calls, so
// each pin is checked at its boundary without root and without loading the
// filter: allowed arguments pass, one step past the pin traps. A program
// that allowed everything would fail here, where "compiles to a BPF
// program" would not notice.

import CNablaTender
import Glibc
import Testing
@testable import Nabla

private let host = HostAddresses(diagnosticBuffer: 0xd01000, stdinBuffer: 0xd04000, pollfds: 0xd02000, pollfdCount: 1,
                                 pollTimeout: 0xd03000)
private let diskFD: Int32 = 5, readOnlyFD: Int32 = 6, nicFD: Int32 = 7
private let capacity: UInt64 = 4 << 20
private let frameMax = UInt64(NABLA_NET_FRAME_MAX)
private let offloadFD: Int32 = 8
private let offloadFrameMax = UInt64(NABLA_NET_OFFLOAD_FRAME_MAX)

/// The nabla policy with the two disks, a plain NIC (`nicFD`) and a NIC
/// with offloads (`offloadFD`), or (`plainNIC` false) the offload NIC alone.
private func compiledOffloadFilter(plainNIC: Bool = true) throws -> [sock_filter] {
    var devices = [
        AttachedDevice(name: "disk", kind: .block, path: "disk.img", fd: diskFD, capacity: capacity),
        AttachedDevice(name: "ro", kind: .block, path: "ro.img", fd: readOnlyFD, readOnly: true, capacity: capacity),
    ]
    if plainNIC { devices.append(AttachedDevice(name: "net", kind: .net, path: "tap0", fd: nicFD)) }
    devices.append(AttachedDevice(name: "fast", kind: .net, path: "tap1", fd: offloadFD, offload: true))
    return try SeccompPolicy(for: host, devices: devices).compile().program
}

/// The nabla policy with a writable disk, a read-only disk and a NIC.
private func compiledNablaFilter() throws -> [sock_filter] {
    let devices = [
        AttachedDevice(name: "disk", kind: .block, path: "disk.img", fd: diskFD, capacity: capacity),
        AttachedDevice(name: "ro", kind: .block, path: "ro.img", fd: readOnlyFD, readOnly: true, capacity: capacity),
        AttachedDevice(name: "net", kind: .net, path: "tap0", fd: nicFD),
    ]
    return try SeccompPolicy(for: host, devices: devices).compile().program
}

private func verdict(_ program: [sock_filter], _ number: Int, _ arguments: [UInt64] = [],
                     arch: UInt32 = SeccompData.x86_64) throws -> SeccompAction {
    try runSeccompFilter(program, on: SeccompData(Int32(number), arguments, arch: arch))
}

extension Syscall {
    /// The x86_64 number, as the interpreter takes it.
    var n: Int { Int(number) }
}

@Suite("The compiled filter, interpreted")
struct FilterInterpretationTests {
    @Test("the console, the diagnostic buffer, the clocks, ppoll and exit_group: each allowed as pinned, and not one step past")
    func baseRules() throws {
        let program = try compiledNablaFilter()
        #expect(try verdict(program, Syscall.write.n, [1, 0x1234, 100]) == .allow)
        #expect(try verdict(program, Syscall.write.n, [3, 0x1234, 100]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [1 | 1 << 32, 0x1234, 100]) == .trap, "an fd with high bits set")
        #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer, UInt64(NABLA_DIAG_SIZE)]) == .allow)
        #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer, UInt64(NABLA_DIAG_SIZE) + 1]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer + 1, 1]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer, frameMax]) == .trap, "the NIC's count bound on fd 2")
        #expect(try verdict(program, Syscall.clockGettime.n, [UInt64(CLOCK_REALTIME)]) == .allow)
        #expect(try verdict(program, Syscall.clockGettime.n, [UInt64(CLOCK_MONOTONIC)]) == .allow)
        #expect(try verdict(program, Syscall.clockGettime.n, [UInt64(CLOCK_PROCESS_CPUTIME_ID)]) == .allow)
        #expect(try verdict(program, Syscall.clockGettime.n, [UInt64(CLOCK_THREAD_CPUTIME_ID)]) == .trap)
        #expect(try verdict(program, Syscall.clockGettime.n, [UInt64(CLOCK_BOOTTIME)]) == .trap)
        #expect(try verdict(program, Syscall.clockGettime.n, [1 << 32]) == .trap, "a clock id with high bits set")
        #expect(try verdict(program, Syscall.read.n, [0, host.stdinBuffer, 65536]) == .allow)
        #expect(try verdict(program, Syscall.read.n, [0, host.stdinBuffer, 65537]) == .trap)
        #expect(try verdict(program, Syscall.read.n, [0, host.stdinBuffer + 1, 1]) == .trap)
        #expect(try verdict(program, Syscall.read.n, [0, host.diagnosticBuffer, 1]) == .trap)
        #expect(try verdict(program, Syscall.read.n, [UInt64(nicFD), host.stdinBuffer, 65536]) == .trap, "stdin's count on the NIC")
        #expect(try verdict(program, Syscall.ppoll.n, [host.pollfds, 1, host.pollTimeout, 0]) == .allow)
        #expect(try verdict(program, Syscall.ppoll.n, [host.pollfds, 2, host.pollTimeout, 0]) == .trap)
        #expect(try verdict(program, Syscall.ppoll.n, [host.pollfds, 1, host.pollTimeout, 0x5000]) == .trap, "a signal mask")
        #expect(try verdict(program, Syscall.exitGroup.n, [0]) == .allow)
    }

    @Test("disks: a transfer ending exactly at the capacity passes, one byte more traps; a read-only disk has no pwrite64")
    func diskRules() throws {
        let program = try compiledNablaFilter()
        let fd = UInt64(diskFD)
        for size in (0..<10).map({ UInt64(512) << $0 }) {
            #expect(try verdict(program, Syscall.pread64.n, [fd, 0x1000, size, capacity - size]) == .allow, "read \(size) at the end")
            #expect(try verdict(program, Syscall.pwrite64.n, [fd, 0x1000, size, capacity - size]) == .allow, "write \(size) at the end")
            #expect(try verdict(program, Syscall.pread64.n, [fd, 0x1000, size, capacity - size + 1]) == .trap, "read \(size) one byte past")
            #expect(try verdict(program, Syscall.pwrite64.n, [fd, 0x1000, size, capacity - size + 1]) == .trap, "write \(size) one byte past")
        }
        #expect(try verdict(program, Syscall.pread64.n, [fd, 0x1000, (512 << 10) + 1, 0]) == .trap, "more than the largest transfer")
        #expect(try verdict(program, Syscall.pwrite64.n, [fd, 0x1000, 2048, capacity - 512]) == .trap, "2 KiB from 512 bytes before the end")
        #expect(try verdict(program, Syscall.pwrite64.n, [fd, 0x1000, 512 << 10, capacity - 512]) == .trap, "512 KiB from 512 bytes before the end")
        #expect(try verdict(program, Syscall.pread64.n, [fd, 0x1000, 1536, 0]) == .trap, "a size that is not a power of two")
        #expect(try verdict(program, Syscall.pwrite64.n, [fd, 0x1000, 512, 1 << 40]) == .trap, "an offset of 1 TiB")
        #expect(try verdict(program, Syscall.pread64.n, [fd + 10, 0x1000, 512, 0]) == .trap, "another fd")
        let readOnly = UInt64(readOnlyFD)
        #expect(try verdict(program, Syscall.pread64.n, [readOnly, 0x1000, 512, 0]) == .allow)
        #expect(try verdict(program, Syscall.pwrite64.n, [readOnly, 0x1000, 512, 0]) == .trap)
    }

    @Test("NICs: a read of exactly one frame buffer, a write of up to the largest frame; frame + 1 traps")
    func nicRules() throws {
        let program = try compiledNablaFilter()
        let fd = UInt64(nicFD)
        #expect(try verdict(program, Syscall.read.n, [fd, 0x1000, frameMax]) == .allow)
        #expect(try verdict(program, Syscall.read.n, [fd, 0x1000, frameMax - 1]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [fd, 0x1000, 60]) == .allow)
        #expect(try verdict(program, Syscall.write.n, [fd, 0x1000, frameMax]) == .allow)
        #expect(try verdict(program, Syscall.write.n, [fd, 0x1000, frameMax + 1]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [fd, 0x1000, 65000]) == .trap)
    }

    @Test("NICs with offloads: a read of exactly 65559 bytes, a write of up to 65559; 65560 traps, and the plain NIC beside it keeps 1514")
    func offloadNICRules() throws {
        for plainNIC in [true, false] {
            let program = try compiledOffloadFilter(plainNIC: plainNIC)
            let fast = UInt64(offloadFD), plain = UInt64(nicFD)
            let context: Comment = plainNIC ? "beside a plain NIC" : "alone"
            #expect(try verdict(program, Syscall.read.n, [fast, 0x1000, offloadFrameMax]) == .allow, context)
            #expect(try verdict(program, Syscall.read.n, [fast, 0x1000, offloadFrameMax - 1]) == .trap, context)
            #expect(try verdict(program, Syscall.read.n, [fast, 0x1000, offloadFrameMax + 1]) == .trap, context)
            #expect(try verdict(program, Syscall.read.n, [fast, 0x1000, frameMax]) == .trap, "a plain frame's read on the offload NIC, \(context)")
            #expect(try verdict(program, Syscall.write.n, [fast, 0x1000, 24]) == .allow, context)
            #expect(try verdict(program, Syscall.write.n, [fast, 0x1000, frameMax + 1]) == .allow, context)
            #expect(try verdict(program, Syscall.write.n, [fast, 0x1000, offloadFrameMax]) == .allow, context)
            #expect(try verdict(program, Syscall.write.n, [fast, 0x1000, offloadFrameMax + 1]) == .trap, context)
            #expect(try verdict(program, Syscall.write.n, [fast, 0x1000, 1 << 20]) == .trap, context)
            #expect(try verdict(program, Syscall.write.n, [fast | 1 << 32, 0x1000, 64]) == .trap, "high fd bits, \(context)")
            #expect(try verdict(program, Syscall.pwrite64.n, [fast, 0x1000, 512, 0]) == .trap, context)
            // Neither the offload NIC's count and stdin's (fd 0, <= 65536 into
            // the tender's buffer) may leak onto the other's descriptor.
            #expect(try verdict(program, Syscall.read.n, [0, host.stdinBuffer, 65536]) == .allow, context)
            #expect(try verdict(program, Syscall.read.n, [0, host.stdinBuffer, offloadFrameMax]) == .trap, "the offload frame on stdin, \(context)")
            #expect(try verdict(program, Syscall.read.n, [fast, host.stdinBuffer, 65536]) == .trap, "stdin's count on the offload NIC, \(context)")
            #expect(try verdict(program, Syscall.read.n, [fast, host.stdinBuffer, offloadFrameMax]) == .allow, context)
            // The offload NIC's count bound must not leak onto another fd.
            #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer, offloadFrameMax]) == .trap, "fd 2, \(context)")
            #expect(try verdict(program, Syscall.write.n, [2, host.diagnosticBuffer, UInt64(NABLA_DIAG_SIZE)]) == .allow, context)
            #expect(try verdict(program, Syscall.pwrite64.n, [UInt64(diskFD), 0x1000, 512, capacity - 512]) == .allow, context)
            #expect(try verdict(program, Syscall.pwrite64.n, [UInt64(diskFD), 0x1000, 512, capacity - 511]) == .trap, context)
            if plainNIC {
                #expect(try verdict(program, Syscall.read.n, [plain, 0x1000, frameMax]) == .allow)
                #expect(try verdict(program, Syscall.read.n, [plain, 0x1000, offloadFrameMax]) == .trap, "the offload read size on the plain NIC")
                #expect(try verdict(program, Syscall.write.n, [plain, 0x1000, frameMax]) == .allow)
                #expect(try verdict(program, Syscall.write.n, [plain, 0x1000, frameMax + 1]) == .trap, "the plain NIC beside an offload one")
                #expect(try verdict(program, Syscall.write.n, [plain, 0x1000, offloadFrameMax]) == .trap)
            }
        }
    }

    @Test("every other system call traps, and so do i386 and x32 numbers of the allowed ones")
    func everythingElse() throws {
        let program = try compiledNablaFilter()
        let allowed: Set<Int> = [Syscall.read.n, Syscall.write.n, Syscall.pread64.n, Syscall.pwrite64.n, Syscall.ppoll.n, Syscall.clockGettime.n, Syscall.exitGroup.n]
        for number in 0..<460 where !allowed.contains(number) {
            #expect(try verdict(program, number, [1, 2, 3, 4, 5, 6]) == .trap, "system call \(number)")
        }
        #expect(try verdict(program, 15 /* rt_sigreturn */) == .trap, "rt_sigreturn (not even with --core)")
        #expect(try verdict(program, 1 /* exit on i386 */, [0], arch: SeccompData.i386) == .trap)
        #expect(try verdict(program, 252 /* exit_group on i386 */, [0], arch: SeccompData.i386) == .trap)
        #expect(try verdict(program, Int(SeccompData.x32Bit) | Syscall.write.n, [1, 0, 1]) == .trap, "x32 write")
        #expect(try verdict(program, Int(SeccompData.x32Bit) | Syscall.exitGroup.n, [0]) == .trap, "x32 exit_group")
    }

    @Test("Solo5 spt: block transfers of exactly the block size inside the disk, NIC frames up to MTU + 14, waits with no signal mask")
    func solo5Rules() throws {
        let waitSet = try Solo5SPT.WaitSet(nics: [])
        defer { close(waitSet.epollfd); close(waitSet.timerfd) }
        let devices = [
            Solo5Device(entry: .init(index: 0, name: "storage", type: .block),
                        device: AttachedDevice(name: "storage", kind: .block, path: "st.img", fd: diskFD, capacity: capacity),
                        blockSize: 4096),
            Solo5Device(entry: .init(index: 1, name: "service", type: .net),
                        device: AttachedDevice(name: "service", kind: .net, path: "tap0", fd: nicFD), mtu: 1500),
        ]
        let program = try Solo5SPT.policy(devices: devices, waitSet: waitSet).compile().program
        let disk = UInt64(diskFD), nic = UInt64(nicFD)
        #expect(try verdict(program, Syscall.pread64.n, [disk, 0x1000, 4096, capacity - 4096]) == .allow)
        #expect(try verdict(program, Syscall.pwrite64.n, [disk, 0x1000, 4096, capacity - 4096]) == .allow)
        #expect(try verdict(program, Syscall.pwrite64.n, [disk, 0x1000, 4096, capacity - 4095]) == .trap)
        #expect(try verdict(program, Syscall.pwrite64.n, [disk, 0x1000, 512, 0]) == .trap, "another size than the block size")
        #expect(try verdict(program, Syscall.write.n, [nic, 0x1000, 1514]) == .allow)
        #expect(try verdict(program, Syscall.write.n, [nic, 0x1000, 1515]) == .trap)
        #expect(try verdict(program, Syscall.write.n, [nic, 0x1000, 65000]) == .trap)
        #expect(try verdict(program, Syscall.read.n, [nic, 0x1000, 1514]) == .allow)
        let epoll = UInt64(waitSet.epollfd), timer = UInt64(waitSet.timerfd)
        #expect(try verdict(program, Syscall.epollPwait.n, [epoll, 0x1000, 8, 100, 0, 8]) == .allow)
        #expect(try verdict(program, Syscall.epollPwait.n, [epoll, 0x1000, 8, 100, 0x2000, 8]) == .trap, "a signal mask")
        #expect(try verdict(program, Syscall.timerfdSettime.n, [timer, 0, 0x1000, 0]) == .allow)
        #expect(try verdict(program, Syscall.timerfdSettime.n, [timer, 0, 0x1000, 0x2000]) == .trap, "an old value")
        #expect(try verdict(program, Syscall.archPrctl.n, [0x1002, 0x1000]) == .allow)
        #expect(try verdict(program, Syscall.archPrctl.n, [0x1001, 0x1000]) == .trap, "ARCH_SET_GS")
        #expect(try verdict(program, 15 /* rt_sigreturn */) == .trap)
        #expect(try verdict(program, 257 /* openat */, [0]) == .trap)
        #expect(try verdict(program, Int(SeccompData.x32Bit) | Syscall.write.n, [1, 0, 1]) == .trap, "x32 write")
        #expect(try verdict(program, 4 /* write on i386 */, [1, 0, 1], arch: SeccompData.i386) == .trap)
    }

    @Test("the interpreter itself: a program that allows everything is told apart from the real one")
    func interpreterSeesADifference() throws {
        let allowAll = [sock_filter(code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000)]
        #expect(try verdict(allowAll, 257 /* openat */, [0]) == .allow)
        #expect(try verdict(try compiledNablaFilter(), 257 /* openat */, [0]) == .trap)
        #expect(throws: BPFError.self) { try runSeccompFilter([sock_filter(code: 0x05, jt: 0, jf: 0, k: 5)], on: SeccompData(0)) }
    }
}
