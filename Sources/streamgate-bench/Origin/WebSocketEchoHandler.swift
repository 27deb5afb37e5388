import NIOCore

/// The origin's side of an upgraded `/ws` connection: unmasks each client frame and sends it back unmasked,
/// answers Ping with Pong and Close with Close. Consumes every byte, so nothing reaches the HTTP handler behind it.
final class WebSocketEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var parser = WebSocketFrameParser()
    private var output: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { parser.append($0) }
        var closing = false
        do {
            while !closing, let frame = try parser.next() {
                switch frame.opcode {
                case WebSocketFrame.ping:
                    WebSocketFrameEncoder.encode(
                        opcode: WebSocketFrame.pong,
                        payload: frame.payload,
                        masked: false,
                        into: &output
                    )
                case WebSocketFrame.pong:
                    break
                case WebSocketFrame.close:
                    WebSocketFrameEncoder.encode(
                        opcode: WebSocketFrame.close,
                        payload: Array(frame.payload.prefix(2)),
                        masked: false,
                        into: &output
                    )
                    closing = true
                default:
                    WebSocketFrameEncoder.encode(
                        opcode: frame.opcode,
                        payload: frame.payload,
                        masked: false,
                        into: &output
                    )
                }
            }
        } catch {
            closing = true
        }
        if !output.isEmpty {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
            output.removeAll(keepingCapacity: true)
        }
        if closing {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
