import NIOCore
import NIOHTTP1
import StreamGateConfig

/// The bytes of one `text/event-stream` response: rewrites its head for every hop behind us, follows the
/// upstream's event boundaries (bytes pass untouched), and inserts StreamGate's own bytes (preamble, heartbeats)
/// only where they change no event. When to insert them is `EventStreamSession`'s business.
struct EventStreamFilter {
    /// `sse.retry` and `sse.first_byte`: what the preamble needs of the route's config (the stream keeps no copy
    /// of the rest).
    let retry: Duration?
    let firstByte: SSEConfig.FirstByte
    /// StreamGate wrote bytes of its own before the upstream's first: an upstream BOM must then be dropped.
    var wroteAhead = false
    var scanner = EventStreamScanner()
    let heartbeatBytes: ByteBuffer
    /// With `sse.resume`: what it takes to forward whole events only (`EventStreamFilter+WholeEvents`); nil when
    /// bytes pass as they come.
    var wholeEvents: WholeEventState?

    /// `heartbeat` is the comment line to send (shared per route: writing it copies nothing).
    init(config: SSEConfig, heartbeat: ByteBuffer) {
        self.retry = config.retry
        self.firstByte = config.firstByte
        self.heartbeatBytes = heartbeat
        if let limit = config.wholeEventLimit {
            wholeEvents = WholeEventState(maxEventBytes: limit)
        }
    }

    /// Events forwarded to the client (on every upstream this stream had).
    var eventCount: Int {
        guard let wholeEvents else { return scanner.eventCount }
        return wholeEvents.eventsBefore + scanner.eventCount - wholeEvents.replayedEventsDropped
    }

    var lastEventID: String? {
        guard wholeEvents != nil else { return scanner.lastEventID }
        return relayedEventID
    }

    var isAtEventBoundary: Bool { scanner.isAtEventBoundary }

    /// Whether a response head announces an event stream (`text/event-stream`, any parameters, any case).
    static func isEventStream(_ head: HTTPResponseHead) -> Bool {
        guard let contentType = head.headers.first(name: "content-type") else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.lowercased().filter { $0 != " " && $0 != "\t" } == "text/event-stream"
    }

    /// Whether StreamGate removes `Accept-Encoding` from a request on `route`: on routes with an `sse` block and
    /// for requests that accept `text/event-stream` (what EventSource sends), unless the route says `keep`.
    static func stripsAcceptEncoding(route: RouteConfig, requestHeaders: HTTPHeaders) -> Bool {
        guard route.sse.upstreamAcceptEncoding == .strip else { return false }
        if route.sseConfigured { return true }
        return requestHeaders[canonicalForm: "accept"].contains { $0.lowercased().hasPrefix("text/event-stream") }
    }

    /// The head as the client gets it: no `Content-Length`, `Cache-Control` keeps the app's directives and gains
    /// `no-cache` and `no-transform`, `X-Accel-Buffering: no` so no nginx in front buffers it.
    static func rewrite(_ head: HTTPResponseHead) -> HTTPResponseHead {
        var head = head
        head.headers.remove(name: "content-length")
        var directives = head.headers[canonicalForm: "cache-control"].map(String.init)
        let lowered = Set(directives.map { $0.lowercased().split(separator: "=").first.map(String.init) ?? "" })
        for required in ["no-cache", "no-transform"] where !lowered.contains(required) {
            directives.append(required)
        }
        head.headers.replaceOrAdd(name: "cache-control", value: directives.joined(separator: ", "))
        head.headers.replaceOrAdd(name: "x-accel-buffering", value: "no")
        return head
    }

    /// What StreamGate sends right after the head, before any upstream byte: `retry: <ms>` when configured, else
    /// one comment when `first_byte` is `immediate`.
    mutating func preamble(allocator: ByteBufferAllocator) -> ByteBuffer? {
        if let retry {
            let milliseconds = retry.components.seconds * 1000 + retry.components.attoseconds / 1_000_000_000_000_000
            wroteAhead = true
            return allocator.buffer(string: "retry: \(milliseconds)\n\n")
        }
        guard firstByte == .immediate else { return nil }
        wroteAhead = true
        return heartbeatBytes
    }

    /// Scans one upstream chunk and returns what to forward: the chunk itself, untouched, except for a leading
    /// BOM that can no longer lead once StreamGate wrote ahead of it.
    mutating func forward(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        if wholeEvents != nil {
            return forwardWholeEvents(chunk, allocator: allocator)
        }
        let leadingBOM = scanner.scan(chunk)
        guard wroteAhead, leadingBOM != .none else { return chunk }
        return leadingBOM.applied(to: chunk, allocator: allocator)
    }

    /// Like `forward(_:allocator:)`, but only up to and including the first event boundary in `chunk`: what to
    /// forward, and whether a boundary was reached (the stream may end right after those bytes).
    mutating func forwardToBoundary(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> (ByteBuffer, Bool) {
        let (leadingBOM, boundaryEnd) = scanner.scan(chunk, stoppingAtBoundary: true)
        var slice = chunk
        if let boundaryEnd {
            slice = chunk.getSlice(at: chunk.readerIndex, length: boundaryEnd) ?? chunk
        }
        let forwarded = wroteAhead && leadingBOM != .none ? leadingBOM.applied(to: slice, allocator: allocator) : slice
        guard wholeEvents != nil else {
            return (forwarded, boundaryEnd != nil)
        }
        // Whole events only: the held start of the event goes first; without a boundary the rest is held too.
        guard boundaryEnd != nil else {
            return (hold(forwarded, allocator: allocator), false)
        }
        return (releaseHeld(before: forwarded, allocator: allocator), true)
    }

    /// A heartbeat comment when the client stands at an event boundary; nil in the middle of an event.
    mutating func heartbeat() -> ByteBuffer? {
        guard clientIsAtEventBoundary else { return nil }
        wroteAhead = true
        return heartbeatBytes
    }
}
