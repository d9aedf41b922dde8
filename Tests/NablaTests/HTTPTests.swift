// The HTTP server guest (guests/httpd, on lwIP's sockets) end to end: a
// generated site archived with plain tar, fetched with curl and compared
// byte for byte; status codes; keep-alive; 64 concurrent keep-alive
// clients with ab; clients that misbehave. After the load the guest's
// /.stats must show no leaked socket and the heap back where it started.
// Also the iperf guest (lwiperf) against Debian's iperf2 client.
//
// Each test runs in a network namespace of its own (Support/Tap.swift):
// nabla-run, curl, ab and iperf run in it, and the test's own sockets are
// made in it. They need root and /dev/net/tun, and curl, ab (apache2-utils)
// and iperf (tools/install-deps); without them they fail saying so.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A generated site: its files (relative path → bytes) and its tar archive.
struct Site {
    let directory: String
    let files: [String: [UInt8]]
    let archive: String

    /// Files of every awkward kind: empty, one byte, several MB, nested,
    /// names with spaces and percent signs, a name over 100 bytes (a GNU
    /// long-name member), an index.html at the root and in a directory.
    static func make(in directory: String) throws -> Site {
        func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
        let long = String(repeating: "long-name-", count: 12) + ".txt"
        let files: [String: [UInt8]] = [
            "index.html": Array("<h1>nabla</h1>\n".utf8),
            "empty": [],
            "one": [0x2a],
            "big.bin": random(3 * 1024 * 1024 + 123),
            "docs/index.html": Array("<p>docs</p>\n".utf8),
            "docs/deeper/still/nested.txt": Array("nested\n".utf8),
            "with space/a b.txt": Array("spaces\n".utf8),
            "odd/100%.txt": Array("percent\n".utf8),
            "odd/" + long: random(700),
            "style.css": Array("body{}\n".utf8),
        ]
        let root = directory + "/site"
        for (path, bytes) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        let archive = directory + "/site.tar"
        let tar = try NetHost.tool("tar", package: "tar")
        let outcome = try run(tar, ["-cf", archive, "-C", root, "."])
        guard outcome.status == 0 else { throw HarnessError("tar failed: \(outcome)") }
        return Site(directory: directory, files: files, archive: archive)
    }

    /// The URL path of a file: every byte outside [A-Za-z0-9/._-] percent-encoded.
    static func urlPath(_ path: String) -> String {
        var out = "/"
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "-"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// httpd serving a site archive on a TAP in its own namespace.
final class HTTPServer {
    let tap: Tap
    let guest: RunningGuest
    var namespace: NetNamespace { tap.namespace }
    var base: String { "http://\(tap.guestAddress)" }

    init(archive: String, subnet: Int, idle: Int = 10) throws {
        tap = try Tap(subnet: subnet)
        guest = try RunningGuest(["--disk-readonly", archive, "--net", tap.name, "--net-mac", tap.guestMAC,
                                  try Paths.guest("httpd"), "--ipv4=\(tap.guestAddress)/24", "--idle=\(idle)"],
                                 in: tap.namespace)
        try guest.waitFor(" files on port 80")
    }

    /// Runs curl in the namespace.
    func curl(_ arguments: [String], timeout: Double = 30) throws -> Outcome {
        try namespace.run(try NetHost.tool("curl", package: "curl"), ["-s", "--max-time", "20"] + arguments, timeout: timeout)
    }

    /// The counters of GET /.stats ("key=N" pairs of both lines).
    func stats() throws -> [String: UInt64] {
        let outcome = try curl([base + "/.stats"])
        guard outcome.status == 0 else { throw HarnessError("GET /.stats failed: \(outcome)\n\(guest.stdout)") }
        return parseCounters(outcome.stdout)
    }

    /// Waits (up to 5 s) until the guest holds no connection but the one
    /// asking and its heap use is back to `heap`; returns the last stats.
    func settled(heap: UInt64) throws -> [String: UInt64] {
        var last = try stats()
        let deadline = Date().addingTimeInterval(5)
        while (last["sockets"] != 2 || last["heap_used"] != heap) && Date() < deadline {
            usleep(100_000)
            last = try stats()
        }
        return last
    }
}

/// A TCP client socket made in a namespace, with a receive timeout.
final class TCPClient {
    let fd: Int32

    init(to address: String, port: UInt16, in namespace: NetNamespace, timeout: Double = 5) throws {
        fd = try namespace.withEntered { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr = try inetAddress(address)
        let connected = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw HarnessError("connect \(address):\(port): \(message)")
        }
    }

    deinit { Glibc.close(fd) }

    /// Sends all of `text`; returns false if the connection failed.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Reads until the peer closes, `count` bytes have come, or the timeout:
    /// (bytes, closed by the peer).
    func receive(upTo count: Int = Int.max) -> ([UInt8], Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, min($0.count, count - data.count), 0) }
            if n == 0 { return (data, true) }
            if n < 0 { return (data, errno == ECONNRESET) }
            data += buffer[0..<n]
        }
        return (data, false)
    }

    /// Reads one response with a Content-Length body: (status line, body).
    func response() throws -> (String, [UInt8]) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1)
        while !(data.count >= 4 && data.suffix(4) == [13, 10, 13, 10]) {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, 1, 0) }
            guard n == 1 else { throw HarnessError("the connection ended inside a response's headers: \(String(decoding: data, as: UTF8.self))") }
            data.append(buffer[0])
        }
        let head = String(decoding: data, as: UTF8.self)
        guard let length = head.firstMatch(of: /Content-Length: (\d+)/).flatMap({ Int($0.1) }) else {
            throw HarnessError("no Content-Length in \(head)")
        }
        let (body, _) = receive(upTo: length)
        return (String(decoding: data.prefix { $0 != 13 }, as: UTF8.self), body)
    }

    /// Closes with a reset (SO_LINGER 0) instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }
}

