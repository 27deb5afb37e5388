/// One stream's events as the client saw them, for the failover and shared scenarios: how many times each numeric
/// event id arrived (from the first id seen on), which origin served the first and the latest event (the number
/// their data starts with, the failover origins' tag), and the longest time between two consecutive events. Kept
/// per stream only when the load asks for it (`LoadShape.trackEventIDs`).
struct EventIDLog: Sendable {
    /// The most ids past the first one a log keeps count of (about 29 hours at 10 events/s); later ones count as
    /// unexpected.
    static let maxSpan: UInt64 = 1 << 20

    /// The first id seen; nil before the first event with a numeric id.
    private(set) var firstID: UInt64?
    /// How many times each id arrived, indexed by id - `firstID` (capped at 255).
    private(set) var counts: [UInt8] = []
    /// Events without a numeric id, or with an id below the first one or past `maxSpan`.
    private(set) var unexpected = 0
    /// The data tag of the first event, and of the latest one.
    private(set) var firstTag: UInt64?
    private(set) var lastTag: UInt64?
    /// When the latest event arrived (monotonic ns, the read that brought it); 0 before the first.
    private(set) var lastEventAt: UInt64 = 0
    /// The longest time between the arrivals of two consecutive events, in nanoseconds.
    private(set) var longestGapNanoseconds: UInt64 = 0

    /// Counts `event`, read at `now`.
    mutating func record(_ event: SSELineParser.Event, at now: UInt64) {
        if lastEventAt > 0, now > lastEventAt {
            longestGapNanoseconds = max(longestGapNanoseconds, now - lastEventAt)
        }
        lastEventAt = now
        if firstTag == nil {
            firstTag = event.dataNumber
        }
        lastTag = event.dataNumber
        guard let id = event.id else {
            unexpected += 1
            return
        }
        let first = firstID ?? id
        firstID = first
        guard id >= first, id - first < Self.maxSpan else {
            unexpected += 1
            return
        }
        let index = Int(id - first)
        if index >= counts.count {
            counts.append(contentsOf: repeatElement(0, count: index + 1 - counts.count))
        }
        if counts[index] < UInt8.max {
            counts[index] += 1
        }
    }

    /// Ids from the first one through `lastExpected` that never arrived (0 before the first id).
    func missing(through lastExpected: UInt64) -> Int {
        guard let firstID, lastExpected >= firstID else { return 0 }
        let span = Int(min(lastExpected - firstID, Self.maxSpan - 1)) + 1
        return span - counts.prefix(span).filter { $0 > 0 }.count
    }

    /// Ids between the first and the highest one that arrived that never did: events lost on the way, whatever the
    /// delay of those still to come.
    var gaps: Int {
        guard let firstID, !counts.isEmpty else { return 0 }
        return missing(through: firstID + UInt64(counts.count - 1))
    }

    /// Arrivals beyond the first of each id.
    var duplicates: Int {
        counts.reduce(0) { $0 + max(0, Int($1) - 1) }
    }
}

/// One tracked stream at the moment it was read: its log, and whether it was still open (answered 200, not ended,
/// reset or lost with its connection).
struct TrackedStream: Sendable {
    var log: EventIDLog
    var open: Bool
}
