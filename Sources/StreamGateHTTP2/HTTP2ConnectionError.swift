import CNghttp2

/// Why StreamGate ends an HTTP/2 connection with GOAWAY: the error code the client gets (RFC 9113 section 7) and a
/// reason for the log and the GOAWAY's debug data.
public struct HTTP2ConnectionError: Error, Sendable, CustomStringConvertible {
    public var code: UInt32
    public var reason: String

    public init(code: UInt32, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The client broke the protocol.
    static func protocolError(_ reason: String) -> Self {
        Self(code: NGHTTP2_PROTOCOL_ERROR.rawValue, reason: reason)
    }

    /// The client sent more of something than the limits allow (floods, rapid reset).
    static func enhanceYourCalm(_ reason: String) -> Self {
        Self(code: NGHTTP2_ENHANCE_YOUR_CALM.rawValue, reason: reason)
    }

    /// A failure nghttp2 reported while reading client frames, with the code that says what happened.
    init(receiving error: HTTP2SessionError) {
        switch error.libraryCode {
        case NGHTTP2_ERR_FLOODED.rawValue:
            self = .enhanceYourCalm("too many frames that need an answer (PING, SETTINGS) left unread")
        case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS.rawValue:
            self = .enhanceYourCalm("too many CONTINUATION frames in one header block")
        case NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue:
            self = .protocolError("not an HTTP/2 connection preface")
        default:
            self = .protocolError(error.message)
        }
    }

    /// True when the client ran into a limit rather than broke a rule.
    public var isFlood: Bool { code == NGHTTP2_ENHANCE_YOUR_CALM.rawValue }

    /// A GOAWAY nghttp2 sent on its own while reading client frames, by its code.
    init(libraryGoaway code: UInt32) {
        let reason =
            switch code {
            case NGHTTP2_COMPRESSION_ERROR.rawValue:
                "a header block that cannot be decoded (HPACK), such as one field over the decoder's 64 KiB"
            case NGHTTP2_FLOW_CONTROL_ERROR.rawValue: "the client overflowed a flow-control window"
            case NGHTTP2_FRAME_SIZE_ERROR.rawValue: "a frame of the wrong size"
            default: "the client broke the protocol"
            }
        self.init(code: code, reason: reason)
    }

    /// The RFC 9113 name of the code.
    public var codeName: String {
        switch code {
        case NGHTTP2_NO_ERROR.rawValue: "NO_ERROR"
        case NGHTTP2_PROTOCOL_ERROR.rawValue: "PROTOCOL_ERROR"
        case NGHTTP2_INTERNAL_ERROR.rawValue: "INTERNAL_ERROR"
        case NGHTTP2_FLOW_CONTROL_ERROR.rawValue: "FLOW_CONTROL_ERROR"
        case NGHTTP2_FRAME_SIZE_ERROR.rawValue: "FRAME_SIZE_ERROR"
        case NGHTTP2_COMPRESSION_ERROR.rawValue: "COMPRESSION_ERROR"
        case NGHTTP2_ENHANCE_YOUR_CALM.rawValue: "ENHANCE_YOUR_CALM"
        default: "error \(code)"
        }
    }

    public var description: String { "\(codeName): \(reason)" }
}
