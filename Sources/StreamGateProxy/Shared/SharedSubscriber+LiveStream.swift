import NIOCore

/// What the live registry shows of a shared feed's subscriber, and how a drain or the admin ends one: it only
/// ever stands between events, so it can end at once.
extension SharedSubscriber: LiveStream {
    func snapshot(now: NIODeadline) -> StreamSnapshot {
        var snapshot = StreamSnapshot(
            id: streamID,
            kind: .sse,
            phase: phase == .waiting ? .awaitingHead : (phase == .finished ? .finished : .streaming),
            method: origin.upstreamHead.method.rawValue,
            host: host,
            path: origin.upstreamHead.uri,
            route: route.displayName,
            routeName: route.config.name,
            upstream: route.upstream.name,
            upstreamAddress: feed?.upstreamAddress,
            status: phase == .streaming ? 200 : nil,
            ageMilliseconds: StreamSnapshot.milliseconds(from: startedAt, to: now),
            idleMilliseconds: StreamSnapshot.milliseconds(from: lastByte, to: now),
            bytesIn: 0,
            bytesOut: bytesOut,
            events: events,
            heartbeats: heartbeats,
            lastEventID: lastEventID,
            queuedBytes: downstream?.queuedResponseBytes ?? 0
        )
        if let feed {
            snapshot.shared = SharedFeedSummary(subscribers: feed.subscriberCount, ringEvents: feed.ring.count)
        }
        return snapshot
    }

    var counters: StreamCounters {
        StreamCounters(
            kind: .sse,
            route: route.label,
            events: events,
            heartbeats: heartbeats,
            sharedFeed: feed.map(ObjectIdentifier.init)
        )
    }

    func endGracefully(outcome: StreamOutcome) {
        end(outcome, clean: true, reason: "closed through the admin endpoint")
    }

    /// Told its `retry:` now (it stands between events), ended at its slot.
    func drain(_ slot: DrainSlot) {
        guard phase == .streaming || phase == .waiting else { return }
        if phase == .streaming, let retry = slot.retryField(allocator: ByteBufferAllocator()) {
            downstream?.sendResponseBody(retry)
            downstream?.flushResponse()
        }
        end(at: slot.endAt, .drained, reason: "StreamGate is shutting down (drain)")
    }
}