@Suite("HTTP server guest")
struct HTTPTests {
    @Test("every file of a generated tar comes back byte for byte over one keep-alive connection", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func filesByteForByte() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 20)
            // One curl for all files: it reuses its connection (keep-alive).
            var arguments: [String] = []
            let paths = site.files.keys.sorted()
            for (i, path) in paths.enumerated() {
                arguments += ["-o", dir + "/got\(i)", server.base + Site.urlPath(path)]
            }
            let outcome = try server.curl(["--fail", "-w", "%{http_code} %{num_connects}\\n"] + arguments, timeout: 60)
            #expect(outcome.status == 0, "\(outcome)")
            let lines = outcome.stdout.split(separator: "\n")
            #expect(lines.count == paths.count && lines.allSatisfy { $0.hasPrefix("200 ") }, "\(outcome.stdout)")
            #expect(lines.dropFirst().allSatisfy { $0 == "200 0" }, "curl had to reconnect: \(outcome.stdout)")
            for (i, path) in paths.enumerated() {
                // curl writes no file at all for an empty body.
                let got = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/got\(i)"))).map { [UInt8]($0) }
                    ?? (site.files[path]!.isEmpty ? [] : nil)
                #expect(got == site.files[path], "\(path): \(got.map { "\($0.count) bytes" } ?? "nothing"), want \(site.files[path]!.count)")
            }
            // A directory serves its index.html; the type follows the extension.
            let docs = try server.curl(["-i", server.base + "/docs/"])
            #expect(docs.stdout.hasPrefix("HTTP/1.1 200 OK\r\n") && docs.stdout.hasSuffix("<p>docs</p>\n"), "\(docs)")
            #expect(docs.stdout.contains("Content-Type: text/html; charset=utf-8\r\n"), "\(docs)")
            let css = try server.curl(["-I", server.base + "/style.css"])
            #expect(css.stdout.contains("Content-Type: text/css\r\n") && css.stdout.contains("Content-Length: 7\r\n"), "\(css)")
            let root = try server.curl([server.base + "/"])
            #expect(root.stdout == "<h1>nabla</h1>\n", "\(root)")
        }
    }

    @Test("404 for a missing path, 405 for another method, 400 for malformed requests, HEAD without a body", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func statusCodes() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 21)
            func code(_ arguments: [String]) throws -> String {
                try server.curl(["-o", "/dev/null", "-w", "%{http_code}"] + arguments).stdout
            }
            #expect(try code([server.base + "/missing"]) == "404")
            #expect(try code([server.base + "/docs/deeper"]) == "404", "a directory without index.html")
            #expect(try code(["-X", "POST", "-d", "x=1", server.base + "/"]) == "405")
            #expect(try code(["-X", "DELETE", server.base + "/one"]) == "405")
            let allow = try server.curl(["-i", "-X", "PUT", server.base + "/one"])
            #expect(allow.stdout.contains("Allow: GET, HEAD\r\n"), "\(allow)")
            let head = try server.curl(["-i", "-I", server.base + "/big.bin"])
            #expect(head.stdout.contains("Content-Length: \(site.files["big.bin"]!.count)\r\n"), "\(head)")
            #expect(head.stdout.hasSuffix("\r\n\r\n"), "HEAD must have no body: \(head.stdout.suffix(40))")

            let malformed = ["GARBAGE\r\n\r\n", "GET /one HTTP/9.9\r\n\r\n", "GET /%zz HTTP/1.1\r\n\r\n",
                             "GET /%00 HTTP/1.1\r\n\r\n", "GET relative HTTP/1.1\r\n\r\n", "GET /one HTTP/1.1\r\nno colon\r\n\r\n",
                             "GET /../etc/passwd HTTP/1.1\r\n\r\n", "GET  /one HTTP/1.1\r\n\r\n"]
            for request in malformed {
                let client = try TCPClient(to: server.tap.guestAddress, port: 80, in: server.namespace)
                client.send(request)
                let (bytes, closed) = client.receive()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(request.debugDescription): \(text)")
                #expect(closed, "the connection must close after a 400: \(request.debugDescription)")
            }
            let counters = try server.stats()
            #expect(counters["bad"] == UInt64(malformed.count) && counters["not_found"] == 2 && counters["not_allowed"] == 3, "\(counters)")
        }
    }

    @Test("keep-alive: several requests on one connection, pipelined too; HTTP/1.0 and Connection: close end it", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func keepAlive() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 22)
            let client = try TCPClient(to: server.tap.guestAddress, port: 80, in: server.namespace)
            for path in ["one", "with space/a b.txt", "missing", "docs/deeper/still/nested.txt"] {
                client.send("GET \(Site.urlPath(path)) HTTP/1.1\r\nHost: guest\r\n\r\n")
                let (status, body) = try client.response()
                if let want = site.files[path] {
                    #expect(status == "HTTP/1.1 200 OK" && body == want, "\(path): \(status)")
                } else {
                    #expect(status == "HTTP/1.1 404 Not Found", "\(path): \(status)")
                }
            }
            // Three pipelined requests in one write, answered in order.
            client.send("GET /one HTTP/1.1\r\n\r\nHEAD /empty HTTP/1.1\r\n\r\nGET /style.css HTTP/1.1\r\n\r\n")
            #expect(try client.response().1 == site.files["one"])
            let (headStatus, headBody) = try client.response()
            #expect(headStatus == "HTTP/1.1 200 OK" && headBody.isEmpty)
            #expect(try client.response().1 == site.files["style.css"])

            for (request, why) in [("GET /one HTTP/1.0\r\n\r\n", "HTTP/1.0"),
                                   ("GET /one HTTP/1.1\r\nConnection: close\r\n\r\n", "Connection: close")] {
                let once = try TCPClient(to: server.tap.guestAddress, port: 80, in: server.namespace)
                once.send(request)
                let (bytes, closed) = once.receive()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.contains("Connection: close\r\n") && closed, "\(why): \(text)")
            }
            let ten = try TCPClient(to: server.tap.guestAddress, port: 80, in: server.namespace)
            ten.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try ten.response().1 == site.files["one"])
            ten.send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try ten.response().1 == site.files["one"], "HTTP/1.0 with keep-alive keeps the connection")
        }
    }

    @Test("64 concurrent keep-alive clients (ab -k -c 64): no failed request, no leak", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func concurrentClients() throws {
        let ab = try NetHost.tool("ab", package: "apache2-utils")
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 23)
            let before = try server.stats()
            let heap = try #require(before["heap_used"])
            for (path, requests) in [("/index.html", 20000), ("/odd/100%25.txt", 5000)] {
                let outcome = try server.namespace.run(ab, ["-k", "-c", "64", "-n", String(requests), "-s", "10",
                                                            server.base + path], timeout: 120)
                #expect(outcome.status == 0, "\(outcome)")
                #expect(outcome.stdout.contains("Complete requests:      \(requests)\n"), "\(outcome.stdout)")
                #expect(outcome.stdout.contains("Failed requests:        0\n"), "\(outcome.stdout)")
                #expect(outcome.stdout.contains("Keep-Alive requests:    \(requests)\n"), "\(outcome.stdout)")
                #expect(!outcome.stdout.contains("Non-2xx"), "\(outcome.stdout)")
            }
            let after = try server.settled(heap: heap)
            #expect(after["sockets"] == 2 && after["connections"] == 1, "open sockets after the load (the listener and this request): \(after)")
            #expect(after["heap_used"] == heap, "heap in use before \(heap), after \(after["heap_used"] ?? 0)")
            #expect(after["ok"].map { $0 >= 25000 } == true && after["refused"] == 0, "\(after)")
        }
    }

    @Test("after a second of 20,000 spoofed SYNs/s (sources no host answers ARP for), a client is served within 1 s",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func synFlood() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 26)
            let raw = try RawEthernetSocket(server.tap)
            let guestMAC = try parseMAC(server.tap.guestMAC)
            let guestIP = try ipv4Bytes(server.tap.guestAddress)
            // From .100-.199 of the TAP's subnet and a MAC no interface has,
            // each from a port of its own: 20,000 half-open connections.
            let floodMAC: [UInt8] = [0x02, 0, 0, 0x5f, 0x10, 0x0d]
            let frames: [[UInt8]] = (0..<20_000).map { (i: Int) -> [UInt8] in
                let source: [UInt8] = [10, 211, 26, UInt8(100 + i % 100)]
                let syn = Frame.tcpSYN(src: source, dst: guestIP, sport: UInt16(1024 + i / 100), dport: 80,
                                       seq: UInt32(i) &* 2654435761)
                let packet = Frame.ipv4(src: source, dst: guestIP, proto: 6, syn)
                return Frame.ethernet(dst: guestMAC, src: floodMAC, type: 0x0800, packet)
            }
            let start = Date()
            var sent = 0
            for (i, frame) in frames.enumerated() {
                // Paced at 20 a millisecond.
                if i % 20 == 0 { usleep(UInt32(max(0, start.addingTimeInterval(Double(i) / 20_000).timeIntervalSinceNow * 1e6))) }
                if raw.send(frame) == 0 { sent += 1 }
            }
            #expect(sent > 19_000, "only \(sent) SYNs were sent")
            let flooded = Date()
            let client: TCPClient
            do {
                client = try TCPClient(to: server.tap.guestAddress, port: 80, in: server.namespace, timeout: 1)
            } catch {
                Issue.record("no connection within 1 s after the flood: \(error)")
                return
            }
            client.send("GET /index.html HTTP/1.0\r\n\r\n")
            let (status, body) = try client.response()
            let served = Date().timeIntervalSince(flooded)
            #expect(status.hasSuffix(" 200 OK") && body == site.files["index.html"], "\(status)")
            #expect(served < 1, "served \(served) s after the flood (it took \(flooded.timeIntervalSince(start)) s)")
        }
    }

    @Test("bad clients: half a request, a 100 KB request line, trickling, resets mid-response; the guest stays up and leaks nothing", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func badClients() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let server = try HTTPServer(archive: site.archive, subnet: 24, idle: 1)
            let address = server.tap.guestAddress, namespace = server.namespace
            let before = try server.stats()
            let heap = try #require(before["heap_used"])

            // Half a request, then gone; and half a request, then silence:
            // closed by the guest after --idle=1.
            do {
                let gone = try TCPClient(to: address, port: 80, in: namespace)
                gone.send("GET /big.bin HT")
            }
            let silent = try TCPClient(to: address, port: 80, in: namespace)
            silent.send("GET /one HTTP/1.1\r\nHost: x")
            let start = Date()
            let (_, silentClosed) = silent.receive()
            #expect(silentClosed && Date().timeIntervalSince(start) < 3, "a silent half request is closed after the idle time")

            // A request line of 100 KB: 414, then closed.
            let long = try TCPClient(to: address, port: 80, in: namespace)
            long.send("GET /" + String(repeating: "a", count: 100 * 1024) + " HTTP/1.1\r\n\r\n")
            let (longBytes, longClosed) = long.receive()
            #expect(String(decoding: longBytes, as: UTF8.self).hasPrefix("HTTP/1.1 414 URI Too Long\r\n") && longClosed,
                    "\(String(decoding: longBytes.prefix(200), as: UTF8.self))")

            // Slowloris: a byte every 100 ms never completes a request within
            // the idle time, and meanwhile others are served.
            let slow = try TCPClient(to: address, port: 80, in: namespace)
            var cut = false
            let request = Array("GET /one HTTP/1.1\r\nHost: trickle\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n".utf8)
            for (i, byte) in request.enumerated() where !cut {
                cut = !slow.send([byte])
                if i == 3 {
                    #expect(try server.curl([server.base + "/one"]).stdout == "*", "served while another client trickles")
                }
                usleep(100_000)
            }
            let (slowBytes, slowClosed) = slow.receive()
            #expect((cut || slowClosed) && slowBytes.isEmpty, "a trickled request must be cut off, not answered: \(slowBytes.count) bytes")

            // Resets in the middle of a 3 MB response, ten times.
            for _ in 0..<10 {
                let reader = try TCPClient(to: address, port: 80, in: namespace)
                reader.send("GET /big.bin HTTP/1.1\r\n\r\n")
                let (first, _) = reader.receive(upTo: 100_000)
                #expect(first.count == 100_000)
                reader.reset()
            }

            // Still serving, every connection gone, the heap back.
            let big = try server.curl(["-o", dir + "/big", "-w", "%{http_code}", server.base + "/big.bin"])
            #expect(big.stdout == "200" && (try? Data(contentsOf: URL(fileURLWithPath: dir + "/big"))).map { [UInt8]($0) } == site.files["big.bin"])
            let after = try server.settled(heap: heap)
            #expect(after["sockets"] == 2 && after["connections"] == 1, "\(after)")
            #expect(after["heap_used"] == heap, "heap in use before \(heap), after \(after["heap_used"] ?? 0)")
            #expect(after["too_long"] == 1 && after["timeouts"].map { $0 >= 2 } == true, "\(after)")
            #expect(server.guest.child.isRunning, "the guest died: \(server.guest.stdout)\(server.guest.stderr)")
        }
    }

    @Test("bad httpd arguments and a disk that is not a tar archive are refused", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func badArguments() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let junk = dir + "/junk.img"
            try Data((0..<4096).map { _ in UInt8.random(in: 1...255) }).write(to: URL(fileURLWithPath: junk))
            let cases: [([String], String)] = [
                (["--disk-readonly", site.archive, try Paths.guest("httpd"), "--ipv4=10.0.0.2/24", "--port=0"], "bad argument '--port=0'"),
                (["--disk-readonly", site.archive, try Paths.guest("httpd"), "--ipv4=10.0.0.2/24", "--idle=x"], "bad argument '--idle=x'"),
                ([try Paths.guest("httpd"), "--ipv4=10.0.0.2/24"], "no disk"),
                (["--disk-readonly", junk, try Paths.guest("httpd"), "--ipv4=10.0.0.2/24"], "not a tar archive"),
                (["--disk-readonly", site.archive, try Paths.guest("httpd")], "no address"),
            ]
            for (arguments, message) in cases {
                let outcome = try nablaRun(arguments)
                #expect(outcome.status == 2 && outcome.stdout.contains(message), "\(arguments): \(outcome)")
            }
        }
    }
}

