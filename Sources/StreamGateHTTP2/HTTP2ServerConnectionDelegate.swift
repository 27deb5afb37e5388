/// The application side of an HTTP/2 server connection: told of every new client stream once its request head is
/// complete. Called on the connection's event loop, possibly from inside nghttp2's processing.
public protocol HTTP2ServerConnectionDelegate: AnyObject {
    func http2StreamOpened(_ stream: HTTP2ServerStream, head: HTTP2RequestHead)
    /// A user event reached the connection that HTTP/2 itself does not handle (e.g. the application's shutdown
    /// notices).
    func http2ConnectionReceived(userEvent: Any)
    /// The client broke the protocol or ran into a flood limit; GOAWAY with `error.code` is on its way.
    func http2ConnectionFailed(_ error: HTTP2ConnectionError)
}

extension HTTP2ServerConnectionDelegate {
    public func http2ConnectionFailed(_ error: HTTP2ConnectionError) {}
}

/// HTTP/2 settings StreamGate advertises (RFC 9113 section 6.5.2).
public struct HTTP2ServerSettings: Sendable {
    public var maxConcurrentStreams: Int
    public var initialWindowSize: Int
    /// Largest request header list accepted, in bytes (name + value + 32 per field, as in HPACK).
    public var maxHeaderListSize: Int
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): advertise only when extended CONNECT works end to end.
    public var enableConnectProtocol: Bool
    /// Response bytes one stream may queue before `canTakeResponseBody` turns false (not a SETTINGS value).
    public var streamQueueBytes: Int

    public init(
        maxConcurrentStreams: Int = 256,
        initialWindowSize: Int = 65_535,
        maxHeaderListSize: Int = 64 * 1024,
        enableConnectProtocol: Bool = false,
        streamQueueBytes: Int = 64 * 1024
    ) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxHeaderListSize = maxHeaderListSize
        self.enableConnectProtocol = enableConnectProtocol
        self.streamQueueBytes = streamQueueBytes
    }
}
