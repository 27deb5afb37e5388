import Foundation
import StreamGateProxy

/// The JSON the admin endpoint answers with: snake_case keys, RFC 3339 times with milliseconds, one object per
/// connection with its streams. `takenAt` is the wall-clock time of the snapshot: start times are derived from it
/// and each age, so the registry keeps no wall clock per stream. Written with `JSONWriter` (a snapshot of
/// 10,000 streams is a few megabytes of it).
enum AdminJSON {
    /// `{"connections": [...], "total": N, "upstreams": [...]}`.
    static func connectionList(
        _ connections: [ConnectionSnapshot],
        total: Int,
        upstreams: [UpstreamStatus],
        takenAt: Date
    ) -> [UInt8] {
        var json = JSONWriter(capacity: 1024 + connections.count * 900)
        let now = milliseconds(takenAt)
        json.beginObject()
        json.key("connections")
        json.beginArray()
        for connection in connections {
            write(connection, now: now, into: &json)
        }
        json.endArray()
        json.key("total")
        json.int(total)
        json.key("upstreams")
        write(upstreams, into: &json)
        json.endObject()
        return json.bytes
    }

    /// `{"upstreams": [...]}`: every upstream's servers with their state.
    static func upstreamList(_ upstreams: [UpstreamStatus]) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("upstreams")
        write(upstreams, into: &json)
        json.endObject()
        return json.bytes
    }

    private static func write(_ upstreams: [UpstreamStatus], into json: inout JSONWriter) {
        json.beginArray()
        for upstream in upstreams {
            json.beginObject()
            json.key("name"); json.string(upstream.name)
            json.key("balance"); json.string(upstream.balance.rawValue)
            json.key("servers")
            json.beginArray()
            for server in upstream.servers {
                json.beginObject()
                json.key("address"); json.string(server.address)
                json.key("weight"); json.int(server.weight)
                json.key("state"); json.string(server.state.rawValue)
                json.key("streams"); json.int(server.streamsInFlight)
                json.key("connecting"); json.int(server.connecting)
                json.key("waiting_to_connect"); json.int(server.waitingToConnect)
                json.key("ejections"); json.int(server.ejections)
                json.key("last_failure"); json.string(server.lastFailure)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
    }

    /// One connection object.
    static func connection(_ snapshot: ConnectionSnapshot, takenAt: Date) -> [UInt8] {
        var json = JSONWriter()
        write(snapshot, now: milliseconds(takenAt), into: &json)
        return json.bytes
    }

    private static func write(_ connection: ConnectionSnapshot, now: Int64, into json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.int(connection.id)
        json.key("listener"); json.string(connection.listener)
        json.key("client"); json.string(connection.client)
        json.key("protocol"); json.string(connection.protocolName)
        json.key("tls"); json.bool(connection.tls != nil)
        if let tls = connection.tls {
            json.key("tls_version"); json.string(tls.version)
            json.key("alpn"); json.string(tls.alpn)
            json.key("sni"); json.string(tls.serverName)
        }
        json.key("started_at"); json.string(RFC3339.format(milliseconds: now - connection.ageMilliseconds))
        json.key("age_ms"); json.int(connection.ageMilliseconds)
        json.key("bytes_in"); json.int(connection.bytesIn)
        json.key("bytes_out"); json.int(connection.bytesOut)
        json.key("streams")
        json.beginArray()
        for stream in connection.streams {
            write(stream, now: now, into: &json)
        }
        json.endArray()
        json.endObject()
    }

    private static func write(_ stream: StreamSnapshot, now: Int64, into json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.int(stream.id)
        json.key("kind"); json.string(stream.kind.rawValue)
        json.key("state"); json.string(stream.phase.rawValue)
        json.key("method"); json.string(stream.method)
        json.key("host"); json.string(stream.host)
        json.key("path"); json.string(stream.path)
        json.key("route"); json.string(stream.route)
        json.key("route_name"); json.string(stream.routeName)
        json.key("upstream")
        json.beginObject()
        json.key("name"); json.string(stream.upstream)
        json.key("address"); json.string(stream.upstreamAddress)
        json.endObject()
        json.key("status"); json.int(stream.status)
        json.key("started_at"); json.string(RFC3339.format(milliseconds: now - stream.ageMilliseconds))
        json.key("age_ms"); json.int(stream.ageMilliseconds)
        json.key("idle_ms"); json.int(stream.idleMilliseconds)
        json.key("bytes_in"); json.int(stream.bytesIn)
        json.key("bytes_out"); json.int(stream.bytesOut)
        json.key("events"); json.int(stream.events)
        json.key("heartbeats"); json.int(stream.heartbeats)
        json.key("last_event_id"); json.string(stream.lastEventID)
        json.key("queued_bytes"); json.int(stream.queuedBytes)
        if let resumes = stream.resumes {
            json.key("resumes"); json.int(resumes)
        }
        if let shared = stream.shared {
            json.key("shared")
            json.beginObject()
            json.key("subscribers"); json.int(shared.subscribers)
            json.key("ring_events"); json.int(shared.ringEvents)
            json.endObject()
        }
        json.endObject()
    }

    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// RFC 3339 UTC with milliseconds: `2026-12-02T04:01:24.123Z`.
    static func timestamp(_ date: Date) -> String {
        RFC3339.format(milliseconds: milliseconds(date))
    }
}
