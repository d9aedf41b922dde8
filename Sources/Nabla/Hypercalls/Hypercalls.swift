// Hypercalls.swift: the nine entries of the hypercall table.
//
// The guest calls the assembly thunks in tender/hypercall_x86_64.S, which
// switch to the tender's own hypercall stack and call the handlers below,
// under the seccomp filter. Rules for every line in this file
// (docs/architecture.md, "Hypercall handlers"):
//   - no allocation, no classes, no arrays, no strings, no Swift globals that
//     need lazy initialisation: state comes from nabla_config() (sealed
//     read-only before the filter) and nabla_scratch() (C structs);
//   - no traps: arithmetic on guest values is checked or wrapping, pointers
//     are range-checked before use, every index is bounded;
//   - nothing read back from the scratch state (which the guest can write)
//     decides what a system call may touch;
//   - each makes only the syscalls the policy pins for it (plus write(2) on
//     the diagnostic buffer when tracing).

import CNablaTender
import Glibc

/// The hypercall table the tender gives every guest.
public enum Hypercall: Int, CaseIterable, Sendable {
    case walltime, puts, poll, blkread, blkwrite, netread, netwrite, stdinread, stderrwrite

    /// The name in docs/abi.md.
    public var name: String { "\(self)" }

    /// Its index in the table (NABLA_HYPERCALL_*).
    var index: UInt32 { UInt32(rawValue) }

    /// The table written after the boot info: the thunks' addresses.
    static var table: nabla_hypercalls { nabla_hypercall_thunks().pointee }
}

// MARK: - Guest memory checks

/// True if `[address, address + length)` lies inside one of the ranges
/// `range` returns (nil past the last one).
@inline(__always)
private func within(_ address: UInt64, _ length: UInt64,
                    _ range: (UInt32) -> UnsafePointer<nabla_host_range>?) -> Bool {
    var index: UInt32 = 0
    while let bounds = range(index) {
        if address >= bounds.pointee.start && address <= bounds.pointee.end && length <= bounds.pointee.end &- address {
            return true
        }
        index &+= 1
    }
    return false
}

/// True if the host may read `length` bytes at `address` for the guest:
/// all of it mapped readable guest memory (not the gaps, not the guard page),
/// so a write to a disk, a tap or the console cannot stop half-way.
@inline(__always)
func guestReadable(_ address: UInt64, _ length: UInt64) -> Bool {
    within(address, length, nabla_host_readable)
}

/// True if the tender may store `length` bytes at `address` for the guest:
/// the range lies inside one writable guest range.
@inline(__always)
private func guestWritable(_ address: UInt64, _ length: UInt64) -> Bool {
    within(address, length, nabla_host_writable)
}

@inline(__always)
private var tracing: Bool { nabla_config().pointee.trace != 0 }

/// Maps a failed host call's errno to the guest's error code.
@inline(__always)
private func guestError(_ error: Int32) -> Int64 {
    error == EFAULT ? Int64(NABLA_EFAULT) : Int64(NABLA_EIO)
}

// MARK: - walltime: clock_gettime

@_cdecl("nabla_hypercall_walltime_handler")
func hypercallWalltime(_ clock: UInt32) -> Int64 {
    var result: Int64
    var now = timespec()
    // Each id is one the policy pins (CLOCK_PROCESS_CPUTIME_ID has no vDSO
    // path: it is always the system call).
    let id: clockid_t
    switch clock {
    case NABLA_CLOCK_REALTIME: id = CLOCK_REALTIME
    case NABLA_CLOCK_MONOTONIC: id = CLOCK_MONOTONIC
    case NABLA_CLOCK_CPUTIME: id = CLOCK_PROCESS_CPUTIME_ID
    default: id = -1
    }
    if id < 0 {
        result = Int64(NABLA_EINVAL)
    } else {
        result = clock_gettime(id, &now) == 0
            ? Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
            : Int64(NABLA_EIO)
    }
    nabla_host_count(NABLA_HYPERCALL_WALLTIME, 0)
    if tracing { HypercallTrace("walltime").decimal("clock", UInt64(clock)).emit(result) }
    return result
}

