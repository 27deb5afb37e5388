import NIOHTTP1

/// The hop-by-hop header rules of RFC 9110 section 7.6.1: which header fields belong to one connection only and
/// must not be forwarded by a proxy in either direction.
enum HopByHopHeaders {
    /// Fields that are always connection-specific, whatever `Connection` lists.
    static let alwaysRemoved: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes every hop-by-hop field: the fixed set and the names listed in `Connection`.
    static func strip(_ headers: inout HTTPHeaders) {
        for listed in headers[canonicalForm: "connection"] {
            headers.remove(name: String(listed))
        }
        for name in alwaysRemoved {
            headers.remove(name: name)
        }
    }
}
