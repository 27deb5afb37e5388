import NIOCore
import NIOHTTP1

/// Builds the request head StreamGate sends upstream from the one a client sent: hop-by-hop fields removed,
/// `X-Forwarded-For` appended, `X-Forwarded-Proto` and `X-Forwarded-Host` set, `Host` passed through.
struct RequestHeaderRewriter {
    /// `http` or `https`: the scheme the client used to reach StreamGate.
    var scheme: String

    /// The head to send upstream for `head`, which arrived from `clientAddress`. `bodyIsChunked` tells whether the
    /// client framed its body with chunked coding, which StreamGate re-frames the same way upstream.
    /// `stripAcceptEncoding` removes `Accept-Encoding` (event-stream requests: a compressed stream is buffered).
    func upstreamHead(
        for head: HTTPRequestHead,
        clientAddress: SocketAddress?,
        bodyIsChunked: Bool,
        stripAcceptEncoding: Bool = false
    ) -> HTTPRequestHead {
        var headers = head.headers
        HopByHopHeaders.strip(&headers)
        if stripAcceptEncoding {
            headers.remove(name: "accept-encoding")
        }
        if bodyIsChunked {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        if let ip = clientAddress?.ipAddress {
            if let previous = headers.first(name: "x-forwarded-for") {
                headers.replaceOrAdd(name: "x-forwarded-for", value: previous + ", " + ip)
            } else {
                headers.add(name: "x-forwarded-for", value: ip)
            }
        }
        headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        if let host = headers.first(name: "host") {
            headers.replaceOrAdd(name: "x-forwarded-host", value: host)
        } else {
            headers.remove(name: "x-forwarded-host")
        }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }
}
