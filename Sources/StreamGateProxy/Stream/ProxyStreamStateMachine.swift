import Logging
import NIOCore
import NIOHTTP1
import StreamGateConfig

/// The life of one proxied stream as a value: which state it is in, what each event from the client, the upstream
/// or the clock does to it, and which deadline comes next. Every event method returns the action the owner
/// (`ProxyStream`) carries out; the machine does no I/O and reads no clock, so every path runs in a unit test.
/// Once an event has finished the stream, later events (an HTTP/2 close caused by the stream's own last write,
/// say) find it `finished` and do nothing.
struct ProxyStreamStateMachine {
    enum State: Equatable {
        /// Made, not started.
        case idle
        /// Waiting for an upstream connection; `attempt` 2 is the one retry.
        case connecting(attempt: Int)
        /// The request went upstream; no response head yet.
        case awaitingHead(attempt: Int)
        /// The response flows to the client.
        case streaming(Body)
        /// The upstream accepted a WebSocket upgrade; the owner hands both sides to a tunnel.
        case upgrading
        case finished(StreamOutcome)
    }

    /// What kind of response body is flowing.
    enum Body: Equatable {
        case plain
        /// `text/event-stream`: `eventStream` holds its session.
        case eventStream
    }

    /// Which deadline the timer waits for.
    enum Deadline: Equatable {
        case responseHeader
        case idle
        case maxLifetime
        case heartbeat
        /// The stream's end time in a drain (`DrainSlot`).
        case drain
        /// The client has not taken the stream's bytes for `limits.slow_consumer_timeout`.
        case slowConsumer
        /// An event stream that lost its upstream: the next resume attempt is due, or the one under way is over
        /// its time (`StreamFailover`).
        case resume
    }

    /// Set here and by the failover extension (`ProxyStreamStateMachine+Failover`). The flags follow it, in the
    /// padding of its nine bytes.
    var state = State.idle
    let isWebSocket: Bool
    private var requestEnded = false
    private var requestFullySent = false
    /// Whether the upstream allows reusing its connection after this response.
    private var upstreamKeepAlive = false
    /// Set when a deadline may have moved earlier; the owner re-arms its timer and clears it.
    var deadlinesMovedEarlier = false
    /// The request as sent upstream. Its headers are dropped once the response head arrives (only a retry, which
    /// can only happen before that, needs them); method and target stay for the admin view.
    private(set) var upstreamHead: HTTPRequestHead
    /// The route's config and its timeouts, shared by every stream of the route (a stream holds no copy).
    let route: Route

    /// Request body that arrived while the upstream connection was being opened (at most one read's worth: the
    /// client is paused meanwhile).
    private var pendingBody: [ByteBuffer] = []
    /// Set on an event stream's response head.
    var eventStream: EventStreamSession?
    /// Set with `eventStream` on a route with `sse.resume`, for a request that can be sent again (no body).
    var failover: StreamFailover?
    /// What only a stream that is drained, ended early or failed over sets (`resumeReport`, `pendingEnd`,
    /// `drainDeadline`, `drainRetry`): out of line, so the many streams that never do are that much smaller.
    var uncommon: UncommonState?

    let startedAt: NIODeadline
    /// The last request or upstream byte (heartbeats excluded): what the `idle` timeout measures.
    var lastActivity: NIODeadline
    /// The last byte either way, StreamGate's own included: what the admin view calls idle.
    var lastByte: NIODeadline
    private var headerDeadline: NIODeadline?
    /// The status of the response head sent to the client, once one was.
    private(set) var responseStatus: UInt?
    /// When the request went upstream: the start of the response-header latency.
    private var requestSentAt: NIODeadline?
    private(set) var requestBodyBytes = 0
    private(set) var responseBodyBytes = 0
    /// Interim (1xx) responses the upstream sent before its final head.
    private var interimResponses = 0
    /// More interim responses than any origin needs (a few 103s, a 102 every few seconds while it works) mean a
    /// broken or hostile one: the stream is answered 502 rather than relaying them without end.
    static let maxInterimResponses = 32

