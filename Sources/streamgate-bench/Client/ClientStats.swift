/// What the load client saw on its streams, cumulative since the streams were opened, except `latency` and
/// `heartbeatLateness`, which cover only the current measurement window (see `LoadClient.resetLatency()`).
/// Merged over connections.
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
    /// Heartbeat comments seen on streams that watch for them (`HeartbeatWatch`).
    var heartbeats: UInt64 = 0
    /// How late each heartbeat came, and how overdue each stream's next one was when the window closed.
    var heartbeatLateness = LatencyHistogram()
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
        heartbeats += other.heartbeats
        heartbeatLateness.merge(other.heartbeatLateness)
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

/// One stream's progress as the client sees it: status, then body bytes through the SSE parser, when the last of
/// them arrived (for heartbeat lateness), and, when tracked, the ids of its events.
struct StreamProgress {
    var status: Int?
    var finished = false
    /// Set to a fresh log to track this stream's event ids (the failover scenario); nil otherwise.
    var eventIDs: EventIDLog?
    private var parser = SSELineParser()
    /// When the last read that brought body bytes on this stream happened (monotonic ns); 0 before the first.
    private var lastBodyAt: UInt64 = 0

    /// Parses body bytes read at `now`; counts events and, if `recordLatency`, their latency against `now`; with a
    /// `heartbeats` watch, counts heartbeat comments and records their lateness. A heartbeat is timed from the
    /// stream's previous read, or from `now` when an event or another comment came before it in this read.
    mutating func receiveBody(
        _ bytes: UnsafeRawBufferPointer,
        now: UInt64,
        recordLatency: Bool,
        heartbeats: HeartbeatWatch? = nil,
        into stats: inout ClientStats
    ) {
        stats.bodyBytes += UInt64(bytes.count)
        var previousByte = lastBodyAt
        // Moved out while the parser runs (the closure must not touch `self`), and so never copied.
        var idLog = eventIDs
        eventIDs = nil
        defer { eventIDs = idLog }
        parser.consume(bytes) { event in
            stats.events += 1
            if recordLatency, let timestamp = event.dataNumber, timestamp <= now {
                stats.latency.record(nanoseconds: now - timestamp)
            }
            idLog?.record(event, at: now)
            previousByte = now
        } onComment: { text in
            if let heartbeats, heartbeats.isHeartbeat(text) {
                stats.heartbeats += 1
                if previousByte > 0 {
                    stats.heartbeatLateness.record(
                        nanoseconds: heartbeats.lateness(arrival: now, previousByte: previousByte)
                    )
                }
            }
            previousByte = now
        }
        lastBodyAt = now
    }

    /// At the end of a window: records how overdue this stream's next heartbeat is at `now`, if it is; a stream
    /// the proxy stopped heartbeating must not go unnoticed just because nothing arrived to be timed.
    func recordOverdueHeartbeat(now: UInt64, watch: HeartbeatWatch, into stats: inout ClientStats) {
        guard status == 200, !finished, lastBodyAt > 0 else { return }
        let overdue = watch.lateness(arrival: now, previousByte: lastBodyAt)
        if overdue > 0 {
            stats.heartbeatLateness.record(nanoseconds: overdue)
        }
    }
}
