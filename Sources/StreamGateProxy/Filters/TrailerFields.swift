import NIOHTTP1

/// Which upstream trailer fields reach the client (RFC 9110 section 6.5): end-to-end metadata such as a checksum
/// or gRPC's status pass; hop-by-hop fields, and those a trailer must not carry (framing, routing, content
/// handling, response control, authentication), are dropped, as are names only HTTP/2 allows (pseudo-fields).
enum TrailerFields {
    static let notAllowed: [String] = [
        "content-length", "content-type", "content-encoding", "content-range", "host", "cache-control", "expires",
        "date", "age", "vary", "location", "retry-after", "set-cookie", "www-authenticate", "authorization",
        "proxy-authenticate",
    ]

    /// The fields of `trailers` to forward; nil when none is left.
    static func forwardable(_ trailers: HTTPHeaders?) -> HTTPHeaders? {
        guard var fields = trailers, !fields.isEmpty else { return nil }
        HopByHopHeaders.strip(&fields)
        for name in notAllowed {
            fields.remove(name: name)
        }
        let pseudo = fields.map(\.name).filter { $0.hasPrefix(":") }
        for name in pseudo {
            fields.remove(name: name)
        }
        return fields.isEmpty ? nil : fields
    }
}
