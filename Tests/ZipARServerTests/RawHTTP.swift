import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Raw HTTP/1.1 over loopback sockets, for what a test client hides: pipelining, a client that hangs up,
/// many connections at once. And reading `/metrics`.

/// Sends `request` on a fresh TCP connection to 127.0.0.1:`port` and returns the first response (head and
/// Content-Length bytes of body), or what came before the server closed the connection or 10 minutes passed (sanitizers are slow).
func rawExchange(port: Int, _ request: String) throws -> String {
    let fd = try rawSend(port: port, request)
    defer { close(fd) }
    var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += buffer[0..<n]
        let text = String(decoding: received, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { continue }
        let head = text[..<end.lowerBound].lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
        if let length, text[end.upperBound...].utf8.count >= length { break }
    }
    return String(decoding: received, as: UTF8.self)
}

/// A TCP connection to 127.0.0.1:`port` (reads time out after 10 minutes) with `request` sent on it.
func rawSend(port: Int, _ request: String) throws -> Int32 {
    #if os(Linux)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var timeout = timeval(tv_sec: 600, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    let bytes = Array(request.utf8)
    guard connected == 0, bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    return fd
}

/// A POST of `json` to the generation route, as raw HTTP/1.1.
func rawGenerationRequest(_ json: String) -> String {
    "POST /v1/images/generations HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(json.utf8.count)\r\n\r\n" + json
}

/// The value of the sample `name{labels}` (labels in the order they were given) in Prometheus text, or nil.
func sample(_ text: String, _ name: String, _ labels: [(String, String)] = []) -> Double? {
    let key = labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
        return Double(line.dropFirst(key.count + 1))
    }
    return nil
}