    /// How long the client may leave the stream's queue full (`limits.slow_consumer_timeout`); zero: forever.
    private let slowConsumerTimeout: TimeAmount
    /// Since when the client's side has been full, while it is.
    private var blockedSince: NIODeadline?

    init(
        route: Route,
        upstreamHead: HTTPRequestHead,
        isWebSocket: Bool,
        now: NIODeadline,
        slowConsumerTimeout: TimeAmount = .zero
    ) {
        self.slowConsumerTimeout = slowConsumerTimeout
        self.route = route
        self.upstreamHead = upstreamHead
        self.isWebSocket = isWebSocket
        self.startedAt = now
        self.lastActivity = now
        self.lastByte = now
    }

    // MARK: What the owner may ask

    var isConnecting: Bool {
        if case .connecting = state { return true }
        return false
    }

    /// An upstream is being leased for the stream: its first one, or one to resume an event stream on.
    var wantsUpstream: Bool {
        isConnecting || (failover?.phase == .connecting && state == .streaming(.eventStream))
    }

    /// The request went upstream and no response head has come yet.
    var isAwaitingHead: Bool {
        if case .awaitingHead = state { return true }
        return false
    }

    var isStreaming: Bool {
        if case .streaming = state { return true }
        return false
    }

    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    var kind: StreamKind {
        if isWebSocket { return .websocket }
        return eventStream == nil ? .http : .sse
    }

    var phase: StreamPhase {
        switch state {
        case .idle, .connecting: return .connecting
        case .awaitingHead: return .awaitingHead
        case .streaming:
            if let failover, failover.phase != .relaying { return .resuming }
            return pendingEnd == nil ? .streaming : .draining
        case .upgrading: return .upgrading
        case .finished: return .finished
        }
    }

    // MARK: Client events

    mutating func start() -> Action {
        guard state == .idle else { return .none }
        state = .connecting(attempt: 1)
        deadlinesMovedEarlier = true
        return .leaseUpstream
    }

    mutating func requestBodyReceived(_ buffer: ByteBuffer, now: NIODeadline) -> Action {
        lastActivity = now
        lastByte = now
        requestBodyBytes += buffer.readableBytes
        if let limit = route.config.maxRequestBody, requestBodyBytes > limit, !isFinished {
            let reason = "request body over max_request_body \(limit) bytes"
            if isStreaming || state == .upgrading {
                return finish(.requestTooLarge, .cut(head: eventStream?.takeHeldHead() ?? nil, reason: reason, level: .info))
            }
            return finish(.requestTooLarge, .respondLocally(.payloadTooLarge, reason: reason))
        }
        switch state {
        case .idle, .connecting:
            pendingBody.append(buffer)
            return .pauseRequestBody
        case .finished:
            return .none
        case .awaitingHead, .streaming, .upgrading:
            return .forwardRequestBody(buffer)
        }
    }

    mutating func requestEndReceived(now: NIODeadline) -> Action {
        requestEnded = true
        switch state {
        case .idle, .connecting, .finished:
            return .none
        case .awaitingHead:
            requestFullySent = true
            armResponseHeaderDeadline(now: now)
            return .forwardRequestEnd
        case .streaming, .upgrading:
            requestFullySent = true
            return .forwardRequestEnd
        }
    }

    /// The request is fully sent: from now on the upstream has `response_header` to answer (an upload slower than
    /// that is not cut).
    private mutating func armResponseHeaderDeadline(now: NIODeadline) {
        requestSentAt = now
        if route.responseHeaderTimeout > .zero {
            headerDeadline = now + route.responseHeaderTimeout
            deadlinesMovedEarlier = true
        }
    }

    /// The client went away or reset the stream: the upstream connection is closed at once, never pooled.
    mutating func downstreamClosed() -> Action {
        if isFinished { return .none }
        return finish(.clientGone, .clientGone)
    }

