import NIOCore

/// The last handler of a TCP channel whose bytes a tunnel carries (downstream after the 101, or upstream):
/// passes bytes to the tunnel, reads only while the tunnel lets it, and reports writability and closure.
final class ChannelTunnelHandler: ChannelDuplexHandler, RemovableChannelHandler, TunnelEndpoint {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Set by the tunnel when it starts; bytes that arrive before (left over from the HTTP decoder) wait for it.
    /// Held strongly (a weak reference would send every retain of the tunnel, once per read, the slow way): the
    /// tunnel clears it when it ends, and the handler when its channel goes inactive or it leaves the pipeline.
    var tunnel: WebSocketTunnel? {
        didSet {
            guard let tunnel, !early.isEmpty else { return }
            let waiting = early
            early.removeAll()
            for buffer in waiting {
                tunnel.received(buffer, from: side)
            }
            tunnel.readComplete(from: side)
        }
    }
    let side: TunnelSide
    private var early: [ByteBuffer] = []
    private var context: ChannelHandlerContext?
    private var readGate = ReadGate()

    init(side: TunnelSide) {
        self.side = side
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        tunnel = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let tunnel {
            tunnel.received(buffer, from: side)
        } else {
            early.append(buffer)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        tunnel?.readComplete(from: side)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            tunnel?.becameWritable(side)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let tunnel = self.tunnel
        self.tunnel = nil
        tunnel?.closed(side)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let goingAway = event as? ProxyGoingAwayEvent {
            tunnel?.goAway(outcome: goingAway.outcome)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        readGate.read(context)
    }

    // MARK: TunnelEndpoint

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    var isWritable: Bool {
        context?.channel.isWritable ?? false
    }

    func pauseReading() {
        readGate.pause()
    }

    func resumeReading() {
        readGate.resume(context)
    }

    func closeAfterFlush() {
        guard let context else { return }
        let marker = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(marker)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func finishWriting() {
        guard let context else { return }
        let marker = context.channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(wrapOutboundOut(marker)).assumeIsolated().whenComplete { _ in
            let halfClosed = context.eventLoop.makePromise(of: Void.self)
            halfClosed.futureResult.assumeIsolated().whenFailure { _ in context.close(promise: nil) }
            context.close(mode: .output, promise: halfClosed)
        }
    }
}

/// Sent to a downstream connection that is about to close: to every one when the drain period of a shutdown is
/// over, to one that the admin closes. Event streams end at their next boundary; WebSocket tunnels send Close 1001
/// (going away) to both sides.
struct ProxyGoingAwayEvent: Sendable {
    var outcome: StreamOutcome = .drained
}
