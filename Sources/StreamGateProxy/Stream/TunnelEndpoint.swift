import NIOCore

/// One side of a byte tunnel (a WebSocket after its handshake): a raw TCP channel, or an HTTP/2 stream carrying
/// the bytes in DATA frames. The tunnel writes to it, reads from it at the pace the other side allows, and closes it.
protocol TunnelEndpoint: AnyObject {
    /// Where the endpoint reports incoming bytes, writability and closure.
    var tunnel: WebSocketTunnel? { get set }
    func write(_ buffer: ByteBuffer)
    func flush()
    /// Whether more bytes may be written without passing the endpoint's buffer bound.
    var isWritable: Bool { get }
    func pauseReading()
    func resumeReading()
    /// Sends what was written, then closes (TCP: the connection; HTTP/2: END_STREAM).
    func closeAfterFlush()
    /// Sends what was written, then ends this direction only (TCP: shutdown of the output; HTTP/2: END_STREAM)
    /// while the endpoint's bytes are still read: the other side half-closed.
    func finishWriting()
}

/// Which side of a tunnel an event comes from.
enum TunnelSide {
    case downstream
    case upstream
}
