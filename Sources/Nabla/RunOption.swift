// RunOption.swift: the options of an ordinary run, in one table.
//
// Each option that changes a TenderConfiguration is one case: its spelling,
// whether it takes a value, how a value is parsed into the configuration,
// and how the configuration is spelled back as arguments. nabla-run's fast
// path parses with this table, `TenderConfiguration.commandLine` (used by
// --audit to start the traced tender) renders with it, and ArgumentParser's
// declarations in Sources/nabla-run are checked against it by the tests
// (CommandLineTests: every option, both spellings, random command lines,
// whole configurations compared).

/// One option of an ordinary run.
public enum RunOption: String, CaseIterable, Sendable {
    case mem = "--mem"
    case trace = "--trace"
    case disk = "--disk"
    case diskReadOnly = "--disk-readonly"
    case diskSync = "--disk-sync"
    case net = "--net"
    case netMAC = "--net-mac"
    /// `[NAME=]ADDR/PREFIX`: a NIC's IPv4 address, in the boot info.
    case netIPv4 = "--net-ipv4"
    /// `[NAME=]ADDR`: a NIC's default gateway, in the boot info.
    case netGateway = "--net-gw"
    /// NICs without offloads, whatever the image asks (docs/abi.md, "Offloads").
    case noNetOffload = "--no-net-offload"
    case timeout = "--timeout"
    case core = "--core"
    /// `KEY=VALUE` in the guest's environment; repeatable.
    case env = "--env"
    /// Solo5 images: a disk's block size, `NAME=N` (solo5-spt spells it
    /// `--block-sector-size:NAME=N`; Solo5Option).
    case blockSectorSize = "--block-sector-size"

    /// True if the option takes a value (`--mem 64M` or `--mem=64M`).
    public var takesValue: Bool {
        switch self {
        case .trace, .diskSync, .core, .noNetOffload: false
        case .mem, .disk, .diskReadOnly, .net, .netMAC, .netIPv4, .netGateway, .timeout, .blockSectorSize, .env: true
        }
    }

    /// The option named `spelling` (`--mem`), if it is one.
    public init?(spelling: String) { self.init(rawValue: spelling) }

    /// Applies the option (with `value` if it takes one) to `configuration`;
    /// false if the value is not valid, so that the full parser can say why.
    public func apply(_ value: String?, to configuration: inout TenderConfiguration) -> Bool {
        switch self {
        case .trace: configuration.trace = true
        case .diskSync: configuration.diskSync = true
        case .core: configuration.guards.core = true
        case .noNetOffload: configuration.noNetOffload = true
        case .mem:
            guard let value, let size = ByteCount(parsingMemory: value) else { return false }
            configuration.memorySize = size.bytes
        case .disk:
            guard let value else { return false }
            // Writable disks come before read-only ones, whatever the order given.
            let index = configuration.disks.firstIndex { $0.readOnly } ?? configuration.disks.count
            configuration.disks.insert(DiskConfiguration(DeviceSpec(parsing: value)), at: index)
        case .diskReadOnly:
            guard let value else { return false }
            configuration.disks.append(DiskConfiguration(DeviceSpec(parsing: value), readOnly: true))
        case .net:
            guard let value else { return false }
            configuration.nics.append(DeviceSpec(parsing: value))
        case .netMAC:
            guard let value, let assignment = MACAssignment(parsing: value) else { return false }
            configuration.nicMACs.append(assignment)
        case .netIPv4:
            guard let value, let assignment = IPv4Assignment(parsing: value) else { return false }
            configuration.nicAddresses.append(assignment)
        case .netGateway:
            guard let value, let assignment = GatewayAssignment(parsing: value) else { return false }
            configuration.nicGateways.append(assignment)
        case .timeout:
            guard let value, let milliseconds = GuardOptions.timeoutMilliseconds(parsing: value) else { return false }
            configuration.guards.timeoutMilliseconds = milliseconds
        case .blockSectorSize:
            guard let value, let size = Solo5BlockSize(parsing: value) else { return false }
            configuration.blockSizes.append(size)
        case .env:
            guard let value, let variable = EnvironmentVariable(parsing: value) else { return false }
            configuration.environment.append(variable)
        }
        return true
    }