    /// StreamGate's drain period is over (or the admin closes the connection): an event stream ends at its next
    /// event boundary (EventSource reconnects, to another instance if need be); other responses are left to the
    /// connection's close.
    mutating func serverGoingAway(outcome: StreamOutcome = .drained) -> Action {
        guard state == .streaming(.eventStream) else { return .none }
        let reason = outcome == .drained ? "StreamGate is shutting down" : "closed through the admin endpoint"
        return endAtBoundary(outcome, reason: reason)
    }

    /// The client's side stopped taking response bytes (its queue is full; the upstream is no longer read).
    mutating func downstreamBlocked(now: NIODeadline) {
        guard isStreaming, blockedSince == nil, slowConsumerTimeout > .zero else { return }
        blockedSince = now
        deadlinesMovedEarlier = true
    }

    /// The client's side takes bytes again.
    mutating func downstreamUnblocked() {
        blockedSince = nil
    }

    /// A drain started: an event stream gets `slot`'s `retry:` now (or with its end, when it stands inside an
    /// event) and ends at its next boundary after `slot.endAt`. Other streams are left to finish.
    mutating func drain(_ slot: DrainSlot, now: NIODeadline, allocator: ByteBufferAllocator) -> Action {
        guard state == .streaming(.eventStream), drainDeadline == nil, pendingEnd == nil else { return .none }
        drainDeadline = slot.endAt
        deadlinesMovedEarlier = true
        guard let retry = slot.retryField(allocator: allocator) else { return .none }
        guard eventStream?.isAtEventBoundary == true else {
            drainRetry = retry
            return .none
        }
        lastByte = now
        responseBodyBytes += retry.readableBytes
        return .writeResponse(head: eventStream?.takeHeldHead() ?? nil, body: retry, flush: true)
    }

    /// The admin ends this one stream: an event stream at its next boundary, a response in progress cut, one not
    /// started yet answered 503.
    mutating func endGracefully(outcome: StreamOutcome) -> Action {
        let reason = "closed through the admin endpoint"
        switch state {
        case .finished:
            return .none
        case .streaming(.eventStream):
            return endAtBoundary(outcome, reason: reason)
        case .streaming(.plain), .upgrading:
            return finish(outcome, .cut(head: nil, reason: reason, level: .info))
        case .idle, .connecting, .awaitingHead:
            return finish(outcome, .respondLocally(.serviceUnavailable, reason: reason))
        }
    }

    // MARK: Upstream events

    /// An upstream connection is ready for the stream (only asked for while `isConnecting`).
    mutating func upstreamLeased(now: NIODeadline) -> Action {
        if failover?.phase == .connecting {
            return resumeUpstreamLeased(now: now)
        }
        guard case .connecting(let attempt) = state else { return .none }
        state = .awaitingHead(attempt: attempt)
        let body = pendingBody
        pendingBody = []
        requestFullySent = requestEnded
        if requestEnded {
            armResponseHeaderDeadline(now: now)
        }
        return .sendRequest(upstreamHead, body: body, end: requestEnded)
    }

    /// No upstream connection could be had.
    mutating func upstreamUnavailable(_ failure: UpstreamLeaseFailure) -> Action {
        if failover?.phase == .connecting {
            return resumeAttemptFailed(reason: failure.description)
        }
        guard isConnecting else { return .none }
        return finish(.upstreamError, .respondLocally(failure.timedOut ? .gatewayTimeout : .badGateway, reason: failure.description))
    }

    /// An interim (1xx) head arrived; `.none` while it may be relayed, a 502 once there were too many.
    mutating func interimResponseReceived() -> Action {
        guard case .awaitingHead = state else { return .none }
        interimResponses += 1
        guard interimResponses > Self.maxInterimResponses else { return .none }
        let reason = "upstream sent more than \(Self.maxInterimResponses) interim (1xx) responses before its final one"
        return finish(.upstreamError, .respondLocally(.badGateway, reason: reason))
    }

