import NIOCore

/// What the live registry shows of a proxied stream, read from its machine and connections on its loop.
extension ProxyStream: LiveStream {
    func snapshot(now: NIODeadline) -> StreamSnapshot {
        StreamSnapshot(
            id: streamID,
            kind: machine.kind,
            phase: machine.phase,
            method: machine.upstreamHead.method.rawValue,
            path: machine.upstreamHead.uri,
            route: route.displayName,
            upstream: route.upstream.name,
            upstreamAddress: upstream.map(lease.address(of:)),
            ageMilliseconds: StreamSnapshot.milliseconds(from: machine.startedAt, to: now),
            idleMilliseconds: StreamSnapshot.milliseconds(from: machine.lastByte, to: now),
            bytesIn: machine.requestBodyBytes,
            bytesOut: machine.responseBodyBytes,
            events: machine.eventStream?.eventCount ?? 0,
            heartbeats: machine.eventStream?.heartbeatCount ?? 0,
            lastEventID: machine.eventStream?.lastEventID,
            queuedBytes: downstream?.queuedResponseBytes ?? 0
        )
    }
}
