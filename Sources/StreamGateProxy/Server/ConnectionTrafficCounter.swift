import NIOCore

/// First handler of every downstream connection: counts the bytes read from and written to the client socket
/// (ciphertext on TLS listeners) into its `LiveConnection`. One addition per read and per write; it holds nothing.
final class ConnectionTrafficCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: LiveConnection

    init(connection: LiveConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.bytesIn += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        connection.bytesOut += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }
}
