// echo-swift: a TCP echo server in Embedded Swift, on NablaNetwork.
//
//   echo-swift --ipv4=ADDR/PREFIX [--gw=ADDR]
//
// Listens on port 7, echoes one connection until the peer closes it, then
// exits 0. Prints "echo-swift: ready" once it listens.

import NablaGuest
import NablaNetwork

@_cdecl("main")
public func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    do throws(NetworkError) {
        try Network.start()
        let listener = try TCPListener(port: 7)
        print("echo-swift: ready")
        let connection = try listener.accept()
        var echoed = 0
        while true {
            let bytes = try connection.receive()
            if bytes.isEmpty { break }
            try connection.send(bytes)
            echoed += bytes.count
        }
        connection.close()
        Network.flush(milliseconds: 2000)  // the last segments and the FIN go out
        print("echo-swift: echoed \(echoed) bytes")
        return 0
    } catch {
        print("echo-swift: a network call failed, errno \(error.code)")
        return 1
    }
}