    /// The arguments that give `configuration` this option's part.
    public func arguments(for configuration: TenderConfiguration) -> [String] {
        switch self {
        case .mem: configuration.memorySize.map { [rawValue, ByteCount(bytes: $0).memorySpelling] } ?? []
        case .trace: configuration.trace ? [rawValue] : []
        case .disk: configuration.disks.filter { !$0.readOnly }.flatMap { [rawValue, $0.spec.description] }
        case .diskReadOnly: configuration.disks.filter { $0.readOnly }.flatMap { [rawValue, $0.spec.description] }
        case .diskSync: configuration.diskSync ? [rawValue] : []
        case .net: configuration.nics.flatMap { [rawValue, $0.description] }
        case .netMAC: configuration.nicMACs.flatMap { [rawValue, $0.description] }
        case .netIPv4: configuration.nicAddresses.flatMap { [rawValue, $0.description] }
        case .netGateway: configuration.nicGateways.flatMap { [rawValue, $0.description] }
        case .noNetOffload: configuration.noNetOffload ? [rawValue] : []
        case .timeout: configuration.guards.timeoutMilliseconds.map { [rawValue, GuardOptions.seconds(milliseconds: $0)] } ?? []
        case .core: configuration.guards.core ? [rawValue] : []
        case .blockSectorSize: configuration.blockSizes.flatMap { [rawValue, $0.description] }
        case .env: configuration.environment.flatMap { [rawValue, $0.description] }
        }
    }

    /// This process's arguments after the program name, read from argv
    /// directly: `CommandLine.arguments` costs more to build than the rest
    /// of the parse. Nil for an empty argv.
    public static func processArguments() -> [String]? {
        let count = Int(CommandLine.argc)
        guard count >= 1 else { return nil }  // execve with an empty argv
        var arguments: [String] = []
        arguments.reserveCapacity(count)
        for index in 1..<count {
            guard let argument = CommandLine.unsafeArgv[index] else { return nil }
            arguments.append(String(cString: argument))
        }
        return arguments
    }

    /// Parses this process's arguments with ``parse(_:)``.
    public static func parseProcessArguments() -> TenderConfiguration? {
        processArguments().flatMap { parse($0[...]) }
    }

    /// Parses `[options] IMAGE [guest arguments]` with this table alone; nil
    /// for anything else (help, completions, an unknown option, a bad value,
    /// no image), which the full parser handles and explains. Like
    /// ArgumentParser, a value may not begin with a dash.
    public static func parse(_ arguments: ArraySlice<String>) -> TenderConfiguration? {
        guard let (configuration, rest) = parseOptions(arguments), let image = rest.first else { return nil }
        var result = configuration
        result.imagePath = image
        result.guestArguments = Array(rest.dropFirst())
        return result
    }

    /// Parses `--policy [options] [IMAGE]`: the configuration whose policy
    /// to print (an empty image path if none is given); nil for anything
    /// else, as ``parse(_:)``.
    public static func parsePolicy(_ arguments: ArraySlice<String>) -> TenderConfiguration? {
        guard arguments.first == "--policy", let (configuration, rest) = parseOptions(arguments.dropFirst()),
              rest.count <= 1 else { return nil }
        var result = configuration
        result.imagePath = rest.first ?? ""
        return result
    }

    /// Applies the options up to the first argument that is not one; returns
    /// the configuration and the arguments from there on (the image, then
    /// the guest's), or nil for an unknown option or a bad value.
    private static func parseOptions(_ arguments: ArraySlice<String>) -> (TenderConfiguration, ArraySlice<String>)? {
        var configuration = TenderConfiguration(imagePath: "")
        var rest = arguments
        while let argument = rest.first, argument.hasPrefix("-") {
            rest = rest.dropFirst()
            // Solo5's spelling: `--` ends the options; the image follows.
            if argument == "--" { return (configuration, rest) }
            switch Solo5Option.apply(argument, to: &configuration) {
            case .applied: continue
            case .invalid: return nil
            case .notSolo5: break
            }
            let name: String, inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
                inline = nil
            }
            guard let option = RunOption(spelling: name) else { return nil }
            var value: String?
            if option.takesValue {
                value = inline ?? rest.first
                if inline == nil { rest = rest.dropFirst() }
                guard let given = value, !given.hasPrefix("-") else { return nil }
            } else if inline != nil {
                return nil
            }
            guard option.apply(value, to: &configuration) else { return nil }
        }
        return (configuration, rest)
    }
}
