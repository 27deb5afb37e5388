import NIOCore
import NIOHTTP1

/// The origin's `/ws` endpoint: completes the RFC 6455 handshake (101 with `Sec-WebSocket-Accept`) through NIO's
/// HTTP/1.1 upgrade machinery, then puts a `WebSocketEchoHandler` in front of `OriginRequestHandler`.
final class OriginWebSocketUpgrader: HTTPServerProtocolUpgrader {
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    let supportedProtocol = "websocket"
    /// `Sec-WebSocket-Key` is checked below: NIO would also require it to be named in `Connection`.
    let requiredUpgradeHeaders: [String] = []

    func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        guard OriginEndpoint(uri: upgradeRequest.uri) == .webSocket else {
            return channel.eventLoop.makeFailedFuture(Refused(description: "no WebSocket at \(upgradeRequest.uri)"))
        }
        guard let key = upgradeRequest.headers.first(name: "sec-websocket-key"), !key.isEmpty else {
            return channel.eventLoop.makeFailedFuture(Refused(description: "no Sec-WebSocket-Key"))
        }
        var headers = initialResponseHeaders
        headers.add(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.accept(forKey: key))
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        context.eventLoop.makeCompletedFuture {
            let sync = context.pipeline.syncOperations
            if let requests = try? sync.handler(type: OriginRequestHandler.self) {
                try sync.addHandler(WebSocketEchoHandler(), position: .before(requests))
            } else {
                try sync.addHandler(WebSocketEchoHandler())
            }
        }
    }
}
