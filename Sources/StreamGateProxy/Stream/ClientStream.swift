import NIOCore

/// What a client's side (an HTTP/1.1 request, an HTTP/2 stream) drives, whichever kind of stream serves it: a
/// `ProxyStream` with an upstream of its own, or a `SharedSubscriber` reading a feed shared with other clients.
/// Called on the client connection's event loop.
protocol ClientStream: AnyObject {
    func start()
    func receiveRequestBody(_ buffer: ByteBuffer)
    func receiveRequestEnd()
    /// The client side finished one read: push what it delivered upstream.
    func flushRequest()
    /// The client side can take response bytes again.
    func downstreamBecameWritable()
    /// The client went away or reset the stream.
    func downstreamClosed()
    /// The connection is about to close (drain over, or closed by the admin).
    func serverGoingAway(outcome: StreamOutcome)
}

extension ProxyStream: ClientStream {}
