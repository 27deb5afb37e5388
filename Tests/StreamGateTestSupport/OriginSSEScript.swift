import NIOCore
import NIOHTTP1

/// A response the origin writes step by step: a head, then writes and pauses, then an end (or silence with the
/// response left open). Each write is flushed on its own, so it leaves the origin as its own TCP segment.
struct OriginSSEScript {
    enum Step {
        /// Writes `text` as one body chunk; `completesEvent` is the id of the event this write completes, if any.
        case write(String, completesEvent: Int? = nil)
        /// Waits this many milliseconds.
        case pause(Int64)
        /// Ends the response.
        case end
    }

    var status = HTTPResponseStatus.ok
    var headers: HTTPHeaders
    /// The steps after the head; when it runs out without `.end`, the response stays open and silent.
    var steps: AnyIterator<Step>
}

/// Plays an `OriginSSEScript` on its connection's event loop; stops when the connection closes.
final class OriginSSEScriptRunner {
    private let context: ChannelHandlerContext
    private var steps: AnyIterator<OriginSSEScript.Step>
    private let keepAlive: Bool
    private let eventWritten: (Int) -> Void

    /// Writes the head of `script` at once, then plays its steps. `eventWritten` is told each completed event id.
    static func start(
        _ script: OriginSSEScript,
        context: ChannelHandlerContext,
        keepAlive: Bool,
        eventWritten: @escaping (Int) -> Void
    ) {
        let head = HTTPResponseHead(version: .http1_1, status: script.status, headers: script.headers)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        let runner = OriginSSEScriptRunner(
            context: context, steps: script.steps, keepAlive: keepAlive, eventWritten: eventWritten
        )
        runner.run()
    }

    private init(
        context: ChannelHandlerContext,
        steps: AnyIterator<OriginSSEScript.Step>,
        keepAlive: Bool,
        eventWritten: @escaping (Int) -> Void
    ) {
        self.context = context
        self.steps = steps
        self.keepAlive = keepAlive
        self.eventWritten = eventWritten
    }

    private func run() {
        while context.channel.isActive, let step = steps.next() {
            switch step {
            case .write(let text, let completesEvent):
                let buffer = context.channel.allocator.buffer(string: text)
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
                if let completesEvent {
                    eventWritten(completesEvent)
                }
            case .pause(let milliseconds):
                // The scheduled task keeps the runner alive until it fires (or the event loop shuts down).
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(milliseconds)) {
                    self.run()
                }
                return
            case .end:
                let context = self.context
                let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                if !keepAlive {
                    done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
                return
            }
        }
    }
}
