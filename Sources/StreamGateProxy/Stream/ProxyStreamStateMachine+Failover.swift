import NIOCore
import NIOHTTP1

/// An event stream that survives its upstream (`sse.resume`): when the upstream fails, goes quiet for the route's
/// `idle`, is taken out of service or (with `resume_on_end`) ends, the client's stream stays open at an event
/// boundary, heartbeats go on, and the same request goes to another upstream with `Last-Event-ID` set to the last
/// event the client got. The new upstream's replay of what the client has is dropped by the stream's filter.
extension ProxyStreamStateMachine {
    /// The client's upstream is lost mid-stream: resume when the client holds an event id, else end the stream
    /// cleanly (it stands at a boundary; EventSource reconnects by itself). A stream that was ending anyway, or
    /// that is inside an event too long to hold back, ends as it would without `resume`.
    mutating func failOver(reason: String) -> Action {
        guard failover != nil, eventStream?.canFailOver == true else {
            return finish(.upstreamError, .cut(head: eventStream?.takeHeldHead() ?? nil, reason: reason, level: .warning))
        }
        if let pendingEnd {
            _ = eventStream?.beginFailover()
            return endStreaming(pendingEnd.outcome, reason: pendingEnd.reason)
        }
        if drainDeadline != nil {
            _ = eventStream?.beginFailover()
            return endStreaming(.drained, reason: "StreamGate is shutting down (drain); \(reason)")
        }
        guard let lastEventID = eventStream?.beginFailover() else {
            resumeReport = .noEventID(reason: reason)
            return endStreaming(.upstreamError, reason: "\(reason); no event id to resume from")
        }
        failover?.lastEventID = lastEventID
        failover?.phase = .lost
        resumeReport = nil
        if let failover, failover.resumes > 0, (eventStream?.eventCount ?? 0) <= failover.eventsAtResume {
            // The last resumed upstream answered but failed before relaying an event: that attempt failed too, or
            // an origin that accepts and dies would be tried without end.
            return resumeAttemptFailed(reason: reason)
        }
        return .resumeUpstream
    }

    /// The owner closed the lost upstream: the next attempt leases one at once (`.leaseUpstream`), or waits its
    /// backoff (a deadline). `avoiding` is the server just lost; `alternativeAvailable` says whether another one
    /// is in service.
    mutating func scheduleResumeAttempt(
        avoiding server: Int?,
        alternativeAvailable: Bool,
        jitter: Double,
        now: NIODeadline
    ) -> Action {
        guard let failover, state == .streaming(.eventStream) else { return .none }
        if let server {
            failover.avoidServer = server
        }
        lastActivity = now
        let delay = failover.backoff(alternativeAvailable: alternativeAvailable, jitter: jitter)
        if delay == .zero {
            failover.phase = .connecting
            self.failover = failover
            return .leaseUpstream
        }
        failover.phase = .waiting(until: now + delay)
        self.failover = failover
        deadlinesMovedEarlier = true
        return .none
    }

    /// The upstream for the attempt is ready: the request goes again, as the client sent it, with the client's
    /// last event id.
    mutating func resumeUpstreamLeased(now: NIODeadline) -> Action {
        guard let failover else { return .none }
        let timeout = route.responseHeaderTimeout
        failover.phase = .awaitingHead(deadline: timeout > .zero ? now + timeout : nil)
        self.failover = failover
        deadlinesMovedEarlier = true
        var head = upstreamHead
        head.headers.replaceOrAdd(name: "Last-Event-ID", value: failover.lastEventID)
        return .sendResumeRequest(head)
    }

    /// The new upstream answered: a 2xx event stream continues the client's stream; anything else fails the
    /// attempt.
    mutating func resumeHeadReceived(_ head: HTTPResponseHead, now: NIODeadline) -> Action {
        guard let failover else { return .none }
        guard (200..<300).contains(head.status.code), EventStreamFilter.isEventStream(head) else {
            let kind = EventStreamFilter.isEventStream(head) ? "" : " (not text/event-stream)"
            return resumeAttemptFailed(reason: "upstream answered \(head.status.code)\(kind)")
        }
        failover.phase = .relaying
        failover.resumes += 1
        failover.eventsAtResume = eventStream?.eventCount ?? 0
        resumeReport = .resumed(attempt: failover.attempt, lastEventID: failover.lastEventID)
        self.failover = failover
        lastActivity = now
        deadlinesMovedEarlier = true
        return .none
    }

    /// The attempt under way failed: another follows after its backoff, unless it was the last one allowed; then
    /// the client stream ends cleanly.
    mutating func resumeAttemptFailed(reason: String) -> Action {
        guard let failover else { return .none }
        failover.failedAttempts += 1
        self.failover = failover
        guard failover.failedAttempts < failover.config.attempts else {
            let attempts = failover.failedAttempts
            resumeReport = .gaveUp(attempts: attempts, reason: reason)
            return endStreaming(.upstreamError, reason: "gave up resuming after \(attempts) failed attempts: \(reason)")
        }
        resumeReport = .attemptFailed(attempt: failover.failedAttempts, reason: reason)
        self.failover?.phase = .lost
        return .resumeUpstream
    }

    /// The failover's deadline passed: the wait is over (lease the next upstream), or the attempt under way had
    /// no head in time.
    mutating func resumeDeadlineReached(now: NIODeadline) -> Action {
        guard let failover else { return .none }
        switch failover.phase {
        case .waiting:
            failover.phase = .connecting
            self.failover = failover
            return .leaseUpstream
        case .awaitingHead:
            let limit = route.config.timeouts.responseHeader.configText
            return resumeAttemptFailed(reason: "no response head within \(limit)")
        case .relaying, .lost, .connecting:
            return .none
        }
    }

    /// The server the stream's upstream is on was taken out of service (health check or ejection) while another
    /// is in service: the stream moves at once (it stands at a client boundary; the unfinished event comes again
    /// from the next server).
    mutating func upstreamTakenOutOfService(reason: String) -> Action {
        guard failover?.phase == .relaying, state == .streaming(.eventStream) else { return .none }
        return failOver(reason: reason)
    }

    /// An event from a resumed upstream reached the client: attempts count from zero again.
    mutating func relayedAfterResume() {
        guard let failover, failover.failedAttempts > 0,
            (eventStream?.eventCount ?? 0) > failover.eventsAtResume
        else { return }
        self.failover?.failedAttempts = 0
    }

    /// What the failover did since last asked.
    mutating func takeResumeReport() -> StreamFailover.Report? {
        defer { resumeReport = nil }
        return resumeReport
    }
}
