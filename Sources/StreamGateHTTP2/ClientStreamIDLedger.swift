/// Which client stream ids of one HTTP/2 connection were skipped: opening stream N closes every lower idle id
/// (RFC 9113 section 5.1.1), so a later HEADERS on one of them is a connection error. nghttp2 only remembers the
/// highest id it saw and ignores such a HEADERS, which leaves the client waiting for an answer that never comes.
///
/// Clients normally open ids in order (1, 3, 5, ...), so the ledger holds nothing. Each jump adds one range, and
/// at most `capacity` ranges are kept (the oldest are forgotten first), so a client that skips on purpose cannot
/// grow it.
struct ClientStreamIDLedger {
    /// What a client HEADERS frame's stream id is to this connection.
    enum Verdict: Equatable {
        /// Higher than any seen: a new stream.
        case new
        /// A stream the client opened before (trailers, or frames racing our RST_STREAM): nghttp2 decides.
        case known
        /// An id the client skipped: closed without ever being used.
        case skipped
    }

    static let defaultCapacity = 64

    private let capacity: Int
    private(set) var highestOpened: Int32 = 0
    /// Skipped ids, as closed ranges of odd ids, oldest first.
    private var skipped: [ClosedRange<Int32>] = []

    init(capacity: Int = Self.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Records a client HEADERS frame on `streamID` (odd, non-zero) and says what it is.
    mutating func headersReceived(streamID: Int32) -> Verdict {
        if streamID > highestOpened {
            let firstSkipped = highestOpened == 0 ? 1 : highestOpened + 2
            if streamID > firstSkipped {
                if skipped.count == capacity {
                    skipped.removeFirst()
                }
                skipped.append(firstSkipped...(streamID - 2))
            }
            highestOpened = streamID
            return .new
        }
        return skipped.contains { $0.contains(streamID) } ? .skipped : .known
    }
}
