import NIOHTTP1

/// Prepares an upstream response head for the client: hop-by-hop fields removed, framing left for the downstream
/// encoder to choose.
enum ResponseHeaderRewriter {
    static func downstreamHead(for head: HTTPResponseHead) -> HTTPResponseHead {
        var headers = head.headers
        HopByHopHeaders.strip(&headers)
        return HTTPResponseHead(version: head.version, status: head.status, headers: headers)
    }
}
