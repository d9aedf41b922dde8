// Solo5Option.swift: solo5-spt's command line, accepted as it is, so that
// scripts, Solo5's own test suite and runtimes such as urunc can call
// nabla-run where they call solo5-spt:
//
//   --net:NAME=TAP | --net:NAME=@FD     a NIC (nabla: --net NAME=TAP)
//   --net-mac:NAME=MAC                  its MAC (nabla: --net-mac NAME=MAC)
//   --block:NAME=PATH                   a disk (nabla: --disk NAME=PATH)
//   --block-sector-size:NAME=N          its block size (nabla: --block-sector-size NAME=N)
//   --mem=MiB                           RunOption's --mem (a bare number is MiB)
//   --                                  the end of the options (RunOption.parse)
//
// Each fills the same TenderConfiguration as its nabla spelling. ArgumentParser
// cannot declare a name inside an option's own spelling, so the fast path
// parses them, `translated` rewrites them into nabla's spelling for
// ArgumentParser's modes, and a malformed one is explained by
// `Solo5Option.problem(in:)`.

/// One of solo5-spt's device options.
public enum Solo5Option: String, CaseIterable, Sendable {
    case net = "--net:"
    case netMAC = "--net-mac:"
    case block = "--block:"
    case blockSectorSize = "--block-sector-size:"

    /// What applying an argument did.
    public enum Outcome: Equatable, Sendable {
        case applied
        /// A Solo5 option with a malformed value.
        case invalid
        /// Not a Solo5 option.
        case notSolo5
    }

    /// The option `argument` is spelled as, if any.
    public init?(argument: String) {
        // No spelling is a prefix of another (`--net:` vs `--net-mac:`).
        guard let option = Self.allCases.first(where: { argument.hasPrefix($0.rawValue) }) else { return nil }
        self = option
    }

    /// Applies `argument` to `configuration` if it is a Solo5 option.
    public static func apply(_ argument: String, to configuration: inout TenderConfiguration) -> Outcome {
        guard let option = Solo5Option(argument: argument) else { return .notSolo5 }
        let value = String(argument.dropFirst(option.rawValue.count))
        let spec = DeviceSpec(parsing: value)
        guard let name = spec.name, Self.isValidName(name), !spec.path.isEmpty else { return .invalid }
        switch option {
        case .net:
            configuration.nics.append(spec)
        case .netMAC:
            guard let assignment = MACAssignment(parsing: value) else { return .invalid }
            configuration.nicMACs.append(assignment)
        case .block:
            let index = configuration.disks.firstIndex { $0.readOnly } ?? configuration.disks.count
            configuration.disks.insert(DiskConfiguration(spec), at: index)
        case .blockSectorSize:
            guard let size = Solo5BlockSize(parsing: value) else { return .invalid }
            configuration.blockSizes.append(size)
        }
        return .applied
    }

    /// Solo5's device names: 1 to 67 of `A-Z a-z 0-9`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count < Int(SOLO5_MFT_NAME_SIZE)
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
    }

    /// One line saying what is wrong with the first malformed Solo5 option
    /// among the options in `arguments`, or nil if there is none.
    public static func problem(in arguments: ArraySlice<String>) -> String? {
        for argument in arguments {
            if argument == "--" || !argument.hasPrefix("-") { return nil }
            if argument == "--x-exec-heap" {
                return "--x-exec-heap is not supported: nabla-run never maps guest memory writable and executable"
            }
            guard let option = Solo5Option(argument: argument) else { continue }
            var scratch = TenderConfiguration(imagePath: "")
            if apply(argument, to: &scratch) == .invalid { return "malformed option '\(argument)': \(option.usage)" }
        }
        return nil
    }

    /// `arguments` with the options before the image in nabla's spelling
    /// (`--block:NAME=PATH` → `--disk NAME=PATH`), so that ArgumentParser
    /// and its modes (--policy, --audit, --gdb) accept them.
    public static func translated(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" || !argument.hasPrefix("-") { return result + arguments[index...] }
            let option = Solo5Option(argument: argument)
            let value = option.map { String(argument.dropFirst($0.rawValue.count)) } ?? ""
            switch option {
            case .block: result += ["--disk", value]
            case .net: result += ["--net", value]
            case .netMAC: result += ["--net-mac", value]
            case .blockSectorSize: result += [RunOption.blockSectorSize.rawValue, value]
            case nil: result.append(argument)
            }
            index += 1
        }
        return result
    }

    /// How the option is written.
    public var usage: String {
        switch self {
        case .net: "write --net:NAME=TAP or --net:NAME=@FD (NAME: letters and digits)"
        case .netMAC: "write --net-mac:NAME=MAC, such as --net-mac:service=02:00:00:00:00:01"
        case .block: "write --block:NAME=PATH (NAME: letters and digits)"
        case .blockSectorSize: "Block size must be a multiple of 2 greater than or equal 512: write --block-sector-size:NAME=N, N a power of two from 512 to 32768"
        }
    }
}

import CNablaTender
