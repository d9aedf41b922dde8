// CommandLine.swift: runc's command line, for the commands and flags that
// conmon (podman) and containerd's runc shim call. Flags take `--flag
// VALUE`, `--flag=VALUE` and the single-dash forms, as runc's parser does.

import Glibc

/// Options before the command.
struct GlobalOptions {
    var root = StateStore.defaultRoot
    var logPath: String?
    var logFormat = LogFormat.text
    var systemdCgroup = false
    /// False with --tender-seccomp=unconfined: the tender runs without the
    /// profile init loads around it (TenderFilter.swift), under its own
    /// guest-phase filter only. An operator's choice: a bundle or an image
    /// cannot make it.
    var confinesTender = true
}

/// How --log lines are written.
enum LogFormat: String {
    case text, json
}

/// The operands of create (and run).
struct CreateOptions {
    var id: String
    /// Absolute.
    var bundle: String
    var pidFile: String?
    var consoleSocket: String?
}

/// A parsed command.
enum Command {
    case create(CreateOptions)
    /// create, start, wait for the guest, delete; exits with the guest's status.
    case run(CreateOptions)
    case start(id: String)
    case state(id: String)
    /// `all`: no error if the container is not running (runc's --all).
    case kill(id: String, signal: Int32, all: Bool)
    /// The container's processes: the tender alone.
    case ps(id: String, json: Bool)
    case delete(id: String, force: Bool)
    /// Writes a template config.json for a nabla guest into the bundle.
    case spec(bundle: String)
    case features
    /// The seccomp profile init loads around the tender: the OCI JSON, or
    /// (`bpf`) the compiled classic-BPF program.
    case tenderProfile(bpf: Bool)
    case version
    case help
    /// The container's first process, started by create (not for users).
    case initProcess(syncFD: Int32)
    /// A runc command a unikernel cannot support; refused with the reason.
    case refused(name: String, reason: String)
}

/// The parser.
struct RuncCommandLine {
    static let usage = """
        usage: nabla-runc [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup]
                          [--tender-seccomp default|unconfined] COMMAND
          create [--bundle DIR] [--pid-file FILE] [--console-socket PATH] ID
          run [--bundle DIR] [--pid-file FILE] ID      create, start, wait, delete
          start ID
          state ID
          kill [--all] ID [SIGNAL]
          ps [--format table|json] ID
          delete [--force] ID
          spec [--bundle DIR]                           write a template DIR/config.json
          features
          tender-profile [--bpf]                        the seccomp profile around the tender (JSON, or compiled)
          --version
        nabla-runc is an OCI runtime for nabla unikernels (docs/oci.md).
        """

    static let refusals: [String: String] = [
        "exec": "a nabla container is one unikernel: there is no second process to start in it",
        "pause": "a nabla guest cannot be frozen and thawed by nabla-runc",
        "resume": "a nabla guest cannot be frozen and thawed by nabla-runc",
        "update": "resources are fixed when a nabla guest starts (its memory is mapped once)",
        "checkpoint": "checkpoint and restore are not supported for nabla guests",
        "restore": "checkpoint and restore are not supported for nabla guests",
        "events": "nabla-runc reports no events",
        "list": "list the folders in --root instead",
    ]

    private var arguments: [String]
    private(set) var options = GlobalOptions()

    init(_ arguments: [String]) { self.arguments = arguments }

    /// Parses the whole command line.
    mutating func parse() throws(RuncError) -> Command {
        while let first = arguments.first, first.hasPrefix("-") {
            let (name, inline) = split(first)
            arguments.removeFirst()
            switch name {
            case "root": options.root = FileSystem.absolute(try value(name, inline))
            case "log": options.logPath = try value(name, inline)
            case "log-format":
                let text = try value(name, inline)
                guard let format = LogFormat(rawValue: text) else { throw .usage("--log-format must be text or json, not '\(text)'") }
                options.logFormat = format
            case "systemd-cgroup": options.systemdCgroup = try flag(name, inline)
            case "tender-seccomp":
                let text = try value(name, inline)
                guard text == "default" || text == "unconfined" else { throw .usage("--tender-seccomp must be default or unconfined, not '\(text)'") }
                options.confinesTender = text == "default"
            case "debug": _ = try flag(name, inline)
            case "rootless":
                let text = try value(name, inline)
                guard text == "false" || text == "auto" else {
                    throw .unsupported("--rootless=\(text): nabla-runc runs as root only (rootless podman is not supported)")
                }
            case "criu": _ = try value(name, inline)
            case "version", "v": return .version
            case "help", "h": return .help
            default: throw .usage("unknown global option '\(first)' (nabla-runc --help lists them)")
            }
        }
        guard let command = arguments.first else { throw .usage("no command given\n" + Self.usage) }
        arguments.removeFirst()
        switch command {
        case "create": return .create(try parseCreate())
        case "run":
            let options = try parseCreate()
            guard options.consoleSocket == nil else { throw .usage("run: --console-socket is for create; run uses its own terminal") }
            return .run(options)
        case "start": return .start(id: try onlyID(command))
        case "state": return .state(id: try onlyID(command))
        case "kill": return try parseKill()
        case "ps": return try parsePs()
        case "delete": return try parseDelete()
        case "spec": return try parseSpec()
        case "features":
            guard arguments.isEmpty else { throw .usage("features takes no arguments") }
            return .features
        case "tender-profile":
            guard arguments.isEmpty || arguments == ["--bpf"] else { throw .usage("tender-profile takes only --bpf") }
            return .tenderProfile(bpf: !arguments.isEmpty)
        case "init":
            guard arguments.count == 1, let fd = Int32(arguments[0]), fd > 2 else { throw .usage("init is started by create, not by hand") }
            return .initProcess(syncFD: fd)
        case "help": return .help
        default:
            if let reason = Self.refusals[command] { return .refused(name: command, reason: reason) }
            throw .usage("unknown command '\(command)' (nabla-runc --help lists them)")
        }
    }

