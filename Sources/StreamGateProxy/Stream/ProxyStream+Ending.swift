import Logging
import NIOCore
import NIOHTTP1

/// How a proxied stream ends: the finished machine's `Ending` carried out on both connections, or the hand-over
/// of both connections to a WebSocket tunnel.
extension ProxyStream {
    /// The machine is finished: the upstream goes back to the pool or is closed, the stream leaves the registry
    /// and its client side, and then the client side ends as `ending` says.
    func finish(_ ending: ProxyStreamStateMachine.Ending) {
        timers.cancel(self)
        // The last snapshot (for the access log) still names the upstream server.
        if case .finished(let outcome) = machine.state {
            connection?.streamEnded(streamID, stream: self, outcome: outcome)
        }
        let upstream = self.upstream
        self.upstream = nil
        if case .complete(_, reuseUpstream: true) = ending, let upstream {
            lease.release(upstream)
        } else {
            upstream?.close()
        }
        guard let downstream else { return }
        self.downstream = nil
        downstream.streamFinished()
        switch ending {
        case .respondLocally(let status, let reason):
            logger.warning("\(status.code) \(status.reasonPhrase): \(reason)")
            let allocator = upstream?.allocator ?? ByteBufferAllocator()
            LocalResponse.send(status: status, reason: reason, to: downstream, allocator: allocator)
        case .endCleanly(let head, let body, let reason):
            logger.info("event stream ended: \(reason)")
            if let head {
                downstream.sendResponseHead(head)
            }
            if let body {
                downstream.sendResponseBody(body)
            }
            downstream.sendResponseEnd()
            downstream.flushResponse()
        case .cut(let head, let reason, let level):
            logger.log(level: level, "stream cut: \(reason)")
            if let head {
                downstream.sendResponseHead(head)
            }
            downstream.abortResponse()
        case .complete(let head, _):
            if let head {
                downstream.sendResponseHead(head)
            }
            downstream.sendResponseEnd(trailers: responseTrailers)
            downstream.flushResponse()
        case .clientGone:
            debug("client went away; closing the upstream connection")
        }
    }

    /// Hands the client and upstream connections to a `WebSocketTunnel`, which goes on under this stream's id.
    func completeUpgrade(_ head: HTTPResponseHead) {
        guard machine.state == .upgrading, let upstream, let downstream else { return }
        let upstreamEndpoint: ChannelTunnelHandler
        do {
            upstreamEndpoint = try upstream.convertToTunnel()
        } catch {
            perform(machine.upgradeFailed(reason: "cannot switch the upstream connection to WebSocket: \(error)"))
            return
        }
        let upstreamAddress = lease.address(of: upstream)
        self.upstream = nil
        guard let downstreamEndpoint = downstream.beginTunnel(upstreamHead: head) else {
            upstream.close()
            perform(machine.upgradeFailed(reason: "cannot switch the client connection to WebSocket"))
            return
        }
        debug("WebSocket tunnel open")
        let tunnel = WebSocketTunnel(
            downstream: downstreamEndpoint,
            upstream: upstreamEndpoint,
            config: route.config.websocket,
            timers: timers,
            allocator: upstream.allocator,
            identity: WebSocketTunnel.Identity(
                connection: connection,
                streamID: streamID,
                host: host,
                status: Int(head.status.code),
                path: machine.upstreamHead.uri,
                route: route,
                upstreamAddress: upstreamAddress,
                startedAt: machine.startedAt
            ),
            logger: logger
        )
        machine.handedToTunnel()
        timers.cancel(self)
        self.downstream = nil
        downstream.streamFinished()
        tunnel.start()
    }
}
