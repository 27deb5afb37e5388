import NIOCore
import StreamGateConfig

/// Where an event stream on a route with `sse.resume` stands with its upstreams: relaying from one, waiting for
/// the next attempt, or trying a new one; the failed attempts in a row, the resumes so far, and the server to
/// avoid next. Owned by the stream's machine (`ProxyStreamStateMachine+Failover` moves it on); a reference, so that
/// a stream on a route without `sse.resume` carries one nil pointer instead of these fields.
final class StreamFailover {
    enum Phase: Equatable {
        /// Events flow from the current upstream.
        case relaying
        /// The upstream was lost (or the attempt failed): the owner closes it and schedules the next attempt.
        case lost
        /// The upstream is gone; the next attempt starts at `until`.
        case waiting(until: NIODeadline)
        /// An upstream is being leased for the attempt under way.
        case connecting
        /// The request went to the new upstream; its head is due by `deadline` (nil: the route sets no limit).
        case awaitingHead(deadline: NIODeadline?)
    }

    /// What the failover just did, for the stream's log line and the `streamgate_sse_resumes_total` metric.
    enum Report: Equatable {
        /// A new upstream answered: the stream goes on from `lastEventID`.
        case resumed(attempt: Int, lastEventID: String)
        /// One attempt failed; another follows.
        case attemptFailed(attempt: Int, reason: String)
        /// `resume_attempts` attempts failed in a row: the client stream ended.
        case gaveUp(attempts: Int, reason: String)
        /// The upstream failed before any event id reached the client: nothing to resume from.
        case noEventID(reason: String)
    }

    let config: SSEResumeConfig
    var phase = Phase.relaying
    /// Attempts that failed in a row; back to zero once an event from a resumed upstream reached the client.
    var failedAttempts = 0
    /// Successful resumes of this stream.
    var resumes = 0
    /// The client's last event id, which the attempt under way sends as `Last-Event-ID`.
    var lastEventID = ""
    /// The server the lost upstream was on: the next attempt goes elsewhere when another server is available.
    var avoidServer: Int?
    /// The stream's event count when the last resume succeeded: an event past it resets `failedAttempts`.
    var eventsAtResume = 0

    init(config: SSEResumeConfig) {
        self.config = config
    }

    /// The attempt under way (or next), counted from 1.
    var attempt: Int { failedAttempts + 1 }

    /// When the current phase runs out: the start of the next attempt, or the head of the one under way.
    var deadline: NIODeadline? {
        switch phase {
        case .relaying, .lost, .connecting: nil
        case .waiting(let until): until
        case .awaitingHead(let deadline): deadline
        }
    }

    /// The wait before the attempt under way: none for the first when another server can take it, else
    /// `resume_backoff` doubled for every attempt that failed before (up to `maximumBackoff`), times `jitter`
    /// (0.5 ... 1.5, so streams that lost the same server do not come back in a herd).
    func backoff(alternativeAvailable: Bool, jitter: Double) -> TimeAmount {
        if failedAttempts == 0 && alternativeAvailable {
            return .zero
        }
        let base = TimeAmount(config.backoff).nanoseconds
        let cap = TimeAmount(SSEResumeConfig.maximumBackoff).nanoseconds
        var delay = base
        for _ in 0..<min(failedAttempts, 16) where delay < cap {
            delay *= 2
        }
        let jittered = Double(min(delay, cap)) * min(max(jitter, 0.5), 1.5)
        return .nanoseconds(Int64(jittered))
    }
}
