import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to one upstream server, used by one stream at a time.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHTTP1Handler
    /// Index into the group's `addresses`.
    let serverIndex: Int
    /// True once the connection has served a response and come back from the pool.
    private(set) var isReused = false
    /// When an idle pooled connection is closed.
    var idleDeadline: NIODeadline = .now()

    init(channel: any Channel, handler: UpstreamHTTP1Handler, serverIndex: Int) {
        self.channel = channel
        self.handler = handler
        self.serverIndex = serverIndex
    }

    var isActive: Bool { channel.isActive }

    func markReused() {
        isReused = true
    }

    func write(_ part: HTTPClientRequestPart) {
        channel.write(part, promise: nil)
    }

    func writeAndFlush(_ part: HTTPClientRequestPart) {
        channel.writeAndFlush(part, promise: nil)
    }

    func flush() {
        channel.flush()
    }

    /// Turns the connection into a raw byte pipe after a 101 response: the HTTP codec and handler leave the
    /// pipeline; bytes the decoder already held go on to the returned tunnel handler.
    func convertToTunnel() throws -> ChannelTunnelHandler {
        let sync = channel.pipeline.syncOperations
        let tunnelHandler = ChannelTunnelHandler(side: .upstream)
        handler.delegate = nil
        handler.resumeReading()
        try sync.addHandler(tunnelHandler)
        sync.removeHandler(handler, promise: nil)
        sync.removeHandler(try sync.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
        sync.removeHandler(try sync.handler(type: HTTPRequestEncoder.self), promise: nil)
        if let validator = try? sync.handler(type: NIOHTTPRequestHeadersValidator.self) {
            sync.removeHandler(validator, promise: nil)
        }
        channel.read()
        return tunnelHandler
    }

    func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}
