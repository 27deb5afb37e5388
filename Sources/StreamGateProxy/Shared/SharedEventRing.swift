import NIOCore

/// The events of one shared feed kept for its subscribers: each whole event once (a slice of what the upstream
/// sent, shared by every subscriber that writes it), numbered in order, bounded by a count and a byte total. A
/// subscriber is a position in this sequence; one whose next event was dropped fell off the end. On its feed's loop.
struct SharedEventRing {
    struct Entry {
        let sequence: Int
        /// The event's id as a client would hold it after it (the WHATWG last event ID string); nil before any.
        let id: String?
        let bytes: ByteBuffer
    }

    let maximumEvents: Int
    let maximumBytes: Int
    private var entries = CircularBuffer<Entry>()
    /// The sequence number the next event gets.
    private(set) var nextSequence = 0
    private(set) var byteCount = 0

    init(maximumEvents: Int, maximumBytes: Int) {
        self.maximumEvents = maximumEvents
        self.maximumBytes = maximumBytes
        self.entries = CircularBuffer(initialCapacity: min(maximumEvents, 64))
    }

    /// The sequence number of the oldest event kept (`nextSequence` when none is).
    var firstSequence: Int { entries.first?.sequence ?? nextSequence }
    var count: Int { entries.count }

    /// Keeps one more event, dropping the oldest while over either bound (the newest stays even when it alone is
    /// over the byte bound).
    mutating func append(_ bytes: ByteBuffer, id: String?) {
        entries.append(Entry(sequence: nextSequence, id: id, bytes: bytes))
        nextSequence += 1
        byteCount += bytes.readableBytes
        while entries.count > maximumEvents || (byteCount > maximumBytes && entries.count > 1) {
            byteCount -= entries.removeFirst().bytes.readableBytes
        }
    }

    /// The event numbered `sequence`, while it is kept.
    func entry(_ sequence: Int) -> Entry? {
        let first = firstSequence
        guard sequence >= first, sequence < nextSequence else { return nil }
        return entries[entries.index(entries.startIndex, offsetBy: sequence - first)]
    }

    /// Where a client that holds `id` as its last event ID goes on: right after the oldest kept event that left
    /// a client with that id. Nil when no kept event did (it was dropped, or never seen here).
    func sequence(after id: String) -> Int? {
        entries.first { $0.id == id }.map { $0.sequence + 1 }
    }
}
