import Foundation
import StreamGateTestSupport

/// What a client read of `shared_feed_origin.py`'s feed: the whole events in order, the comment lines (heartbeats,
/// the first `:`, `: missed events before N`), and every block that is neither. Lines after the last blank line (an
/// event the client was stopped inside) are left out.
struct SharedFeedTranscript {
    /// One whole event: `id: N` and `data: {"seq": N, "via": PORT, "stream": K, ...}`.
    struct Event {
        let seq: Int
        /// The origin's number of the upstream request it came on: the same for the subscribers of one feed.
        let stream: Int
        /// The port of the origin that sent it.
        let via: Int
        /// The data line as read, to compare what two clients got.
        let data: String
        /// The index of its first line among the client's lines.
        let line: Int
    }

    /// One comment line and its index among the client's lines.
    struct Comment {
        let text: String
        let line: Int
    }

    private(set) var events: [Event] = []
    private(set) var comments: [Comment] = []
    /// Blocks that are not a whole event of the feed, as text.
    private(set) var malformed: [String] = []

    init(_ lines: [String]) {
        var block: [(index: Int, text: String)] = []
        for (index, text) in lines.enumerated() {
            if text.isEmpty {
                take(block)
                block = []
            } else if text.hasPrefix(":") {
                comments.append(Comment(text: text, line: index))
            } else {
                block.append((index, text))
            }
        }
    }

    init(_ client: CurlStream) {
        self.init(client.lines.map(\.text))
    }

    /// The events' `seq` values in the order the client read them.
    var seqs: [Int] { events.map(\.seq) }

    /// The upstream requests (their numbers at the origin) the events came on.
    var streams: Set<Int> { Set(events.map(\.stream)) }

    /// The data line of each event by its seq.
    var dataBySeq: [Int: String] {
        Dictionary(events.map { ($0.seq, $0.data) }, uniquingKeysWith: { first, _ in first })
    }

    private mutating func take(_ block: [(index: Int, text: String)]) {
        guard let first = block.first else { return }
        let whole = block.map(\.text).joined(separator: "\n")
        guard block.count == 2, first.text.hasPrefix("id: "), let id = Int(first.text.dropFirst(4)),
              block[1].text.hasPrefix("data: "),
              let object = try? JSONSerialization.jsonObject(with: Data(block[1].text.dropFirst(6).utf8)),
              let fields = object as? [String: Any],
              let seq = fields["seq"] as? Int, let stream = fields["stream"] as? Int, let via = fields["via"] as? Int,
              seq == id
        else {
            malformed.append(String(whole.prefix(200)))
            return
        }
        events.append(Event(seq: seq, stream: stream, via: via, data: block[1].text, line: first.index))
    }
}
