// BootInfo.swift: the struct the guest entry receives (docs/abi.md, "Boot
// info"), written at NABLA_MEM_BASE with the hypercall table right after it.

import CNablaTender

enum BootInfo {
    /// Where the boot info sits.
    static let address = GuestAddress(NABLA_MEM_BASE)
    /// Where the hypercall table sits: after the boot info, 16-byte aligned.
    static let hypercallTableAddress = address + GuestAddress(alignUp(MemoryLayout<nabla_boot_info>.size, to: 16))

    /// Writes the boot info and the hypercall table. The boot page must be
    /// writable.
    static func write(layout: GuestLayout, arguments: CommandLineArea, argv: GuestAddress, envp: GuestAddress,
                      devices: [AttachedDevice], facts: ProcessFacts, hypercalls: nabla_hypercalls) {
        let table = UnsafeMutablePointer<nabla_hypercalls>(bitPattern: UInt(hypercallTableAddress))!
        table.initialize(to: hypercalls)

        var info = nabla_boot_info()
        info.abi_version = NABLA_ABI_VERSION
        info.flags = NABLA_BOOT_CONSOLE | facts.terminalFlags
        info.mem_start = layout.memory.start
        info.mem_end = layout.memory.end
        info.heap_start = layout.heap.start
        info.heap_end = layout.heap.end
        info.stack_top = layout.stack.end
        info.argc = UInt64(arguments.count)
        info.argv = UnsafeMutablePointer(bitPattern: UInt(argv))
        info.envc = UInt64(arguments.environment.count)
        info.envp = UnsafeMutablePointer(bitPattern: UInt(envp))
        info.hypercalls = UnsafePointer(table)
        info.device_count = UInt32(devices.count)
        withUnsafeMutableBytes(of: &info.devices) { table in
            let entries = table.bindMemory(to: nabla_device.self)
            for (handle, device) in devices.enumerated() { entries[handle] = device.guestDescription }
        }
        info.stdio_mode = facts.streamModes
        info.pid = facts.pid
        info.uid = facts.uid
        info.gid = facts.gid
        withUnsafeMutableBytes(of: &info.entropy) { target in
            withUnsafeBytes(of: facts.entropy) { target.copyMemory(from: $0) }
        }
        UnsafeMutablePointer<nabla_boot_info>(bitPattern: UInt(address))!.initialize(to: info)
    }
}
