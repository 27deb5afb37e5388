import NIOCore

/// A stream the registry can describe while it lives: a proxied request (`ProxyStream`) or the WebSocket tunnel
/// that took over from one. Its counters stay plain fields of its own, updated on its event loop; the registry
/// reads them only when a snapshot is taken, on the same loop.
protocol LiveStream: AnyObject {
    func snapshot(now: NIODeadline) -> StreamSnapshot
    /// Kind, route label, events and heartbeats, for aggregates (no strings built).
    var counters: StreamCounters { get }
    /// Ends the stream as gracefully as its kind allows: an event stream at its next event boundary, a WebSocket
    /// with Close 1001, anything else cut (a response not started gets a local 503).
    func endGracefully(outcome: StreamOutcome)
    /// The connection is about to close: an event stream ends at its next boundary, a WebSocket gets Close 1001,
    /// anything else is left to the close.
    func serverGoingAway(outcome: StreamOutcome)
    /// A drain started: an event stream gets its `retry:` and ends at its next boundary after `slot.endAt`, a
    /// WebSocket gets Close `slot.webSocketCloseCode` then; anything else is left to finish (or to the timeout).
    func drain(_ slot: DrainSlot)
}