// MARK: - puts: write on the console

@_cdecl("nabla_hypercall_puts_handler")
func hypercallPuts(_ buffer: UnsafePointer<CChar>?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    var result = Int64(NABLA_EFAULT)
    if guestReadable(address, length) {
        let fd: Int32 = 1  // the console; a literal, not a value the guest could change
        var done: UInt64 = 0
        result = Int64(length)
        while done < length {
            let n = write(fd, UnsafeRawPointer(bitPattern: UInt(address &+ done)), Int(length &- done))
            if n > 0 {
                done &+= UInt64(n)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                result = n < 0 ? guestError(errno) : Int64(NABLA_EIO)
                break
            }
        }
    }
    nabla_host_count(NABLA_HYPERCALL_PUTS, result > 0 ? UInt64(result) : 0)
    if tracing { HypercallTrace("puts").hex("buf", address).decimal("len", length).emit(result) }
    return result
}

// MARK: - stdinread: read on fd 0 into the tender's stdin buffer

/// Reads standard input into the tender's stdin buffer (the one address the
/// `read` rule on fd 0 allows), then copies what came into the guest's
/// buffer, which is checked first: a bad buffer consumes nothing.
@_cdecl("nabla_hypercall_stdinread_handler")
func hypercallStdinRead(_ buffer: UnsafeMutableRawPointer?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    let count = min(length, UInt64(NABLA_STDIN_CHUNK))
    var result: Int64
    if !guestWritable(address, count) {
        result = Int64(NABLA_EFAULT)
    } else if count == 0 {
        result = 0
    } else {
        let staging = nabla_stdin_buffer()
        while true {
            let n = read(0, staging, Int(count))  // fd 0: a literal, as the console's fd 1
            if n >= 0 {
                // n <= count: the kernel never returns more than asked.
                if n > 0 { UnsafeMutableRawPointer(bitPattern: UInt(address))!.copyMemory(from: staging, byteCount: n) }
                result = Int64(n)
                break
            }
            if errno == EINTR { continue }
            result = errno == EAGAIN ? Int64(NABLA_EAGAIN) : Int64(NABLA_EIO)
            break
        }
    }
    nabla_host_count(NABLA_HYPERCALL_STDINREAD, result > 0 ? UInt64(result) : 0)
    if tracing { HypercallTrace("stdinread").hex("buf", address).decimal("len", length).emit(result) }
    return result
}

// MARK: - stderrwrite: write on fd 2 through the diagnostic buffer

/// Writes the guest's bytes to standard error, copied a diagnostic buffer's
/// worth at a time into the tender's diagnostic buffer: the one buffer the
/// `write` rule on fd 2 allows, so that guest stderr needs no wider rule.
@_cdecl("nabla_hypercall_stderrwrite_handler")
func hypercallStderrWrite(_ buffer: UnsafePointer<CChar>?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    var result = Int64(NABLA_EFAULT)
    if guestReadable(address, length), let diagnostic = UnsafeMutableRawPointer(nabla_diag()) {
        let size = UInt64(NABLA_DIAG_SIZE)
        var done: UInt64 = 0
        result = Int64(length)
        copying: while done < length {
            let chunk = min(length &- done, size)
            diagnostic.copyMemory(from: UnsafeRawPointer(bitPattern: UInt(address &+ done))!, byteCount: Int(chunk))
            var left = chunk
            while left > 0 {
                // Always from the buffer's start: the rule pins its address.
                let n = write(2, diagnostic, Int(left))
                if n > 0 {
                    left &-= UInt64(n)
                    if left > 0 { diagnostic.copyMemory(from: diagnostic + n, byteCount: Int(left)) }
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    result = n < 0 ? guestError(errno) : Int64(NABLA_EIO)
                    break copying
                }
            }
            done &+= chunk
        }
    }
    nabla_host_count(NABLA_HYPERCALL_STDERRWRITE, result > 0 ? UInt64(result) : 0)
    if tracing { HypercallTrace("stderrwrite").hex("buf", address).decimal("len", length).emit(result) }
    return result
}

// MARK: - poll: ppoll on the tender's pollfd array

