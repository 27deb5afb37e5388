import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to one upstream server, used by one stream at a time.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHTTP1Handler
    /// Index into the group's `addresses`.
    let serverIndex: Int
    /// True once the connection has served a response and come back from the pool.
    private(set) var isReused = false
    /// When an idle pooled connection is closed.
    var idleDeadline: NIODeadline = .now()

    init(channel: any Channel, handler: UpstreamHTTP1Handler, serverIndex: Int) {
        self.channel = channel
        self.handler = handler
        self.serverIndex = serverIndex
    }

    var isActive: Bool { channel.isActive }

    func markReused() {
        isReused = true
    }

    func write(_ part: HTTPClientRequestPart) {
        channel.write(part, promise: nil)
    }

    func writeAndFlush(_ part: HTTPClientRequestPart) {
        channel.writeAndFlush(part, promise: nil)
    }

    func flush() {
        channel.flush()
    }

    func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}
