// ImageFile.swift: a guest image file, mapped read-only.
//
// The tender validates the image from a private read-only mapping of the
// file, maps (or, where it cannot, copies) its segments into guest memory
// from the file (GuestMemory.placeSegments), and closes both before the
// guest runs: the file's pages stay in the page cache, shared by every
// tender that runs the same image, and nothing of the file (debug
// information included) lands on the tender's heap.

import Glibc

/// A regular file of at most ``Tender/imageSizeLimit`` bytes, open and mapped.
public struct ImageFile {
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer
    /// The open file, for mapping segments from it.
    let fd: Int32

    /// Opens and maps `path`, refusing what is not a regular file of a
    /// sensible size. Opened non-blocking, so a FIFO or a device is refused
    /// by the check that follows instead of blocking the open.
    public init(path: String) throws(TenderError) {
        let fd: Int32
        switch Sys.open(path, O_RDONLY | O_NONBLOCK) {
        case .success(let opened): fd = opened
        case .failure(let error): throw .cannotOpen(path: path, error)
        }
        var keep = false
        defer { if !keep { Sys.close(fd) } }
        let size: UInt64
        switch Sys.fstat(fd) {
        case .success(let st):
            guard st.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else { throw .notARegularFile(path: path) }
            size = UInt64(st.st_size)
        case .failure(let error):
            throw .cannotRead(path: path, error)
        }
        guard size <= Tender.imageSizeLimit else { throw .imageTooLarge(path: path, size: size, limit: Tender.imageSizeLimit) }
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        } else {
            switch Sys.mapFile(fd, size: Int(size)) {
            case .success(let mapping): bytes = UnsafeRawBufferPointer(start: mapping, count: Int(size))
            case .failure(let error): throw .cannotRead(path: path, error)
            }
        }
        self.fd = fd
        keep = true
    }

    /// Unmaps and closes the file; neither `bytes` nor the descriptor may be
    /// used afterwards. Segments mapped from it stay mapped.
    public func close() {
        if let start = bytes.baseAddress { Sys.unmap(UnsafeMutableRawPointer(mutating: start), size: bytes.count) }
        Sys.close(fd)
    }
}
