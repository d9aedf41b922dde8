// Runner.swift: runs the guests N at a time and collects their output,
// in one thread: a poll loop over the children's pipes.

#if canImport(Glibc)
import Glibc
#endif

/// Runs every guest of `options` and calls `finished` as each one ends.
struct Runner {
    let options: Options
    /// nabla-run's path (unused with --native).
    let nablaRun: String
    /// At most this much of each stream is kept for the report; the TAP
    /// on standard output is parsed from all of it.
    static let outputLimit = 1 << 20
    /// With nabla-run, its own --timeout stops the guest (status 124);
    /// nabla-test kills it only if it is still there this much later.
    static let killGrace = 5.0

    private struct Running {
        var index: Int
        var process: SpawnedProcess
        var started: UInt64
        var deadline: UInt64
        var killed = false
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var tap = TAPReport()
        var diskCopies: [String]
    }

    /// Returns the signal that stopped the run early (its guests killed,
    /// its disk copies removed), or nil when every guest ran.
    func run(finished: (GuestResult) -> Void) throws(HostError) -> Int32? {
        let copies = options.disks.isEmpty ? nil : try DiskCopies()
        defer { copies?.remove() }
        var next = 0
        var running: [Running] = []
        while next < options.guests.count || !running.isEmpty {
            while running.count < options.jobs && next < options.guests.count {
                do {
                    running.append(try start(next, copies))
                } catch {
                    // Leave no guest running behind the error.
                    stopAll(running)
                    throw error
                }
                next += 1
            }
            wait(&running)
            if let signal = Interruption.signal {
                stopAll(running)
                return signal
            }
            var index = 0
            while index < running.count {
                if running[index].process.stdoutFD < 0 && running[index].process.stderrFD < 0 {
                    let done = running.remove(at: index)
                    copies?.discard(done.diskCopies)
                    finished(result(of: done))
                } else {
                    index += 1
                }
            }
        }
        return nil
    }

    private func stopAll(_ running: [Running]) {
        for child in running {
            child.process.kill()
            _ = child.process.waitForExit()
        }
    }

    private func start(_ index: Int, _ copies: DiskCopies?) throws(HostError) -> Running {
        let guest = options.guests[index]
        var arguments: [String]
        var paths: [String] = []
        if options.native {
            arguments = [guest] + options.guestArguments
        } else {
            let disks = try copies?.copies(of: options.disks, forGuest: index)
            paths = disks?.paths ?? []
            arguments = [nablaRun, "--timeout", "\(options.timeout)"] + options.passThrough + (disks?.options ?? [])
                + [guest] + options.guestArguments
        }
        let now = monotonicNanoseconds()
        let allowed = options.timeout + (options.native ? 0 : Self.killGrace)
        let process = try SpawnedProcess.spawn(arguments)
        return Running(index: index, process: process, started: now,
                       deadline: now + UInt64(allowed * 1e9), diskCopies: paths)
    }

    /// Waits until some output arrives, a stream ends or a deadline passes;
    /// reads what arrived and kills what ran out of time.
    private func wait(_ running: inout [Running]) {
        var fds: [pollfd] = []
        var owners: [(Int, Bool)] = []  // (index in running, is stdout)
        for (index, child) in running.enumerated() {
            if child.process.stdoutFD >= 0 {
                fds.append(pollfd(fd: child.process.stdoutFD, events: Int16(POLLIN), revents: 0))
                owners.append((index, true))
            }
            if child.process.stderrFD >= 0 {
                fds.append(pollfd(fd: child.process.stderrFD, events: Int16(POLLIN), revents: 0))
                owners.append((index, false))
            }
        }
        let now = monotonicNanoseconds()
        let earliest = running.map(\.deadline).min() ?? now
        let milliseconds = earliest > now ? Int32(min((earliest - now) / 1_000_000 + 1, 60_000)) : 0
        let ready = poll(&fds, nfds_t(fds.count), milliseconds)
        if ready > 0 {
            for (slot, pollFD) in fds.enumerated() where pollFD.revents != 0 {
                let (index, isStdout) = owners[slot]
                guard let bytes = readAvailable(pollFD.fd) else {
                    close(pollFD.fd)
                    if isStdout { running[index].process.stdoutFD = -1 } else { running[index].process.stderrFD = -1 }
                    continue
                }
                if isStdout {
                    running[index].tap.consume(bytes)
                    Self.keep(bytes, in: &running[index].stdout)
                } else {
                    Self.keep(bytes, in: &running[index].stderr)
                }
            }
        }
        let later = monotonicNanoseconds()
        for index in running.indices where !running[index].killed && later >= running[index].deadline {
            running[index].process.kill()
            running[index].killed = true
        }
    }

    /// Appends what fits of `bytes` under `outputLimit`.
    private static func keep(_ bytes: ArraySlice<UInt8>, in buffer: inout [UInt8]) {
        buffer += bytes.prefix(max(0, outputLimit - buffer.count))
    }

    private func result(of child: Running) -> GuestResult {
        let status = child.process.waitForExit()
        let seconds = Double(monotonicNanoseconds() - child.started) / 1e9
        let path = options.guests[child.index]
        var tap = child.tap
        tap.finish()
        return GuestResult(name: Self.name(of: path), path: path, status: status, killed: child.killed,
                           seconds: seconds, timeout: options.timeout,
                           stdout: String(decoding: child.stdout, as: UTF8.self),
                           stderr: String(decoding: child.stderr, as: UTF8.self), tap: tap)
    }

    /// "dir/app.nabla" is "app".
    static func name(of path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return file.hasSuffix(".nabla") ? String(file.dropLast(6)) : file
    }
}
