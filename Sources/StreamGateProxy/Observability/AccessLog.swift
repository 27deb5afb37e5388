import Foundation
import NIOCore
import StreamGateConfig

/// The access log: one line per finished stream (SSE and WebSocket included, written when they end), formatted
/// on the stream's event loop and written by `AccessLogWriter` on its own thread, so no event loop ever waits on
/// a disk. Text lines read like nginx's; JSON lines carry the same fields.
public final class AccessLog: StreamObserver {
    private let format: LogFormat
    private let writer: AccessLogWriter

    public init(config: AccessLogConfig) throws {
        self.format = config.format
        self.writer = try AccessLogWriter(destination: config.destination)
    }

    public func streamFinished(_ finished: FinishedStream) {
        writer.append(Self.line(finished, format: format, at: Date()))
    }

    public func responseHeadArrived(route: String, latency: TimeAmount) {}

    /// Reopens the file (after logrotate moved it); standard output and error stay as they are.
    public func reopen() {
        writer.reopen()
    }

    /// Writes out what is queued and stops the writer thread.
    public func close() {
        writer.close()
    }

    static func line(_ finished: FinishedStream, format: LogFormat, at now: Date) -> String {
        let stream = finished.stream
        let time = LogTimestamp.rfc3339(now)
        switch format {
        case .text:
            var line = "\(time) conn=\(finished.connectionID) stream=\(stream.id) client=\(finished.client)"
            line += " listener=\(finished.listener) proto=\(finished.protocolName ?? "-")"
            line += " \"\(stream.method) \(stream.host ?? "-") \(stream.path)\" \(stream.status.map(String.init) ?? "-")"
            line += " route=\(stream.routeName ?? (stream.route.isEmpty ? "-" : stream.route))"
            line += " upstream=\(stream.upstreamAddress ?? "-") duration_ms=\(stream.ageMilliseconds)"
            line += " bytes_in=\(stream.bytesIn) bytes_out=\(stream.bytesOut) kind=\(stream.kind.rawValue)"
            line += " events=\(stream.events) heartbeats=\(stream.heartbeats) outcome=\(finished.outcome.rawValue)"
            line += " last_event_id=\(stream.lastEventID.map { "\"\($0)\"" } ?? "-")"
            return line
        case .json:
            var json = JSONWriter(capacity: 512)
            json.beginObject()
            json.key("time"); json.string(time)
            json.key("connection"); json.int(finished.connectionID)
            json.key("stream"); json.int(stream.id)
            json.key("client"); json.string(finished.client)
            json.key("listener"); json.string(finished.listener)
            json.key("protocol"); json.string(finished.protocolName)
            json.key("method"); json.string(stream.method)
            json.key("host"); json.string(stream.host)
            json.key("path"); json.string(stream.path)
            json.key("status"); json.int(stream.status)
            json.key("route"); json.string(stream.routeName ?? (stream.route.isEmpty ? nil : stream.route))
            json.key("upstream"); json.string(stream.upstreamAddress)
            json.key("duration_ms"); json.int(stream.ageMilliseconds)
            json.key("bytes_in"); json.int(stream.bytesIn)
            json.key("bytes_out"); json.int(stream.bytesOut)
            json.key("kind"); json.string(stream.kind.rawValue)
            json.key("events"); json.int(stream.events)
            json.key("heartbeats"); json.int(stream.heartbeats)
            json.key("outcome"); json.string(finished.outcome.rawValue)
            json.key("last_event_id"); json.string(stream.lastEventID)
            json.endObject()
            return json.text
        }
    }
}

/// Timestamps for log lines: RFC 3339, UTC, milliseconds.
public enum LogTimestamp {
    public static func rfc3339(_ date: Date) -> String {
        RFC3339.format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
