import Foundation
import NIOCore
import NIOPosix

/// Plain TCP for what curl will not send: writes raw bytes to 127.0.0.1:port and collects the reply.
public enum RawConnection {
    /// What came back on a raw connection, and whether the peer closed it before the time limit.
    public struct Reply: Sendable {
        public let text: String
        public let closedByPeer: Bool
    }

    /// Sends `request`, then reads until the peer closes or `timeout` seconds pass.
    public static func exchange(port: Int, request: String, timeout: TimeInterval = 5) throws -> Reply {
        try exchange(port: port, bytes: Array(request.utf8), timeout: timeout)
    }

    /// Sends `bytes` (any octets, not only text), then reads until the peer closes or `timeout` seconds pass.
    public static func exchange(port: Int, bytes: [UInt8], timeout: TimeInterval = 5) throws -> Reply {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let received = group.next().makePromise(of: String.self)
        let timedOut = StopFlag()
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ReplyCollector(done: received))
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .wait()
        } catch {
            received.fail(error)
            throw error
        }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            _ = timedOut.markStopped()
            channel.close(promise: nil)
        }
        let text = try received.futureResult.wait()
        deadline.cancel()
        try? channel.close().wait()
        return Reply(text: text, closedByPeer: timedOut.markStopped())
    }

    /// A port on 127.0.0.1 with nothing listening: bound to port 0, then closed.
    public static func unusedPort() throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }
}

/// Accumulates every byte read; completes `done` with the text when the channel closes.
private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let done: EventLoopPromise<String>
    private var text = ""

    init(done: EventLoopPromise<String>) {
        self.done = done
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        text += buffer.readString(length: buffer.readableBytes) ?? ""
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(text)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
