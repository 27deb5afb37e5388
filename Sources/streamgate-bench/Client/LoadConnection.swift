/// A load-client connection handler the `LoadClient` can ask for its numbers. Only ever called on the handler's
/// event loop (through `NIOLoopBound`).
protocol LoadConnection: AnyObject {
    var stats: ClientStats { get }
    /// Starts a new measurement window: clears the latency histograms.
    func resetLatency()
    /// Ends a heartbeat window: every open stream whose next heartbeat is overdue records how overdue it is.
    func recordOverdueHeartbeats()
    /// Stops counting failures: the client is about to close the connection on purpose.
    func markClosing()
    /// Each stream's event-id log, for loads that track them (`LoadShape.trackEventIDs`); empty otherwise.
    func trackedStreams() -> [TrackedStream]
}

extension LoadConnection {
    /// Connections that watch no heartbeats have none to be overdue.
    func recordOverdueHeartbeats() {}

    /// Connections that track no event ids have no logs.
    func trackedStreams() -> [TrackedStream] { [] }
}
