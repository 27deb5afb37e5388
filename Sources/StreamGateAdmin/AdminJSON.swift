import Foundation
import StreamGateProxy

/// The JSON the admin endpoint answers with: snake_case keys, RFC 3339 times with milliseconds, one object per
/// connection with its streams. `takenAt` is the wall-clock time of the snapshot: start times are derived from it
/// and each age, so the registry keeps no wall clock per stream.
enum AdminJSON {
    struct ConnectionList: Encodable {
        var connections: [Connection]
        var total: Int
    }

    struct Connection: Encodable {
        var id: UInt64
        var listener: String
        var client: String
        var `protocol`: String?
        var tls: Bool
        var tlsVersion: String?
        var alpn: String?
        var sni: String?
        var startedAt: String
        var ageMs: Int64
        var bytesIn: Int
        var bytesOut: Int
        var streams: [Stream]

        enum CodingKeys: String, CodingKey {
            case id, listener, client, `protocol`, tls, alpn, sni, streams
            case tlsVersion = "tls_version", startedAt = "started_at", ageMs = "age_ms"
            case bytesIn = "bytes_in", bytesOut = "bytes_out"
        }
    }

    struct Upstream: Encodable {
        var name: String
        var address: String?
    }

    struct Stream: Encodable {
        var id: UInt32
        var kind: String
        var state: String
        var method: String
        var host: String?
        var path: String
        var route: String
        var routeName: String?
        var upstream: Upstream
        var status: Int?
        var startedAt: String
        var ageMs: Int64
        var idleMs: Int64
        var bytesIn: Int
        var bytesOut: Int
        var events: Int
        var heartbeats: Int
        var lastEventID: String?
        var queuedBytes: Int

        enum CodingKeys: String, CodingKey {
            case id, kind, state, method, host, path, route, upstream, status, events, heartbeats
            case routeName = "route_name", startedAt = "started_at", ageMs = "age_ms", idleMs = "idle_ms"
            case bytesIn = "bytes_in", bytesOut = "bytes_out", lastEventID = "last_event_id"
            case queuedBytes = "queued_bytes"
        }
    }

    static func connection(_ snapshot: ConnectionSnapshot, takenAt: Date) -> Connection {
        Connection(
            id: snapshot.id,
            listener: snapshot.listener,
            client: snapshot.client,
            protocol: snapshot.protocolName,
            tls: snapshot.tls != nil,
            tlsVersion: snapshot.tls?.version,
            alpn: snapshot.tls?.alpn,
            sni: snapshot.tls?.serverName,
            startedAt: timestamp(takenAt, minus: snapshot.ageMilliseconds),
            ageMs: snapshot.ageMilliseconds,
            bytesIn: snapshot.bytesIn,
            bytesOut: snapshot.bytesOut,
            streams: snapshot.streams.map { stream($0, takenAt: takenAt) }
        )
    }

    static func stream(_ snapshot: StreamSnapshot, takenAt: Date) -> Stream {
        Stream(
            id: snapshot.id,
            kind: snapshot.kind.rawValue,
            state: snapshot.phase.rawValue,
            method: snapshot.method,
            host: snapshot.host,
            path: snapshot.path,
            route: snapshot.route,
            routeName: snapshot.routeName,
            upstream: Upstream(name: snapshot.upstream, address: snapshot.upstreamAddress),
            status: snapshot.status,
            startedAt: timestamp(takenAt, minus: snapshot.ageMilliseconds),
            ageMs: snapshot.ageMilliseconds,
            idleMs: snapshot.idleMilliseconds,
            bytesIn: snapshot.bytesIn,
            bytesOut: snapshot.bytesOut,
            events: snapshot.events,
            heartbeats: snapshot.heartbeats,
            lastEventID: snapshot.lastEventID,
            queuedBytes: snapshot.queuedBytes
        )
    }

    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// RFC 3339 UTC with milliseconds, `milliseconds` before `date`: `2026-12-02T04:01:24.123Z`.
    static func timestamp(_ date: Date, minus milliseconds: Int64 = 0) -> String {
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) - milliseconds
        var seconds = time_t(total / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(total % 1000)
        )
    }
}
