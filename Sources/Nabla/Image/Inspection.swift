// Inspection.swift: what an image is, without running it (`--inspect`).

import CNablaTender

/// A raw system-call instruction found in an executable segment.
public struct RawSyscallSite: Hashable, Sendable {
    /// `syscall`, `sysenter` or `int 0x80`.
    public var instruction: String
    /// Offset in the image file.
    public var fileOffset: UInt64
    /// Guest address where it is loaded.
    public var address: GuestAddress
}

/// A description of a guest image.
public struct ImageInspection: Sendable {
    public var path: String
    public var image: ELFImage
    /// The smallest `--mem` that fits the image, guard page and stack.
    public var minimumMemory: UInt64
    public var rawSyscalls: [RawSyscallSite]

    /// Byte sequences of the instructions that enter the kernel directly.
    static let patterns: [(name: String, bytes: [UInt8])] = [
        ("syscall", [0x0f, 0x05]), ("sysenter", [0x0f, 0x34]), ("int 0x80", [0xcd, 0x80]),
    ]

    /// Validates the image at `path` and scans its executable segments.
    public init(path: String) throws(TenderError) {
        let mapped = try ImageFile(path: path)
        defer { mapped.close() }
        let file = mapped.bytes
        do {
            image = try ELFImage(bytes: file)
        } catch {
            throw .invalidImage(path: path, error)
        }
        self.path = path
        switch image.abi {
        case .nabla: minimumMemory = image.highestAddress + UInt64(NABLA_STACK_SIZE) + UInt64(NABLA_GUARD_SIZE) - UInt64(NABLA_MEM_BASE)
        case .solo5SPT: minimumMemory = image.highestAddress + UInt64(NABLA_STACK_SIZE)
        }
        rawSyscalls = []
        for segment in image.segments where segment.permissions.contains(.execute) && segment.fileSize >= 2 {
            let start = Int(segment.fileOffset), end = start + Int(segment.fileSize)
            for at in start..<(end - 1) {
                for pattern in Self.patterns where file[at] == pattern.bytes[0] && file[at + 1] == pattern.bytes[1] {
                    rawSyscalls.append(RawSyscallSite(instruction: pattern.name, fileOffset: UInt64(at),
                                                      address: segment.address + UInt64(at - start)))
                }
            }
        }
    }

    /// The human-readable report.
    public var report: String {
        var lines = [
            "image:          \(path)",
            "format:         ELF64 x86_64 static executable (ET_EXEC)",
        ]
        switch image.abi {
        case .nabla:
            lines += [
                "ABI version:    \(image.abiVersion) (this nabla-run speaks \(NABLA_ABI_VERSION))",
                "entry:          \(hex(image.entry))",
                "memory needed:  \(ByteCount(bytes: minimumMemory)) at least (--mem; default \(ByteCount(bytes: GuestLayout.defaultMemory)))",
            ]
        case let .solo5SPT(manifest):
            lines += [
                "ABI:            Solo5 spt, ABI version \(image.abiVersion) (Solo5 v0.12; docs/solo5.md)",
                "entry:          \(hex(image.entry))",
                "memory needed:  \(ByteCount(bytes: minimumMemory)) at least (--mem, from address 0; default \(ByteCount(bytes: Solo5SPT.defaultMemory)))",
                "manifest:       \(manifest.entries.count) entries (version \(SOLO5_MFT_VERSION)); each device must be attached:",
            ]
            for entry in manifest.entries {
                switch entry.type {
                case .block: lines.append("  [\(entry.index)] block \(entry.name)  (--block:\(entry.name)=PATH)")
                case .net: lines.append("  [\(entry.index)] net \(entry.name)  (--net:\(entry.name)=TAP)")
                case .reserved: lines.append("  [\(entry.index)] reserved")
                }
            }
        }
        lines.append("load segments:")
        for segment in image.segments {
            lines.append("  [\(segment.index)] \(segment.permissions) \(hex(segment.address))-\(hex(segment.end))  memsz \(segment.memorySize)  filesz \(segment.fileSize)  offset \(hex(segment.fileOffset))")
        }
        if case .solo5SPT = image.abi {
            lines.append("raw system-call instructions: \(rawSyscalls.count) (a Solo5 guest makes its own system calls; the policy allows nine)")
        } else if rawSyscalls.isEmpty {
            lines.append("raw system-call instructions: none (the guest reaches the host only through hypercalls)")
        } else {
            lines.append("raw system-call instructions: \(rawSyscalls.count) (byte sequences in executable segments; the filter stops any that run)")
            for site in rawSyscalls {
                lines.append("  \(site.instruction) at \(hex(site.address)) (file offset \(hex(site.fileOffset)))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
