// HostState.swift: what the hypercall and signal handlers know of the run,
// built once from the layout, the devices and the options, then published
// to the C side in one step and sealed read-only before the filter is
// loaded (nabla_tender.h, "The host state").

import CNablaTender
import Glibc

/// The sealed part of the host state for one run.
struct HostState {
    private(set) var config = nabla_host_config()

    init(image: ELFImage, imagePath: String, layout: GuestLayout, devices: [AttachedDevice],
         trace: Bool, guards: GuardOptions, symbols: ImageSymbols?) {
        config.mem_start = layout.memory.start
        config.mem_end = layout.memory.end
        config.image_base = image.lowestAddress
        config.image_end = image.highestAddress
        config.guard_start = layout.guardPage.start
        config.timeout_ms = guards.timeoutMilliseconds ?? 0
        config.trace = trace ? 1 : 0
        config.core_dump = guards.core ? 1 : 0
        config.device_count = UInt32(devices.count)
        if let symbols {
            config.symbols = symbols.symbols
            config.symbol_count = symbols.symbolCount
            config.symbol_names = symbols.strings
            config.symbol_names_size = symbols.stringsSize
        }
        withUnsafeMutableBytes(of: &config.devices) { buffer in
            let entries = buffer.bindMemory(to: nabla_host_device.self)
            for (handle, device) in devices.enumerated() { entries[handle] = device.hostDescription }
        }
        config.readable_count = Self.store(layout.readable, in: &config.readable)
        config.writable_count = Self.store(layout.writable, in: &config.writable)
        let nics = devices.enumerated().filter { $0.element.kind == .net }
        config.pollfd_count = UInt32(nics.count)
        withUnsafeMutableBytes(of: &config.pollfd_fd) { fds in
            withUnsafeMutableBytes(of: &config.pollfd_handle) { handles in
                for (index, nic) in nics.enumerated() {
                    fds.bindMemory(to: Int32.self)[index] = nic.element.fd
                    handles.bindMemory(to: UInt32.self)[index] = UInt32(nic.offset)
                }
            }
        }
        withUnsafeMutableBytes(of: &config.image_path) { buffer in
            // Truncated to fit, always NUL-terminated: it is only a hint.
            for (index, byte) in imagePath.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
    }

    /// A state made by another personality (Solo5SPT), with the image path.
    init(config: nabla_host_config, imagePath: String) {
        self.config = config
        withUnsafeMutableBytes(of: &self.config.image_path) { buffer in
            for (index, byte) in imagePath.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
    }

    /// The NICs' count: the length of the pollfd array the policy pins.
    var pollfdCount: UInt32 { config.pollfd_count }

    /// Copies the state to where the handlers read it.
    func publish() {
        withUnsafePointer(to: config) { nabla_host_publish($0) }
    }

    /// Makes the published state read-only for the rest of the process.
    static func seal() throws(TenderError) {
        let result = nabla_host_seal()
        guard result == 0 else { throw .hostCall("mprotect of the tender's host state", Errno(rawValue: -result)) }
    }

    private static func store<T>(_ ranges: [GuestRange], in table: inout T) -> UInt32 {
        withUnsafeMutableBytes(of: &table) { buffer in
            let entries = buffer.bindMemory(to: nabla_host_range.self)
            for (index, range) in ranges.prefix(entries.count).enumerated() {
                entries[index] = nabla_host_range(start: range.start, end: range.end)
            }
            return UInt32(min(ranges.count, entries.count))
        }
    }
}
