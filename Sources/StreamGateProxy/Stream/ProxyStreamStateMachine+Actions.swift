import Logging
import NIOCore
import NIOHTTP1

/// The actions the stream machine hands its owner, and how a finished stream's client side ends.
extension ProxyStreamStateMachine {
    /// What the owner does after an event.
    enum Action {
        case none
        /// Get an upstream connection (`UpstreamLease`) and report it with `upstreamLeased` or `upstreamUnavailable`.
        case leaseUpstream
        /// Close the upstream connection in use and lease another (a reused connection died before responding).
        case retry
        /// Send the request upstream: head, the body that arrived meanwhile, and its end if it came.
        case sendRequest(HTTPRequestHead, body: [ByteBuffer], end: Bool)
        /// An event stream lost its upstream (or the one tried failed): close it, then ask
        /// `scheduleResumeAttempt` when and where the next attempt goes.
        case resumeUpstream
        /// Send an event stream's request again, whole, to the upstream just leased for the resume.
        case sendResumeRequest(HTTPRequestHead)
        /// Stop taking request body from the client until the upstream can take it.
        case pauseRequestBody
        case forwardRequestBody(ByteBuffer)
        case forwardRequestEnd
        /// Write to the client: a head (held or just arrived), then bytes; flush at once when `flush`. After bytes,
        /// stop reading the upstream if the client cannot take more.
        case writeResponse(head: HTTPResponseHead?, body: ByteBuffer?, flush: Bool)
        /// Answer the client's upgrade with `head` and hand both connections to a WebSocket tunnel.
        case upgrade(HTTPResponseHead)
        /// The stream is over: release or close the upstream, leave the registry, then end the client side so.
        case finish(Ending)
    }

    /// How the client side of a finished stream ends.
    enum Ending {
        /// No response head went out yet: StreamGate answers with `status` (502, 504).
        case respondLocally(HTTPResponseStatus, reason: String)
        /// An event stream ends cleanly (EventSource reconnects with Last-Event-ID): the held head if any, the
        /// last bytes up to the boundary if any, then the end of the response.
        case endCleanly(head: HTTPResponseHead?, body: ByteBuffer?, reason: String)
        /// The response is cut so the client can tell it is incomplete (HTTP/1.1: close; HTTP/2: RST_STREAM).
        case cut(head: HTTPResponseHead?, reason: String, level: Logger.Level)
        /// The upstream's response ended: the held head if any, then the end; the connection goes back to the pool
        /// when `reuseUpstream`.
        case complete(head: HTTPResponseHead?, reuseUpstream: Bool)
        /// The client went away: nothing more to send.
        case clientGone
    }
}
