import NIOCore

/// A stream the registry can describe while it lives: a proxied request (`ProxyStream`) or the WebSocket tunnel
/// that took over from one. Its counters stay plain fields of its own, updated on its event loop; the registry
/// reads them only when a snapshot is taken, on the same loop.
protocol LiveStream: AnyObject {
    func snapshot(now: NIODeadline) -> StreamSnapshot
}
