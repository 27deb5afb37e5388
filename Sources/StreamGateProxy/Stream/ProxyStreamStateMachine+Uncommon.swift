import NIOCore

extension ProxyStreamStateMachine {
    /// The machine's state that most streams never set, allocated by the first one that does. Copied before a
    /// change when another machine value shares it, so the machine keeps value semantics.
    final class UncommonState {
        var resumeReport: StreamFailover.Report?
        var pendingEnd: (outcome: StreamOutcome, reason: String)?
        var drainDeadline: NIODeadline?
        var drainRetry: ByteBuffer?

        init() {}

        init(copying other: UncommonState) {
            resumeReport = other.resumeReport
            pendingEnd = other.pendingEnd
            drainDeadline = other.drainDeadline
            drainRetry = other.drainRetry
        }
    }

    /// What the failover did last, for the owner's log and metrics; taken with `takeResumeReport()`.
    var resumeReport: StreamFailover.Report? {
        get { uncommon?.resumeReport }
        set { changeUncommon(setting: newValue != nil) { $0.resumeReport = newValue } }
    }

    /// Why the stream ends at its next event boundary, once that was asked for.
    var pendingEnd: (outcome: StreamOutcome, reason: String)? {
        get { uncommon?.pendingEnd }
        set { changeUncommon(setting: newValue != nil) { $0.pendingEnd = newValue } }
    }

    /// When a drain ends this event stream (at the next boundary from then on).
    var drainDeadline: NIODeadline? {
        get { uncommon?.drainDeadline }
        set { changeUncommon(setting: newValue != nil) { $0.drainDeadline = newValue } }
    }

    /// A drain's `retry:` field that found the stream inside an event: it goes out with the stream's end.
    var drainRetry: ByteBuffer? {
        get { uncommon?.drainRetry }
        set { changeUncommon(setting: newValue != nil) { $0.drainRetry = newValue } }
    }

    /// Clearing a field of a machine that never set one allocates nothing.
    private mutating func changeUncommon(setting: Bool, _ change: (UncommonState) -> Void) {
        if uncommon == nil {
            guard setting else { return }
            uncommon = UncommonState()
        } else if !isKnownUniquelyReferenced(&uncommon) {
            uncommon = UncommonState(copying: uncommon!)
        }
        change(uncommon!)
    }
}