    mutating func responseHeadReceived(
        _ head: HTTPResponseHead,
        now: NIODeadline,
        allocator: ByteBufferAllocator
    ) -> Action {
        if case .awaitingHead = failover?.phase {
            return resumeHeadReceived(head, now: now)
        }
        guard case .awaitingHead = state else { return .none }
        let webSocketKey = isWebSocket ? upstreamHead.headers.first(name: "sec-websocket-key") : nil
        let resume = isWebSocket || requestBodyBytes > 0 ? nil : route.config.sse.resume
        if resume == nil || !EventStreamFilter.isEventStream(head) {
            upstreamHead.headers = HTTPHeaders()
        }
        let clientHead = ResponseHeaderRewriter.downstreamHead(for: head)
        if head.status == .switchingProtocols {
            guard isWebSocket else {
                // A 101 cannot be a final answer to a request that did not ask to upgrade (RFC 9110 15.2.2).
                let reason = "upstream answered 101 Switching Protocols to a request that did not ask to upgrade"
                return finish(.upstreamError, .respondLocally(.badGateway, reason: reason))
            }
            if let problem = WebSocketUpgrade.problem(withUpgradeResponse: head, key: webSocketKey) {
                return finish(.upstreamError, .respondLocally(.badGateway, reason: problem))
            }
            responseStatus = head.status.code
            state = .upgrading
            return .upgrade(clientHead)
        }
        lastActivity = now
        lastByte = now
        upstreamKeepAlive = head.isKeepAlive
        responseStatus = head.status.code
        guard EventStreamFilter.isEventStream(head) else {
            state = .streaming(.plain)
            return .writeResponse(head: clientHead, body: nil, flush: false)
        }
        state = .streaming(.eventStream)
        if let resume, Self.canBeSentAgain(upstreamHead.method) {
            failover = StreamFailover(config: resume)
        }
        var session = EventStreamSession(config: route.config.sse, heartbeat: route.heartbeatBytes, now: now)
        let opening = session.start(head: clientHead, now: now, allocator: allocator)
        eventStream = session
        deadlinesMovedEarlier = true
        guard let opening else { return .none }
        responseBodyBytes += opening.preamble?.readableBytes ?? 0
        return .writeResponse(head: opening.head, body: opening.preamble, flush: true)
    }

    mutating func responseBodyReceived(_ buffer: ByteBuffer, now: NIODeadline, allocator: ByteBufferAllocator) -> Action
    {
        guard isStreaming else { return .none }
        lastActivity = now
        lastByte = now
        guard eventStream != nil else {
            responseBodyBytes += buffer.readableBytes
            return .writeResponse(head: nil, body: buffer, flush: false)
        }
        // Mutated in place through the optional: no copy of the scanner's state per chunk.
        let head = eventStream?.takeHeldHead() ?? nil
        if eventStream?.heartbeatWaitsForBoundary == true {
            deadlinesMovedEarlier = true
        }
        guard let (bytes, endsHere) = eventStream?.forward(buffer, now: now, allocator: allocator) else {
            return .none
        }
        if failover?.failedAttempts ?? 0 > 0 {
            relayedAfterResume()
        }
        responseBodyBytes += bytes.readableBytes
        if endsHere, let pendingEnd {
            let body = appendingDrainRetry(to: bytes)
            return finish(pendingEnd.outcome, .endCleanly(head: head, body: body, reason: pendingEnd.reason))
        }
        return .writeResponse(head: head, body: bytes.readableBytes > 0 ? bytes : nil, flush: false)
    }

    mutating func responseEndReceived() -> Action {
        guard isStreaming else { return .none }
        if let failover, failover.phase == .relaying, failover.config.onEnd {
            return failOver(reason: "upstream ended the event stream")
        }
        let head = eventStream?.takeHeldHead() ?? nil
        return finish(.ok, .complete(head: head, reuseUpstream: upstreamKeepAlive && requestFullySent))
    }

