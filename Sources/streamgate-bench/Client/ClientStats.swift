/// What the load client saw on its streams, cumulative since the streams were opened, except `latency`, which
/// covers only the current measurement window (see `LoadClient.startWindow()`). Merged over connections.
struct ClientStats: Sendable {
    var streamsRequested = 0
    /// Streams whose response head said 200.
    var streamsOpen = 0
    /// Streams answered with another status, reset, or lost with their connection.
    var streamsFailed = 0
    /// Streams the server ended (END_STREAM or end of an HTTP/1.1 response) while the client still wanted them.
    var streamsEnded = 0
    var events: UInt64 = 0
    var bodyBytes: UInt64 = 0
    var latency = LatencyHistogram()
    /// The first few distinct failure reasons, e.g. "status 502", "RST_STREAM 2", "connection closed".
    var failureReasons: [String] = []

    mutating func merge(_ other: ClientStats) {
        streamsRequested += other.streamsRequested
        streamsOpen += other.streamsOpen
        streamsFailed += other.streamsFailed
        streamsEnded += other.streamsEnded
        events += other.events
        bodyBytes += other.bodyBytes
        latency.merge(other.latency)
        for reason in other.failureReasons {
            noteFailure(reason)
        }
    }

    mutating func noteFailure(_ reason: String) {
        if failureReasons.count < 8 && !failureReasons.contains(reason) {
            failureReasons.append(reason)
        }
    }

    /// Streams that have had their answer (good or bad).
    var streamsSettled: Int { streamsOpen + streamsFailed }
}

/// One stream's progress as the client sees it: status, then body bytes through the SSE parser.
struct StreamProgress {
    var status: Int?
    var finished = false
    private var parser = SSELineParser()

    /// Parses body bytes; counts events and, if `recordLatency`, their latency against `now`.
    mutating func receiveBody(
        _ bytes: UnsafeRawBufferPointer,
        now: UInt64,
        recordLatency: Bool,
        into stats: inout ClientStats
    ) {
        stats.bodyBytes += UInt64(bytes.count)
        parser.consume(bytes) { timestamp in
            stats.events += 1
            if recordLatency, let timestamp, timestamp <= now {
                stats.latency.record(nanoseconds: now - timestamp)
            }
        }
    }
}