@_cdecl("nabla_hypercall_poll_handler")
func hypercallPoll(_ timeoutNanoseconds: UInt64, _ ready: UnsafeMutablePointer<UInt64>?) -> Int64 {
    let readyAddress = UInt64(UInt(bitPattern: ready))
    var result: Int64
    if ready != nil && !guestWritable(readyAddress, 8) {
        result = Int64(NABLA_EFAULT)
    } else {
        var mask: UInt64 = 0
        let n = nabla_host_poll(timeoutNanoseconds, &mask)
        // An interrupted wait is an early return with nothing ready.
        result = n >= 0 ? Int64(n) : (n == -Int(EINTR) ? 0 : Int64(NABLA_EIO))
        ready?.pointee = mask
    }
    nabla_host_count(NABLA_HYPERCALL_POLL, 0)
    if tracing { HypercallTrace("poll").decimal("timeout_ns", timeoutNanoseconds).hex("ready", readyAddress).emit(result) }
    return result
}

// MARK: - Devices

/// The device behind `handle` if it exists and is of `kind`.
@inline(__always)
private func device(_ handle: UInt32, kind: UInt32) -> UnsafePointer<nabla_host_device>? {
    guard let device = nabla_host_device(handle), device.pointee.kind == kind else { return nil }
    return device
}

/// One `--trace` line, `nabla-run: hypercall NAME(ARG=VALUE, ...) = RESULT`,
/// built in the diagnostic buffer: the one format of every hypercall's line.
private struct HypercallTrace {
    private var line = DiagnosticLine()
    private var first = true

    init(_ name: StaticString) {
        line.append("nabla-run: hypercall ")
        line.append(name)
        line.append("(")
    }

    private mutating func label(_ name: StaticString) {
        if !first { line.append(", ") }
        first = false
        line.append(name)
        line.append("=")
    }

    func decimal(_ name: StaticString, _ value: UInt64) -> HypercallTrace {
        var next = self
        next.label(name)
        next.line.append(unsignedDecimal: value)
        return next
    }

    func hex(_ name: StaticString, _ value: UInt64) -> HypercallTrace {
        var next = self
        next.label(name)
        next.line.append(hex: value)
        return next
    }

    func emit(_ result: Int64) {
        var line = line
        line.append(") = ")
        line.append(decimal: result)
        line.emit()
    }
}

// MARK: - blkread, blkwrite: pread64, pwrite64 on the disk's descriptor

/// Checks a block request and performs it, retrying short transfers.
/// Order of checks (docs/abi.md): device, read-only, alignment, range, buffer.
@inline(__always)
private func blockRequest(_ handle: UInt32, _ offset: UInt64, _ address: UInt64, _ length: UInt64, write: Bool) -> Int64 {
    guard let device = device(handle, kind: NABLA_DEVICE_BLOCK) else { return Int64(NABLA_ENODEV) }
    if write && device.pointee.flags & NABLA_DEVICE_READONLY != 0 { return Int64(NABLA_EROFS) }
    let sector = UInt64(NABLA_SECTOR_SIZE)  // a C constant: no Swift global under the filter
    if length == 0 || offset % sector != 0 || length % sector != 0 { return Int64(NABLA_EINVAL) }
    let capacity = device.pointee.capacity_bytes
    if offset > capacity || length > capacity &- offset { return Int64(NABLA_ERANGE) }
    // The tender stores into the buffer on a read: it must be writable.
    if write ? !guestReadable(address, length) : !guestWritable(address, length) { return Int64(NABLA_EFAULT) }
    let fd = device.pointee.fd
    var done: UInt64 = 0
    while done < length {
        // Each transfer is one chunk the filter allows at this position
        // (BlockChunk): the filter, not only this check, keeps it inside the disk.
        let position = offset &+ done
        let chunk = BlockChunk.largest(fitting: min(length &- done, capacity &- position))
        if chunk == 0 { return Int64(NABLA_EIO) }  // a short transfer left a sub-sector tail
        let buffer = UnsafeMutableRawPointer(bitPattern: UInt(address &+ done))
        let at = off_t(Int64(bitPattern: position))
        let n = write ? pwrite(fd, buffer, Int(chunk), at) : pread(fd, buffer, Int(chunk), at)
        if n > 0 {
            done &+= UInt64(n)
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            // 0 means the file shrank under us: an I/O error, not success.
            return n < 0 ? guestError(errno) : Int64(NABLA_EIO)
        }
    }
    return Int64(NABLA_OK)
}