    /// The upstream connection failed or closed before the response ended. A reused keep-alive connection that
    /// dies before any response byte may have been closed by the upstream just as it was leased; a request
    /// without a body is then retried once on a fresh connection.
    mutating func upstreamFailed(_ error: any Error, connectionWasReused: Bool) -> Action {
        switch state {
        case .idle, .connecting, .finished:
            return .none
        case .awaitingHead(let attempt):
            if connectionWasReused && attempt == 1 && requestBodyBytes == 0 && Self.isIdempotent(upstreamHead.method) {
                state = .connecting(attempt: 2)
                requestFullySent = false
                return .retry
            }
            return finish(.upstreamError, .respondLocally(.badGateway, reason: "upstream failed before responding: \(error)"))
        case .streaming where failover != nil:
            if failover?.phase == .relaying {
                return failOver(reason: "upstream failed mid-stream: \(error)")
            }
            return resumeAttemptFailed(reason: "upstream failed before responding: \(error)")
        case .streaming, .upgrading:
            return finish(
                .upstreamError,
                .cut(head: nil, reason: "upstream failed mid-response: \(error); cutting the client stream", level: .warning)
            )
        }
    }

    /// How long the upstream took to answer the request's head, once it has.
    func responseHeadLatency(now: NIODeadline) -> TimeAmount? {
        requestSentAt.map { now - $0 }
    }

    /// The tunnel took over both connections: this stream's part is over (the tunnel goes on under its id).
    mutating func handedToTunnel() {
        state = .finished(.ok)
    }

    /// The upgrade could not be completed after the upstream's 101.
    mutating func upgradeFailed(reason: String) -> Action {
        guard state == .upgrading else { return .none }
        return finish(.upstreamError, .cut(head: nil, reason: reason, level: .error))
    }

    /// The stream cannot go on (its timer cannot be scheduled: the event loop is shutting down).
    mutating func abandon(reason: String) -> Action {
        switch state {
        case .finished:
            return .none
        case .idle, .connecting, .awaitingHead:
            return finish(.upstreamError, .respondLocally(.serviceUnavailable, reason: reason))
        case .streaming, .upgrading:
            return finish(.upstreamError, .cut(head: eventStream?.takeHeldHead() ?? nil, reason: reason, level: .error))
        }
    }

    /// A request an event stream can be resumed with: one that is safe to send again and carries no body.
    static func canBeSentAgain(_ method: HTTPMethod) -> Bool {
        method == .GET || method == .HEAD
    }

    /// RFC 9110 section 9.2.2.
    private static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: return true
        default: return false
        }
    }

    // MARK: Ending

    mutating func finish(_ outcome: StreamOutcome, _ ending: Ending) -> Action {
        state = .finished(outcome)
        if case .respondLocally(let status, _) = ending {
            responseStatus = status.code
        }
        pendingBody.removeAll()
        return .finish(ending)
    }

    /// Ends a response in progress: an event stream cleanly, anything else cut.
    mutating func endStreaming(_ outcome: StreamOutcome, reason: String) -> Action {
        let head = eventStream?.takeHeldHead() ?? nil
        if eventStream != nil {
            let body = drainRetry == nil ? nil : appendingDrainRetry(to: ByteBuffer())
            return finish(outcome, .endCleanly(head: head, body: body, reason: reason))
        }
        return finish(outcome, .cut(head: head, reason: reason, level: .info))
    }

    /// `bytes` followed by a drain's `retry:` field still to send, if any (counted as sent).
    private mutating func appendingDrainRetry(to bytes: ByteBuffer) -> ByteBuffer {
        guard var retry = drainRetry else { return bytes }
        drainRetry = nil
        responseBodyBytes += retry.readableBytes
        guard bytes.readableBytes > 0 else { return retry }
        var joined = bytes
        joined.writeBuffer(&retry)
        return joined
    }

    /// Ends an event stream now if it stands at a boundary, else at its next one.
    private mutating func endAtBoundary(_ outcome: StreamOutcome, reason: String) -> Action {
        if eventStream?.endAtBoundary() ?? true {
            return endStreaming(outcome, reason: reason)
        }
        if pendingEnd == nil {
            pendingEnd = (outcome, reason)
        }
        return .none
    }
}