    private mutating func parseCreate() throws(RuncError) -> CreateOptions {
        var bundle = ".", pidFile: String?, consoleSocket: String?
        var ids: [String] = []
        while let argument = arguments.first {
            arguments.removeFirst()
            guard argument.hasPrefix("-") && argument != "-" else { ids.append(argument); continue }
            let (name, inline) = split(argument)
            switch name {
            case "bundle", "b": bundle = try value(name, inline)
            case "pid-file": pidFile = try value(name, inline)
            case "console-socket": consoleSocket = try value(name, inline)
            case "no-pivot", "no-new-keyring": _ = try flag(name, inline)
            case "preserve-fds":
                let count = try value(name, inline)
                guard count == "0" else { throw .unsupported("--preserve-fds \(count): a nabla guest cannot use inherited descriptors") }
            case "pidfd-socket": throw .unsupported("--pidfd-socket is not supported")
            default: throw .usage("create: unknown option '\(argument)'")
            }
        }
        guard ids.count == 1 else { throw .usage("create needs exactly one container id, got \(ids.count)") }
        try StateStore.check(id: ids[0])
        return CreateOptions(id: ids[0], bundle: FileSystem.absolute(bundle), pidFile: pidFile.map(FileSystem.absolute),
                             consoleSocket: consoleSocket.map(FileSystem.absolute))
    }

    private mutating func parseSpec() throws(RuncError) -> Command {
        var bundle = "."
        while let argument = arguments.first {
            arguments.removeFirst()
            let (name, inline) = split(argument)
            guard argument.hasPrefix("-"), name == "bundle" || name == "b" else { throw .usage("usage: nabla-runc spec [--bundle DIR]") }
            bundle = try value(name, inline)
        }
        return .spec(bundle: FileSystem.absolute(bundle))
    }

    private mutating func parsePs() throws(RuncError) -> Command {
        var json = false
        var ids: [String] = []
        while let argument = arguments.first {
            arguments.removeFirst()
            guard argument.hasPrefix("-") else { ids.append(argument); continue }
            let (name, inline) = split(argument)
            guard name == "format" || name == "f" else { throw .usage("ps: unknown option '\(argument)' (ps arguments for the process are not supported)") }
            let format = try value(name, inline)
            guard format == "json" || format == "table" else { throw .usage("ps --format must be table or json, not '\(format)'") }
            json = format == "json"
        }
        guard ids.count == 1 else { throw .usage("usage: nabla-runc ps [--format table|json] ID") }
        try StateStore.check(id: ids[0])
        return .ps(id: ids[0], json: json)
    }

    private mutating func parseKill() throws(RuncError) -> Command {
        var positional: [String] = []
        var all = false
        while let argument = arguments.first {
            arguments.removeFirst()
            if argument.hasPrefix("-") && argument.count > 1 && !argument.dropFirst().allSatisfy(\.isNumber) {
                let (name, inline) = split(argument)
                guard name == "all" || name == "a" else { throw .usage("kill: unknown option '\(argument)'") }
                all = try flag(name, inline)
            } else {
                positional.append(argument)
            }
        }
        guard positional.count == 1 || positional.count == 2 else { throw .usage("usage: nabla-runc kill [--all] ID [SIGNAL]") }
        try StateStore.check(id: positional[0])
        let signal = try positional.count == 2 ? Signals.parse(positional[1]) : SIGTERM
        return .kill(id: positional[0], signal: signal, all: all)
    }

    private mutating func parseDelete() throws(RuncError) -> Command {
        var force = false
        var ids: [String] = []
        while let argument = arguments.first {
            arguments.removeFirst()
            guard argument.hasPrefix("-") else { ids.append(argument); continue }
            let (name, inline) = split(argument)
            guard name == "force" || name == "f" else { throw .usage("delete: unknown option '\(argument)'") }
            force = try flag(name, inline)
        }
        guard ids.count == 1 else { throw .usage("delete needs exactly one container id, got \(ids.count)") }
        try StateStore.check(id: ids[0])
        return .delete(id: ids[0], force: force)
    }

    private mutating func onlyID(_ command: String) throws(RuncError) -> String {
        guard arguments.count == 1, !arguments[0].hasPrefix("-") else { throw .usage("usage: nabla-runc \(command) ID") }
        try StateStore.check(id: arguments[0])
        return arguments[0]
    }

    /// "--name=value" → ("name", "value"); "-name" → ("name", nil).
    private func split(_ argument: String) -> (String, String?) {
        let body = argument.drop { $0 == "-" }
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }

    private mutating func value(_ name: String, _ inline: String?) throws(RuncError) -> String {
        if let inline { return inline }
        guard let next = arguments.first else { throw .usage("--\(name) needs a value") }
        arguments.removeFirst()
        return next
    }

    private func flag(_ name: String, _ inline: String?) throws(RuncError) -> Bool {
        switch inline {
        case nil, "true": return true
        case "false": return false
        default: throw .usage("--\(name) takes no value other than true or false")
        }
    }
}

/// Signal names and numbers, as `kill` takes them.
enum Signals {
    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV,
        "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT,
        "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN,
        "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM,
        "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    /// "TERM", "SIGTERM", "term" or "15".
    static func parse(_ text: String) throws(RuncError) -> Int32 {
        if let number = Int32(text) {
            guard number > 0 && number <= 64 else { throw .usage("signal \(text) is out of range 1-64") }
            return number
        }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let number = names[name] else { throw .usage("unknown signal '\(text)' (give a name such as TERM or a number)") }
        return number
    }
}