@_cdecl("nabla_hypercall_blkread_handler")
func hypercallBlockRead(_ handle: UInt32, _ offset: UInt64, _ buffer: UnsafeMutableRawPointer?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    let result = blockRequest(handle, offset, address, length, write: false)
    nabla_host_count(NABLA_HYPERCALL_BLKREAD, result == Int64(NABLA_OK) ? length : 0)
    if tracing {
        HypercallTrace("blkread").decimal("dev", UInt64(handle)).decimal("offset", offset).hex("buf", address).decimal("len", length).emit(result)
    }
    return result
}

@_cdecl("nabla_hypercall_blkwrite_handler")
func hypercallBlockWrite(_ handle: UInt32, _ offset: UInt64, _ buffer: UnsafeRawPointer?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    let result = blockRequest(handle, offset, address, length, write: true)
    nabla_host_count(NABLA_HYPERCALL_BLKWRITE, result == Int64(NABLA_OK) ? length : 0)
    if tracing {
        HypercallTrace("blkwrite").decimal("dev", UInt64(handle)).decimal("offset", offset).hex("buf", address).decimal("len", length).emit(result)
    }
    return result
}

// MARK: - netread, netwrite: read, write on the NIC's tap descriptor

/// One frame from the tap into the guest's buffer, never blocking.
@inline(__always)
private func netRead(_ handle: UInt32, _ address: UInt64, _ size: UInt64) -> Int64 {
    guard let device = device(handle, kind: NABLA_DEVICE_NET) else { return Int64(NABLA_ENODEV) }
    let frameMax = device.pointee.frame_max
    // A smaller buffer would let the kernel truncate a frame silently.
    if size < frameMax { return Int64(NABLA_EINVAL) }
    if !guestWritable(address, frameMax) { return Int64(NABLA_EFAULT) }
    while true {
        let n = read(device.pointee.fd, UnsafeMutableRawPointer(bitPattern: UInt(address)), Int(frameMax))
        if n >= 0 { return Int64(n) }
        switch errno {
        case EINTR: continue
        case EAGAIN: return Int64(NABLA_EAGAIN)
        case let error: return guestError(error)
        }
    }
}

/// The virtio-net header at the start of an offload frame, as the guest
/// wrote it: read once, field by field, from guest memory already checked
/// readable. The kernel checks it again; these checks refuse a lie early,
/// with NABLA_EINVAL and a --trace line, and decide nothing the filter
/// relies on.
private struct VnetHeader {
    var flags: UInt8 = 0, gsoType: UInt8 = 0
    var headerLength: UInt16 = 0, gsoSize: UInt16 = 0, checksumStart: UInt16 = 0, checksumOffset: UInt16 = 0

    @inline(__always)
    init() {}

    @inline(__always)
    init(at address: UInt64) {
        guard let bytes = UnsafeRawPointer(bitPattern: UInt(address)) else { return }
        flags = bytes.load(fromByteOffset: 0, as: UInt8.self)
        gsoType = bytes.load(fromByteOffset: 1, as: UInt8.self)
        headerLength = bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        gsoSize = bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        checksumStart = bytes.loadUnaligned(fromByteOffset: 6, as: UInt16.self)
        checksumOffset = bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
    }