extension ProxyStreamStateMachine {
    // MARK: Deadlines

    /// The earliest deadline that applies in the current state.
    var nextDeadline: (at: NIODeadline, kind: Deadline)? {
        var next = EarliestDeadline<Deadline>()
        switch state {
        case .idle, .upgrading, .finished:
            return nil
        case .connecting, .awaitingHead:
            next.offer(headerDeadline, .responseHeader)
        case .streaming:
            break
        }
        if let failover, failover.phase != .relaying {
            // Between upstreams the attempt's own times apply, not the idle timeout.
            next.offer(failover.deadline, .resume)
        } else if route.idleTimeout > .zero {
            next.offer(lastActivity + route.idleTimeout, .idle)
        }
        if route.maxLifetime > .zero && pendingEnd == nil {
            next.offer(startedAt + route.maxLifetime, .maxLifetime)
        }
        if isStreaming {
            next.offer(eventStream?.nextHeartbeat, .heartbeat)
            if pendingEnd == nil {
                next.offer(drainDeadline, .drain)
            }
            next.offer(blockedSince.map { $0 + slowConsumerTimeout }, .slowConsumer)
        }
        return next.earliest
    }

    /// The timer fired at `now`: acts on the deadline that is due, if any (the owner re-arms for the next).
    mutating func deadlineReached(now: NIODeadline) -> Action {
        guard let (deadline, kind) = nextDeadline, deadline <= now else { return .none }
        let timeouts = route.config.timeouts
        switch kind {
        case .heartbeat:
            guard let heartbeat = eventStream?.heartbeat(now: now) else { return .none }
            lastByte = now
            responseBodyBytes += heartbeat.readableBytes
            return .writeResponse(head: eventStream?.takeHeldHead() ?? nil, body: heartbeat, flush: true)
        case .responseHeader:
            let reason = "no response head within \(timeouts.responseHeader.configText)"
            return finish(.timeoutResponseHeader, .respondLocally(.gatewayTimeout, reason: reason))
        case .idle where !isStreaming:
            let reason = "upstream idle for \(timeouts.idle.configText) before responding"
            return finish(.timeoutIdle, .respondLocally(.gatewayTimeout, reason: reason))
        case .maxLifetime where !isStreaming:
            let reason = "max_lifetime \(timeouts.maxLifetime.configText) reached before a response"
            return finish(.timeoutLifetime, .respondLocally(.gatewayTimeout, reason: reason))
        case .idle where failover != nil:
            return failOver(reason: "upstream sent no bytes for \(timeouts.idle.configText) (idle timeout)")
        case .idle:
            return endStreaming(.timeoutIdle, reason: "no bytes for \(timeouts.idle.configText) (idle timeout)")
        case .resume:
            return resumeDeadlineReached(now: now)
        case .maxLifetime:
            return endAtBoundary(.timeoutLifetime, reason: "max_lifetime \(timeouts.maxLifetime.configText) reached")
        case .drain:
            return endAtBoundary(.drained, reason: "StreamGate is shutting down (drain)")
        case .slowConsumer:
            // The upstream is not read while the client is full, so no boundary can come: an event stream that
            // stands at one ends cleanly behind what is queued, anything else is cut (the client resumes from the
            // last whole event it got).
            let reason = "client took no bytes for \(slowConsumerTimeout.nanoseconds / 1_000_000)ms (slow consumer)"
            if eventStream?.isAtEventBoundary == true {
                return endStreaming(.slowConsumer, reason: reason)
            }
            return finish(.slowConsumer, .cut(head: eventStream?.takeHeldHead() ?? nil, reason: reason, level: .info))
        }
    }
}
