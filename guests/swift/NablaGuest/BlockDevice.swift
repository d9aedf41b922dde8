// BlockDevice.swift: a disk attached with `nabla-run --disk [NAME=]PATH`,
// over the blkread and blkwrite hypercalls.

import NablaLibOS

/// An error code of a hypercall (NABLA_E* in nabla_abi.h).
public enum NablaError: Error, Equatable {
    /// No such device, or a device of another kind.
    case noDevice
    /// A bad argument: offset or length not a multiple of the sector size.
    case invalidArgument
    /// The buffer is not inside guest memory.
    case badAddress
    /// A write to a read-only disk.
    case readOnly
    /// The host reported an I/O error.
    case io
    /// The request goes past the end of the disk.
    case outOfRange
    /// A code this module does not know.
    case other(Int64)

    init(code: Int64) {
        switch code {
        case Int64(NABLA_ENODEV): self = .noDevice
        case Int64(NABLA_EINVAL): self = .invalidArgument
        case Int64(NABLA_EFAULT): self = .badAddress
        case Int64(NABLA_EROFS): self = .readOnly
        case Int64(NABLA_EIO): self = .io
        case Int64(NABLA_ERANGE): self = .outOfRange
        default: self = .other(code)
        }
    }
}

/// A block device. Offsets and lengths are bytes, multiples of `sectorSize`.
public struct BlockDevice {
    /// Its name (`disk`, `disk1`, ... unless named on the command line).
    public let name: String
    /// The handle the hypercalls take.
    public let handle: Int32
    /// Bytes per sector (512).
    public let sectorSize: Int
    /// Size in bytes.
    public let capacity: UInt64
    /// Whether it was attached with --disk-readonly.
    public let isReadOnly: Bool

    /// The block device called `name`; throws `.noDevice` if there is none.
    public init(named name: String = "disk") throws(NablaError) {
        let handle = name.withCString { nabla_device_find($0, UInt32(NABLA_DEVICE_BLOCK)) }
        guard handle >= 0, let device = nabla_device(handle) else { throw .noDevice }
        self.name = name
        self.handle = handle
        sectorSize = Int(device.pointee.u.block.sector_size)
        capacity = device.pointee.u.block.capacity &* device.pointee.u.block.sector_size
        isReadOnly = device.pointee.flags & UInt32(NABLA_DEVICE_READONLY) != 0
    }

    /// Reads `count` bytes at `offset`.
    public func read(at offset: UInt64, count: Int) throws(NablaError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { nabla_blk_read(handle, offset, $0.baseAddress, $0.count) }
        guard result == Int64(NABLA_OK) else { throw NablaError(code: result) }
        return bytes
    }

    /// Writes `bytes` at `offset`.
    public func write(at offset: UInt64, _ bytes: [UInt8]) throws(NablaError) {
        let result = bytes.withUnsafeBytes { nabla_blk_write(handle, offset, $0.baseAddress, $0.count) }
        guard result == Int64(NABLA_OK) else { throw NablaError(code: result) }
    }
}
