import NIOCore
import NIOHTTP1

/// The feed as the client side of the `ProxyStream` that drives its upstream: the stream's machine does what it
/// does for any event stream on the route (head rewrite, whole events only, heartbeats, failover with `resume`),
/// and what it would write to one client comes here, is cut into events, kept and fanned out. The feed always has
/// room: a subscriber that cannot keep up falls off the ring instead of holding the upstream back.
extension SharedFeed: DownstreamResponder {
    func sendInformationalHead(_ head: HTTPResponseHead) {}

    func sendResponseHead(_ head: HTTPResponseHead) {
        guard (200..<300).contains(head.status.code), EventStreamFilter.isEventStream(head) else {
            failedToOpen(status: head.status.code)
            return
        }
        becameLive(head: head)
    }

    /// Whole events (the route forwards nothing else), comments and fields, in any number per buffer.
    func sendResponseBody(_ buffer: ByteBuffer) {
        guard state == .live else { return }
        var rest = buffer
        while rest.readableBytes > 0 {
            let eventsBefore = scanner.eventCount
            let (leadingBOM, boundaryEnd) = scanner.scan(rest, stoppingAtBoundary: true)
            guard let boundaryEnd, var block = rest.readSlice(length: boundaryEnd) else {
                logger.warning(
                    "shared event stream ended: an event over max_event \(config.maxEventBytes) bytes cannot be kept whole"
                )
                end(clean: true)
                closeUpstreamLater()
                return
            }
            if leadingBOM != .none {
                // Late joiners get events after other bytes: a BOM could not lead their stream.
                block = leadingBOM.applied(to: block, allocator: ByteBufferAllocator())
            }
            if scanner.eventCount > eventsBefore {
                publish(block, id: scanner.boundaryEventID)
            } else {
                broadcast(block)
            }
        }
    }

    func sendResponseEnd(trailers: HTTPHeaders?) {
        end(clean: true)
    }

    func flushResponse() {
        flushSubscribers()
    }

    /// The upstream broke off: the subscribers only ever got whole events, so each ends cleanly at its boundary
    /// (EventSource resumes with Last-Event-ID).
    func abortResponse() {
        end(clean: true)
    }

    var canTakeResponseBody: Bool { true }
    var queuedResponseBytes: Int { 0 }

    func pauseRequestBody() {}
    func resumeRequestBody() {}

    func streamFinished() {
        upstream = nil
    }

    func beginTunnel(upstreamHead head: HTTPResponseHead) -> (any TunnelEndpoint)? {
        nil
    }
}
