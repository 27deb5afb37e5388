import NIOCore
import NIOHTTP1

/// Sits between NIO's request decoder and its pipelining handler and tells `RequestHeadGuard` each time a request
/// head has been parsed, including a pipelined one the pipelining handler holds back until the response before it
/// has ended. Owns nothing else; request parts pass unchanged.
final class ParsedHeadNotifier: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let headGuard: RequestHeadGuard

    init(headGuard: RequestHeadGuard) {
        self.headGuard = headGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            headGuard.headParsed()
        }
        context.fireChannelRead(data)
    }
}
