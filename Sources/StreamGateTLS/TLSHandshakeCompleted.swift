/// Fired inbound by `TLSHandler` once the handshake succeeds: what was negotiated.
public struct TLSHandshakeCompleted: Sendable, Equatable {
    /// The ALPN protocol chosen (`h2`, `http/1.1`), or nil when the client sent no ALPN we share.
    public var alpnProtocol: String?
    /// The SNI name the client asked for, if any.
    public var serverName: String?
    /// `TLSv1.3`, `TLSv1.2`.
    public var protocolVersion: String
}

/// Fired inbound by `TLSHandler` when a handshake fails or times out, just before it closes the connection.
public struct TLSHandshakeFailed: Sendable, Equatable {
    /// OpenSSL's reason, or that the handshake timed out.
    public var reason: String
}
