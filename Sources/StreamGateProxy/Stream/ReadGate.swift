import NIOCore

/// Backpressure on one channel's socket reads: while paused, a `read` request from the pipeline is held instead
/// of passed on, and released on resume. A handler owns one and routes its outbound `read(context:)` through it.
struct ReadGate {
    private var paused = false
    private var held = false

    /// Called from the handler's `read(context:)`.
    mutating func read(_ context: ChannelHandlerContext) {
        if paused {
            held = true
        } else {
            context.read()
        }
    }

    mutating func pause() {
        paused = true
    }

    /// Lets reads through again, issuing the one held while paused.
    mutating func resume(_ context: ChannelHandlerContext?) {
        guard paused else { return }
        paused = false
        if held, let context {
            held = false
            context.read()
        }
    }
}
