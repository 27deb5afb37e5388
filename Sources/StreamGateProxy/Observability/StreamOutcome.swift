/// How a stream ended: the `outcome` of stream metrics and access-log lines.
public enum StreamOutcome: String, Sendable, CaseIterable {
    /// The response ended cleanly, or the tunnel closed from one of its sides.
    case ok
    /// StreamGate answered the request itself (no route, malformed request, forbidden origin).
    case local
    /// The client went away or reset the stream before the response ended.
    case clientGone = "client_gone"
    /// The upstream could not be reached, failed before responding, or broke off mid-response.
    case upstreamError = "upstream_error"
    /// No response head within the route's `response_header` timeout.
    case timeoutResponseHeader = "timeout_response_header"
    /// No bytes either way for the route's `idle` timeout.
    case timeoutIdle = "timeout_idle"
    /// The route's `max_lifetime` passed.
    case timeoutLifetime = "timeout_lifetime"
    /// Ended by StreamGate's shutdown drain.
    case drained
    /// Ended through the admin endpoint (`DELETE /connections/{id}`, `DELETE /streams/{conn}/{stream}`).
    case closedByAdmin = "closed_by_admin"
    /// A peer broke the protocol of the stream (WebSocket framing).
    case protocolError = "protocol_error"
    /// The request body grew past the route's `max_request_body` while streaming in.
    case requestTooLarge = "request_too_large"
    /// The client did not take the stream's bytes for `limits.slow_consumer_timeout`.
    case slowConsumer = "slow_consumer"
}

/// What a stream carries, as the admin view and metrics name it.
public enum StreamKind: String, Sendable, CaseIterable {
    /// An ordinary request and response.
    case http
    /// A `text/event-stream` response.
    case sse
    /// A WebSocket tunnel (HTTP/1.1 Upgrade or RFC 8441 extended CONNECT).
    case websocket
}

/// Where a stream stands in its life, as the admin view shows it.
public enum StreamPhase: String, Sendable {
    /// Waiting for an upstream connection.
    case connecting
    /// The request went upstream; no response head yet.
    case awaitingHead = "awaiting_head"
    /// The response (or the tunnel) is flowing.
    case streaming
    /// The upstream accepted a WebSocket upgrade; the tunnel is being set up.
    case upgrading
    /// The stream ends at its next event boundary (max_lifetime or shutdown).
    case draining
    /// An event stream lost its upstream and StreamGate is opening another (`sse.resume`); the client's stream
    /// stays open meanwhile.
    case resuming
    /// Over; about to leave the registry.
    case finished
}

/// What came of an event stream losing its upstream on a route with `sse.resume`: the `result` label of
/// `streamgate_sse_resumes_total`.
public enum ResumeResult: String, Sendable, CaseIterable {
    /// Another upstream answered and the client's stream went on.
    case resumed
    /// `resume_attempts` attempts failed in a row: the client's stream ended at an event boundary.
    case failed
    /// No event id had reached the client, so nothing said where to resume: the client's stream ended.
    case noID = "no_id"
}
