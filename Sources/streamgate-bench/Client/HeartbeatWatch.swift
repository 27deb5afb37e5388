/// What the load client expects of a proxy's SSE heartbeats on a quiet stream: a comment line (`:` and the
/// route's heartbeat comment, `""` by default) after `interval` without bytes. A heartbeat's lateness is its
/// arrival minus (the arrival of the stream's previous bytes + `interval`), or 0 when it came in time.
struct HeartbeatWatch: Sendable {
    let intervalNanoseconds: UInt64
    /// The text after the colon of the heartbeat comment line.
    let comment: [UInt8]

    init(interval: Duration, comment: String = "") {
        let parts = interval.components
        self.intervalNanoseconds =
            UInt64(max(0, parts.seconds)) * 1_000_000_000 + UInt64(max(0, parts.attoseconds)) / 1_000_000_000
        self.comment = Array(comment.utf8)
    }

    /// Whether a comment line's text (after the colon) is the heartbeat's.
    func isHeartbeat(_ text: ArraySlice<UInt8>) -> Bool {
        text.elementsEqual(comment)
    }

    /// How late a heartbeat that arrived at `arrival` is, when the stream's previous bytes arrived at
    /// `previousByte` (monotonic nanoseconds).
    func lateness(arrival: UInt64, previousByte: UInt64) -> UInt64 {
        let due = previousByte + intervalNanoseconds
        return arrival > due ? arrival - due : 0
    }
}
