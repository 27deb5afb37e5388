import NIOCore
import NIOHTTP1

/// What a stream holds of its upstream while it uses it, whatever the protocol: an HTTP/1.1 connection of its
/// own (`UpstreamConnection`) or one stream of a shared HTTP/2 connection (`UpstreamHTTP2Stream`). The request
/// goes in as HTTP/1-style parts, the response comes back through the delegate; both on the stream's event loop.
protocol UpstreamExchange: AnyObject {
    /// The stream that hears about the response; nil once it let go.
    var delegate: (any UpstreamResponseDelegate)? { get set }
    /// Index into the group's `addresses`.
    var serverIndex: Int { get }
    /// The server whose streams-in-flight count this exchange holds, while a stream uses it.
    var server: UpstreamServer? { get }
    /// A stream now uses this exchange and holds one of `server`'s streams in flight (taken at its choice).
    func carryStream(of server: UpstreamServer)
    /// A failure before the response head may be retried on a fresh exchange: a pooled HTTP/1.1 connection the
    /// server had closed, an HTTP/2 stream the server refused or left above its GOAWAY's last stream.
    var isRetrySafe: Bool { get }
    /// Request bytes may be written without queueing more than the transport wants.
    var isWritable: Bool { get }
    var allocator: ByteBufferAllocator { get }

    func write(_ part: HTTPClientRequestPart)
    func flush()
    /// Stops the response bytes of this exchange (and only this one) until `resumeReading`.
    func pauseReading()
    func resumeReading()
    /// After a 101: the transport as a raw byte pipe (HTTP/1.1 only).
    func convertToTunnel() throws -> ChannelTunnelHandler
    /// Ends the exchange early (or after a response the transport cannot reuse): nothing more is heard of it.
    func close()
}

extension UpstreamExchange {
    func writeAndFlush(_ part: HTTPClientRequestPart) {
        write(part)
        flush()
    }
}
