// Network.swift: TCP for Embedded Swift guests, over the library OS's
// socket API (guests/net: lwIP in the guest's one thread).
//
// `import NablaNetwork`, start the stack with the guest's network arguments
// (--ipv4=ADDR/PREFIX, --gw=ADDR, as for C guests: docs/network-stack.md),
// then listen, accept, receive and send. Calls block, and run the network
// loop while they wait.

import NablaGuest
import NablaNetC

/// A failed network call: which one, and the errno the socket API set.
public struct NetworkError: Error {
    /// The call that failed: "socket", "bind", "accept", ...
    public let operation: StaticString
    /// Its errno (<errno.h>'s values), or 0 for a bad network argument.
    public let code: Int32
}

/// The guest's network stack.
public enum Network {
    /// Takes the network arguments out of `arguments` (the others are the
    /// guest's own) and brings up every NIC with its address. Returns the
    /// arguments that were not the network's.
    @discardableResult
    public static func start(arguments: [String] = CommandLine.arguments) throws(NetworkError) -> [String] {
        var rest: [String] = []
        for argument in arguments.dropFirst() {
            let taken = argument.withCString { nabla_net_arg($0) }
            if taken < 0 { throw NetworkError(operation: "argument", code: 0) }
            if taken == 0 { rest.append(argument) }
        }
        guard nabla_net_start() == 0 else { throw NetworkError(operation: "start", code: 0) }
        return rest
    }

    /// Runs the network loop until every TCP connection has sent its data,
    /// had it acknowledged and had its close answered, or `milliseconds`
    /// pass (`nabla_net_flush`). True when everything went out. A guest
    /// about to return from `main` calls it after its last send or close:
    /// the stack runs only while the guest does.
    @discardableResult
    public static func flush(milliseconds: UInt64) -> Bool {
        nabla_net_flush(milliseconds) == 0
    }

    /// Runs the network loop for `milliseconds`: what is still queued goes
    /// out, closing handshakes finish. A guest that is about to return from
    /// `main` calls it after its last send, since the stack runs only while
    /// the guest does.
    public static func run(milliseconds: UInt64) {
        let deadline = nabla_clock_monotonic() &+ milliseconds &* 1_000_000
        while nabla_clock_monotonic() < deadline {
            if nabla_net_wait(deadline) < 0 { return }
        }
    }
}

/// The errno the socket API set.
private func lastError(_ operation: StaticString) -> NetworkError {
    NetworkError(operation: operation, code: nabla_net_errno())
}

/// A listening TCP socket.
public struct TCPListener: ~Copyable {
    private let fd: Int32

    /// Listens on `port` on every address of the guest.
    public init(port: UInt16, backlog: Int32 = 8) throws(NetworkError) {
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        guard fd >= 0 else { throw lastError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = 0  // INADDR_ANY
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let error = lastError("bind")
            _ = nabla_net_close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = lastError("listen")
            _ = nabla_net_close(fd)
            throw error
        }
        self.fd = fd
    }

    /// Waits for the next connection.
    public func accept() throws(NetworkError) -> TCPConnection {
        let connection = NablaNetC.accept(fd, nil, nil)
        guard connection >= 0 else { throw lastError("accept") }
        return TCPConnection(fd: connection)
    }

    deinit { _ = nabla_net_close(fd) }
}

/// One TCP connection.
public struct TCPConnection: ~Copyable {
    private let fd: Int32

    fileprivate init(fd: Int32) { self.fd = fd }

    /// Up to `count` bytes, waiting for at least one; empty when the peer
    /// has closed its side.
    public func receive(upTo count: Int = 4096) throws(NetworkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw lastError("recv") }
        return Array(buffer[0..<n])
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws(NetworkError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { NablaNetC.send(fd, $0.baseAddress! + done, $0.count - done, 0) }
            guard n > 0 else { throw lastError("send") }
            done += n
        }
    }

    /// Sends `text` as UTF-8.
    public func send(_ text: String) throws(NetworkError) {
        try send(Array(text.utf8))
    }

    /// Closes the connection (its queued data still goes out while the
    /// network loop runs).
    public consuming func close() {
        // deinit closes the descriptor.
    }

    deinit { _ = nabla_net_close(fd) }
}
