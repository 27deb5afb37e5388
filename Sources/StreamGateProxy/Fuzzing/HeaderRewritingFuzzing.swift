import NIOCore
import NIOHTTP1

/// Fuzzing of header rewriting: the input spells header fields (`name:value` lines), which go through the
/// request and response rewriters; no hop-by-hop field may come out, and `X-Forwarded-*` are StreamGate's own.
enum HeaderRewritingFuzzing {
    static func run(_ bytes: [UInt8]) {
        var headers = HTTPHeaders()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            // Both parsers deliver only token names (RFC 9110 5.1); NIO's HTTPHeaders traps on anything else.
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else { continue }
            headers.add(name: name, value: value)
        }
        let listed = headers[canonicalForm: "connection"].map { $0.lowercased() }
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        let upstream = RequestHeaderRewriter(scheme: "https").upstreamHead(
            for: request,
            clientAddress: try? SocketAddress(ipAddress: "192.0.2.1", port: 1),
            bodyIsChunked: bytes.first.map { $0 & 1 == 1 } ?? false,
            stripAcceptEncoding: true
        )
        for name in HopByHopHeaders.alwaysRemoved where name != "transfer-encoding" {
            precondition(!upstream.headers.contains(name: name), "hop-by-hop \(name) forwarded upstream")
        }
        for name in listed where !name.hasPrefix("x-forwarded-") && name != "transfer-encoding" {
            precondition(!upstream.headers.contains(name: name), "field named in Connection forwarded: \(name)")
        }
        precondition(upstream.headers["x-forwarded-proto"] == ["https"], "X-Forwarded-Proto not StreamGate's")
        precondition(!upstream.headers.contains(name: "accept-encoding"), "Accept-Encoding kept on an event stream")

        let response = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
        let downstream = ResponseHeaderRewriter.downstreamHead(for: response)
        for name in HopByHopHeaders.alwaysRemoved {
            precondition(!downstream.headers.contains(name: name), "hop-by-hop \(name) sent to the client")
        }
        _ = EventStreamFilter.rewrite(downstream)
        _ = TrailerFields.forwardable(headers).map { trailers in
            precondition(!trailers.contains(name: "content-length"), "framing field in forwarded trailers")
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
