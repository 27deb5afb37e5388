import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to one upstream server, used by one stream at a time.
final class UpstreamConnection: UpstreamExchange {
    let channel: any Channel
    let handler: UpstreamHTTP1Handler
    /// Index into the group's `addresses`.
    let serverIndex: Int
    /// True once the connection has served a response and come back from the pool.
    private(set) var isReused = false
    /// When an idle pooled connection is closed.
    var idleDeadline: NIODeadline = .now()
    /// The server whose streams-in-flight count the stream using this connection holds; nil while pooled.
    private var countedOn: UpstreamServer?

    init(channel: any Channel, handler: UpstreamHTTP1Handler, serverIndex: Int) {
        self.channel = channel
        self.handler = handler
        self.serverIndex = serverIndex
    }

    var isActive: Bool { channel.isActive }

    var delegate: (any UpstreamResponseDelegate)? {
        get { handler.delegate }
        set { handler.delegate = newValue }
    }

    var isRetrySafe: Bool { isReused }
    var isWritable: Bool { channel.isWritable }
    var allocator: ByteBufferAllocator { channel.allocator }

    func pauseReading() {
        handler.pauseReading()
    }

    func resumeReading() {
        handler.resumeReading()
    }

    func markReused() {
        isReused = true
    }

    /// A stream now uses this connection and holds one of `server`'s streams in flight (taken at its choice).
    func carryStream(of server: UpstreamServer) {
        countedOn = server
    }

    /// The stream is done with this connection: its server has one stream fewer in flight.
    func streamEnded() {
        countedOn?.streamEnded()
        countedOn = nil
    }

    /// The server this connection goes to, while a stream uses it.
    var server: UpstreamServer? { countedOn }

    func write(_ part: HTTPClientRequestPart) {
        channel.write(part, promise: nil)
    }

    func flush() {
        channel.flush()
    }

    /// Turns the connection into a raw byte pipe after a 101 response: the HTTP codec and handler leave the
    /// pipeline; bytes the decoder already held go on to the returned tunnel handler.
    func convertToTunnel() throws -> ChannelTunnelHandler {
        let sync = channel.pipeline.syncOperations
        let tunnelHandler = ChannelTunnelHandler(side: .upstream)
        // The tunnel is a stream in flight to the server until its connection closes.
        if let server = countedOn {
            countedOn = nil
            channel.closeFuture.whenComplete { _ in server.streamEnded() }
        }
        handler.delegate = nil
        handler.resumeReading()
        try sync.addHandler(tunnelHandler)
        sync.removeHandler(handler, promise: nil)
        sync.removeHandler(try sync.handler(type: UpstreamResponseFramer.self), promise: nil)
        sync.removeHandler(try sync.handler(type: ByteToMessageHandler<UpstreamHeadDecoder>.self), promise: nil)
        // Present only when the request had not ended when the 101 came.
        if let encoder = try? sync.handler(type: HTTPRequestEncoder.self) {
            sync.removeHandler(encoder, promise: nil)
        }
        if let validator = try? sync.handler(type: NIOHTTPRequestHeadersValidator.self) {
            sync.removeHandler(validator, promise: nil)
        }
        channel.read()
        return tunnelHandler
    }

    func close() {
        handler.delegate = nil
        streamEnded()
        channel.close(promise: nil)
    }
}
