/// What the failover scenario's clients saw, from every tracked stream's `EventIDLog` read at `readAt` (monotonic
/// ns): events lost (ids from a stream's first one through `lastExpected` that never arrived, so a stream that ended
/// early loses the rest), events that arrived twice or more, open streams that got no event at all, and the
/// longest gap between two consecutive events (an open stream's time since its latest event counts too, so a stream
/// that stalls without ending shows). Streams whose first event came from the killed origin (by its data tag) are
/// the moved ones; the median of their longest gaps is the typical failover as a client sees it.
struct FailoverTally: Sendable {
    var lost = 0
    var duplicated = 0
    /// Events without a numeric id, or with an id out of their stream's range.
    var unexpected = 0
    /// Open streams without a single event.
    var silent = 0
    var longestGapNanoseconds: UInt64 = 0
    /// Streams whose first event came from the killed origin.
    var moved = 0
    /// Moved streams whose latest event came from the other origin.
    var resumed = 0
    /// Each moved stream's longest gap, in milliseconds.
    var movedLongestGapsMilliseconds: [Double] = []

    init(streams: [TrackedStream], lastExpected: UInt64, readAt: UInt64, killedTag: UInt64, survivorTag: UInt64) {
        for stream in streams {
            let log = stream.log
            lost += log.missing(through: lastExpected)
            duplicated += log.duplicates
            unexpected += log.unexpected
            if stream.open && log.lastEventAt == 0 {
                silent += 1
            }
            var gap = log.longestGapNanoseconds
            if stream.open, log.lastEventAt > 0, readAt > log.lastEventAt {
                gap = max(gap, readAt - log.lastEventAt)
            }
            longestGapNanoseconds = max(longestGapNanoseconds, gap)
            if log.firstTag == killedTag {
                moved += 1
                movedLongestGapsMilliseconds.append(Double(gap) / 1e6)
                if log.lastTag == survivorTag {
                    resumed += 1
                }
            }
        }
    }

    var longestGapMilliseconds: Double { Double(longestGapNanoseconds) / 1e6 }
}
