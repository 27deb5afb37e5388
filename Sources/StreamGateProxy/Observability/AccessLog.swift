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
            var fields: [(String, JSONValue)] = [
                ("time", .string(time)), ("connection", .int(Int(finished.connectionID))),
                ("stream", .int(Int(stream.id))), ("client", .string(finished.client)),
                ("listener", .string(finished.listener)), ("protocol", .optional(finished.protocolName)),
                ("method", .string(stream.method)), ("host", .optional(stream.host)), ("path", .string(stream.path)),
                ("status", stream.status.map { .int($0) } ?? .null),
                ("route", .optional(stream.routeName ?? (stream.route.isEmpty ? nil : stream.route))),
                ("upstream", .optional(stream.upstreamAddress)), ("duration_ms", .int(Int(stream.ageMilliseconds))),
                ("bytes_in", .int(stream.bytesIn)), ("bytes_out", .int(stream.bytesOut)),
                ("kind", .string(stream.kind.rawValue)), ("events", .int(stream.events)),
                ("heartbeats", .int(stream.heartbeats)), ("outcome", .string(finished.outcome.rawValue)),
            ]
            fields.append(("last_event_id", .optional(stream.lastEventID)))
            return JSONValue.object(fields)
        }
    }
}

/// Timestamps for log lines: RFC 3339, UTC, milliseconds.
public enum LogTimestamp {
    public static func rfc3339(_ date: Date) -> String {
        RFC3339.format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }
}

/// A JSON value for one log line, written in field order (no encoder, no dictionary).
public enum JSONValue {
    case string(String)
    case int(Int)
    case null

    public static func optional(_ text: String?) -> JSONValue {
        text.map { .string($0) } ?? .null
    }

    /// `{"a":1,"b":"x"}` from ordered fields.
    public static func object(_ fields: [(String, JSONValue)]) -> String {
        var out = "{"
        for (index, (name, value)) in fields.enumerated() {
            if index > 0 { out += "," }
            out += quoted(name) + ":"
            switch value {
            case .string(let text): out += quoted(text)
            case .int(let number): out += String(number)
            case .null: out += "null"
            }
        }
        return out + "}"
    }

    /// `text` as a JSON string literal (RFC 8259 escapes).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += String(format: "\\u%04x", control.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
