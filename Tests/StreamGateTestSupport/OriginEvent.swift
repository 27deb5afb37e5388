import Foundation

/// One server-sent event from `TestOrigin`: its sequence number (from 1) and the origin's clock when it was written,
/// in milliseconds since the Unix epoch.
public struct OriginEvent: Codable, Equatable, Sendable {
    public let seq: Int
    public let sentAt: Int64

    public init(seq: Int, sentAt: Int64) {
        self.seq = seq
        self.sentAt = sentAt
    }

    /// The event as it goes on the wire (WHATWG HTML, "server-sent events").
    var wireText: String {
        "id: \(seq)\ndata: {\"seq\":\(seq),\"sentAt\":\(sentAt)}\n\n"
    }

    /// Parses a `data: {...}` line as the origin writes it; nil for any other line.
    public static func parse(dataLine line: String) -> OriginEvent? {
        guard line.hasPrefix("data: ") else { return nil }
        let json = Data(line.dropFirst("data: ".count).utf8)
        return try? JSONDecoder().decode(OriginEvent.self, from: json)
    }
}
