import NIOCore

/// What the live registry shows of a proxied stream, read from its machine and connections on its loop.
extension ProxyStream: LiveStream {
    func snapshot(now: NIODeadline) -> StreamSnapshot {
        var snapshot = StreamSnapshot(
            id: streamID,
            kind: machine.kind,
            phase: machine.phase,
            method: machine.upstreamHead.method.rawValue,
            host: host,
            path: machine.upstreamHead.uri,
            route: route.displayName,
            routeName: route.config.name,
            upstream: route.upstream.name,
            upstreamAddress: upstream.map(lease.address(of:)),
            status: machine.responseStatus.map { Int($0) },
            ageMilliseconds: StreamSnapshot.milliseconds(from: machine.startedAt, to: now),
            idleMilliseconds: StreamSnapshot.milliseconds(from: machine.lastByte, to: now),
            bytesIn: machine.requestBodyBytes,
            bytesOut: machine.responseBodyBytes,
            events: machine.eventStream?.eventCount ?? 0,
            heartbeats: machine.eventStream?.heartbeatCount ?? 0,
            lastEventID: machine.eventStream?.lastEventID,
            queuedBytes: downstream?.queuedResponseBytes ?? 0
        )
        snapshot.resumes = machine.failover?.resumes
        return snapshot
    }

    var counters: StreamCounters {
        StreamCounters(
            kind: machine.kind,
            route: route.label,
            events: machine.eventStream?.eventCount ?? 0,
            heartbeats: machine.eventStream?.heartbeatCount ?? 0
        )
    }

    func endGracefully(outcome: StreamOutcome) {
        perform(machine.endGracefully(outcome: outcome))
    }

    func drain(_ slot: DrainSlot) {
        perform(machine.drain(slot, now: clock.now(), allocator: ByteBufferAllocator()))
    }
}
