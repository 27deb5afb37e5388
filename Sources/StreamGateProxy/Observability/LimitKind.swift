/// Which configured limit a client ran into: the `limit` label of `streamgate_limit_hits_total`.
public enum LimitKind: String, Sendable, CaseIterable {
    /// `listeners[].max_connections`: the connection was refused.
    case maxConnections = "max_connections"
    /// `limits.max_header_bytes`: 431.
    case maxHeaderBytes = "max_header_bytes"
    /// `limits.header_timeout`: 408.
    case headerTimeout = "header_timeout"
    /// `routes[].max_request_body`: 413 or the stream cut.
    case maxRequestBody = "max_request_body"
    /// `limits.slow_consumer_timeout`: the stream ended.
    case slowConsumer = "slow_consumer"
    /// HTTP/2 flood limits (rapid reset, PING/SETTINGS/CONTINUATION floods): GOAWAY ENHANCE_YOUR_CALM.
    case http2Flood = "http2_flood"
}