    /// True if the header describes `frame` bytes of Ethernet frame as
    /// docs/abi.md allows: only NEEDS_CSUM among the flags, a checksum field
    /// inside the frame after the Ethernet header; no segmentation and a
    /// frame of one MTU, or TCPv4 segmentation with a checksum to fill, a
    /// header inside the frame and 1 to 1460 payload bytes per segment.
    @inline(__always)
    func admits(frame: UInt64) -> Bool {
        let needsChecksum = UInt8(NABLA_NET_F_NEEDS_CSUM)
        if flags & ~needsChecksum != 0 { return false }
        if flags & needsChecksum != 0 {
            let start = UInt64(checksumStart), field = start &+ UInt64(checksumOffset)
            if start < UInt64(NABLA_ETHER_HEADER) || field &+ 2 > frame { return false }
        }
        switch UInt32(gsoType) {
        case NABLA_NET_GSO_NONE:
            return frame <= UInt64(NABLA_NET_FRAME_MAX)
        case NABLA_NET_GSO_TCPV4:
            let largestSegment = UInt16(NABLA_NET_MTU) &- 40  // IPv4 and TCP headers without options
            return flags & needsChecksum != 0 && gsoSize >= 1 && gsoSize <= largestSegment
                && UInt64(headerLength) <= frame
        default:
            return false
        }
    }
}

/// One frame from the guest's buffer to the tap; with offloads, after its
/// virtio-net header, which must pass ``VnetHeader/admits(frame:)``.
@inline(__always)
private func netWrite(_ handle: UInt32, _ address: UInt64, _ length: UInt64, _ header: inout VnetHeader) -> Int64 {
    guard let device = device(handle, kind: NABLA_DEVICE_NET) else { return Int64(NABLA_ENODEV) }
    let offload = device.pointee.flags & NABLA_DEVICE_NET_OFFLOAD != 0
    let shortest = UInt64(offload ? NABLA_NET_OFFLOAD_FRAME_MIN : NABLA_ETHER_HEADER)
    if length < shortest || length > device.pointee.frame_max { return Int64(NABLA_EINVAL) }
    if !guestReadable(address, length) { return Int64(NABLA_EFAULT) }
    if offload {
        header = VnetHeader(at: address)
        if !header.admits(frame: length &- UInt64(NABLA_NET_VNET_HEADER)) { return Int64(NABLA_EINVAL) }
    }
    while true {
        let n = write(device.pointee.fd, UnsafeRawPointer(bitPattern: UInt(address)), Int(length))
        if n == Int(length) { return Int64(NABLA_OK) }
        if n >= 0 { return Int64(NABLA_EIO) }  // a tap takes whole frames or none
        switch errno {
        case EINTR: continue
        case EAGAIN: return Int64(NABLA_EAGAIN)
        case let error: return guestError(error)
        }
    }
}

@_cdecl("nabla_hypercall_netread_handler")
func hypercallNetRead(_ handle: UInt32, _ buffer: UnsafeMutableRawPointer?, _ size: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    let result = netRead(handle, address, size)
    nabla_host_count(NABLA_HYPERCALL_NETREAD, result > 0 ? UInt64(result) : 0)
    if tracing { HypercallTrace("netread").decimal("dev", UInt64(handle)).hex("buf", address).decimal("len", size).emit(result) }
    return result
}

@_cdecl("nabla_hypercall_netwrite_handler")
func hypercallNetWrite(_ handle: UInt32, _ buffer: UnsafeRawPointer?, _ length: UInt64) -> Int64 {
    let address = UInt64(UInt(bitPattern: buffer))
    var header = VnetHeader()
    let result = netWrite(handle, address, length, &header)
    nabla_host_count(NABLA_HYPERCALL_NETWRITE, result == Int64(NABLA_OK) ? length : 0)
    if tracing {
        var line = HypercallTrace("netwrite").decimal("dev", UInt64(handle)).hex("buf", address).decimal("len", length)
        if let device = device(handle, kind: NABLA_DEVICE_NET), device.pointee.flags & NABLA_DEVICE_NET_OFFLOAD != 0,
           guestReadable(address, UInt64(NABLA_NET_VNET_HEADER)) {
            // The header as the guest wrote it, also when it was refused.
            if result == Int64(NABLA_EINVAL) { header = VnetHeader(at: address) }
            line = line.decimal("flags", UInt64(header.flags)).decimal("gso", UInt64(header.gsoType))
                .decimal("gso_size", UInt64(header.gsoSize)).decimal("hdr_len", UInt64(header.headerLength))
                .decimal("csum_start", UInt64(header.checksumStart)).decimal("csum_offset", UInt64(header.checksumOffset))
        }
        line.emit(result)
    }
    return result
}
