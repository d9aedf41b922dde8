// Devices.swift: when a host block device may be a guest's disk.
//
// A block device opened by nabla-runc (root, on the host) and handed to the
// tender is the host's disk, read and written by the guest. So only what
// the engine granted may be one, judged as runc's device cgroup judges an
// open inside the container: the device is named in linux.devices (podman
// run --device) or reached through a bind mount the user asked for, and
// linux.resources.devices allows its major:minor with the access the disk
// needs. A device node inside the image's rootfs is never a disk: an image
// could carry one for any host disk.

import CNablaRunc
import Glibc

/// One `linux.devices` entry: a device node the engine grants the container.
struct DeviceNode: Equatable {
    /// The node's path inside the container.
    let path: String
    /// "b" (block), "c" or "u" (character), "p" (fifo).
    let type: String
    let major: Int64
    let minor: Int64
}

/// One `linux.resources.devices` entry: an allow or deny rule of the device cgroup.
struct DeviceRule: Equatable {
    let allow: Bool
    /// "a" (any), "b" or "c".
    let type: String
    /// nil: any.
    let major: Int64?
    let minor: Int64?
    /// Letters from "rwm".
    let access: String

    func matches(blockMajor major: Int64, minor: Int64) -> Bool {
        (type == "a" || type == "b") && (self.major == nil || self.major == major) && (self.minor == nil || self.minor == minor)
    }
}

/// The device cgroup's rules in order, judged as the kernel's device
/// controller (and runc's emulation of it) judges them: everything starts
/// denied, and for each access letter the last rule that matches the device
/// and names the letter decides.
struct DeviceRules: Equatable {
    let rules: [DeviceRule]

    init(_ rules: [DeviceRule]) { self.rules = rules }

    /// Whether block device major:minor may be opened with every letter of `access`.
    func allowBlock(major: Int64, minor: Int64, access: String) -> Bool {
        access.allSatisfy { letter in
            rules.last { $0.matches(blockMajor: major, minor: minor) && $0.access.contains(letter) }?.allow ?? false
        }
    }
}

/// A block device's numbers.
struct DeviceNumber: Equatable, CustomStringConvertible {
    let major: Int64
    let minor: Int64

    /// Splits st_rdev as glibc's major() and minor() do.
    init(_ rdev: dev_t) {
        let value = UInt64(rdev)
        major = Int64(((value >> 8) & 0xfff) | ((value >> 32) & ~UInt64(0xfff)))
        minor = Int64((value & 0xff) | ((value >> 12) & ~UInt64(0xff)))
    }

    init(major: Int64, minor: Int64) {
        self.major = major
        self.minor = minor
    }

    var description: String { "\(major):\(minor)" }

    /// Opens the host's node for this block device (O_PATH), found through
    /// /sys/dev/block/MAJOR:MINOR/uevent's DEVNAME and checked by fstat to
    /// be that very device.
    func openHostNode() throws(RuncError) -> Int32 {
        let uevent = "/sys/dev/block/\(self)/uevent"
        guard let bytes = try? FileSystem.read(uevent),
              let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("DEVNAME=") }) else {
            throw RuncError(.noInput, "there is no block device \(self) on this host (\(uevent) is missing)")
        }
        let name = String(line.dropFirst("DEVNAME=".count))
        guard !name.isEmpty, !name.split(separator: "/").contains("..") else {
            throw RuncError(.noInput, "\(uevent) names no usable device node: '\(name)'")
        }
        let path = "/dev/" + name
        let fd = nrc_open_path(path, 0)
        guard fd >= 0 else { throw RuncError(.noInput, "cannot open \(path), the host's node for block device \(self): \(RuncError.errnoText(errno))") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFBLK, DeviceNumber(st.st_rdev) == self else {
            Glibc.close(fd)
            throw RuncError(.noInput, "\(path) is not block device \(self)")
        }
        return fd
    }
}