@Suite("iperf guest")
struct IperfTests {
    @Test("Debian's iperf2 client moves data to the lwiperf guest for 3 s", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func bulkTransfer() throws {
        let iperf = try NetHost.tool("iperf", package: "iperf")
        let tap = try Tap(subnet: 25)
        let guest = try RunningGuest(["--net", tap.name, "--net-mac", tap.guestMAC, try Paths.guest("iperf"),
                                      "--ipv4=\(tap.guestAddress)/24", "--sessions=1"], in: tap.namespace)
        try guest.waitFor("iperf: ready on port 5001")
        let client = try tap.namespace.run(iperf, ["-c", tap.guestAddress, "-t", "3", "-f", "m"], timeout: 30)
        #expect(client.status == 0, "\(client)")
        let rate = client.stdout.firstMatch(of: /([0-9.]+) Mbits\/sec/).flatMap { Double($0.1) }
        #expect(rate.map { $0 > 10 } == true, "the client's rate: \(client.stdout)")
        #expect(try guest.finish() == 0, "\(guest.stdout)")
        let line = try #require(guest.stdout.split(separator: "\n").first { $0.hasPrefix("iperf: session from \(tap.hostAddress):") },
                                "\(guest.stdout)")
        let counters = parseCounters(String(line))
        #expect(line.hasSuffix("(done)") && counters["ms"].map { $0 >= 2900 } == true, "\(line)")
        #expect(counters["bytes"].map { $0 > 10_000_000 } == true, "\(line)")
        #expect(guest.stdout.contains("tcp.chkerr=0"), "\(guest.stdout)")
    }
}
