import NIOHTTP1

/// A client's request head as received on one HTTP/2 stream (RFC 9113 section 8.3.1): the pseudo-header fields
/// and the regular fields, in arrival order.
public struct HTTP2RequestHead: Sendable {
    public var method: String = ""
    public var scheme: String = ""
    public var authority: String?
    public var path: String = ""
    /// `:protocol` of an extended CONNECT (RFC 8441), e.g. `websocket`.
    public var extendedProtocol: String?
    public var headers = HTTPHeaders()
    /// True when the HEADERS frame carried END_STREAM: the request has no body.
    public var endStream = false
    /// Set when the header list was larger than the connection takes: the fields past the limit were dropped and
    /// the request must be answered 431.
    public var headerListTooLarge = false

    public init() {}
}
