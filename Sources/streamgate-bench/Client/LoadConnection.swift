/// A load-client connection handler the `LoadClient` can ask for its numbers. Only ever called on the handler's
/// event loop (through `NIOLoopBound`).
protocol LoadConnection: AnyObject {
    var stats: ClientStats { get }
    /// Starts a new measurement window: clears the latency histogram.
    func resetLatency()
    /// Stops counting failures: the client is about to close the connection on purpose.
    func markClosing()
}
