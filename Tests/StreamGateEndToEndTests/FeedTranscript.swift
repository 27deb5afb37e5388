import Foundation
import StreamGateTestSupport

/// What a client read of `failover_feed_origin.py`'s feed, block by block (the lines between blank lines): the whole
/// events in order, the comment blocks (heartbeats), every other block (a partial event relayed, say), and the lines
/// after the last blank line (an event the stream was cut inside).
struct FeedTranscript {
    /// One whole event: `id: N` (absent for an origin started with --no-ids) and `data: {"seq": N, "via": PORT}`.
    struct Event {
        let id: Int?
        let seq: Int
        /// The port of the origin that sent it.
        let via: Int
        /// The index of its first line among the client's lines.
        let line: Int
        /// When the client read it (ms since the epoch).
        let arrivedAt: Double
    }

    private(set) var events: [Event] = []
    /// The line indexes of comment blocks.
    private(set) var comments: [Int] = []
    /// Blocks that are neither a whole event of the feed nor a comment, as text.
    private(set) var malformed: [String] = []
    /// The lines after the last blank line: empty when the stream stands (or ended) at an event boundary.
    private(set) var unfinished: [String] = []

    init(_ lines: [CurlStream.Line]) {
        var block: [(index: Int, line: CurlStream.Line)] = []
        for (index, line) in lines.enumerated() {
            if line.text.isEmpty {
                take(block)
                block = []
            } else {
                block.append((index, line))
            }
        }
        unfinished = block.map(\.line.text)
    }

    /// The events' `seq` values in the order the client read them.
    var seqs: [Int] { events.map(\.seq) }

    private mutating func take(_ block: [(index: Int, line: CurlStream.Line)]) {
        guard let first = block.first else { return }
        var texts = block.map(\.line.text)
        if texts.allSatisfy({ $0.hasPrefix(":") }) {
            comments.append(first.index)
            return
        }
        let whole = texts.joined(separator: "\n")
        var id: Int?
        if texts[0].hasPrefix("id: ") {
            id = Int(texts.removeFirst().dropFirst(4))
            if id == nil {
                malformed.append(whole)
                return
            }
        }
        guard texts.count == 1, texts[0].hasPrefix("data: "),
              let object = try? JSONSerialization.jsonObject(with: Data(texts[0].dropFirst(6).utf8)) as? [String: Any],
              let seq = object["seq"] as? Int, let via = object["via"] as? Int, id == nil || id == seq
        else {
            malformed.append(whole)
            return
        }
        events.append(Event(id: id, seq: seq, via: via, line: first.index, arrivedAt: first.line.arrivedAt))
    }
}
