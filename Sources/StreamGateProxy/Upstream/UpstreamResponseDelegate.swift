import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the stream currently using it. Called on the connection's event loop.
protocol UpstreamResponseDelegate: AnyObject {
    /// A 1xx other than 101 (103 Early Hints, 102): the final head is still to come.
    func upstreamInformationalHead(_ head: HTTPResponseHead)
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ buffer: ByteBuffer)
    /// The response ended; `trailers` are the upstream's trailer fields, if it sent any.
    func upstreamResponseEnd(trailers: HTTPHeaders?)
    /// A read from the upstream socket is complete: flush what was forwarded.
    func upstreamReadComplete()
    /// The upstream socket can take more request bytes again.
    func upstreamBecameWritable()
    /// The connection failed or closed before the response ended.
    func upstreamFailed(_ error: any Error)
}
