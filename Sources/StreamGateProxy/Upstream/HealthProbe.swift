import NIOCore
import NIOPosix
import Synchronization

/// One active health check of one server: connect (and handshake, for an upstream over TLS), send `GET <path>`
/// (HTTP/1.1, `Connection: close`), read the status line. Passes on a 2xx or 3xx within the timeout; the failure says what happened instead, in words for the
/// log ("status 503", "connection refused", "no status line within 1s").
enum HealthProbe {
    /// The longest status line read; an upstream that sends more without a line break fails the check.
    static let maxStatusLineBytes = 1024

    static func run(
        address: SocketAddress,
        host: String,
        path: String,
        timeout: TimeAmount,
        tls: (contexts: UpstreamTLS, server: Int)? = nil,
        on loop: any EventLoop
    ) -> EventLoopFuture<Result<Int, HealthProbeFailure>> {
        let promise = ProbePromise(loop.makePromise(of: Result<Int, HealthProbeFailure>.self))
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: StreamGate-health-check\r\nConnection: close\r\n\r\n"
        let deadline = loop.scheduleTask(in: timeout) {
            promise.complete(.failure(HealthProbeFailure(description: "no status line within \(timeout.nanoseconds / 1_000_000)ms")))
        }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try tls.contexts.addHandshake(
                            to: channel, server: tls.server, multiplexed: false, timeout: timeout, logger: UpstreamTLS.logger
                        ).whenFailure { error in
                            promise.complete(.failure(HealthProbeFailure(description: "\(error)")))
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(HealthProbeHandler(request: request, promise: promise))
                }
            }
            .connect(to: address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error):
                    promise.complete(.failure(HealthProbeFailure(connectError: error)))
                }
            }
        return promise.futureResult.always { _ in deadline.cancel() }
    }
}

/// Why a health check failed.
struct HealthProbeFailure: Error, CustomStringConvertible {
    var description: String

    init(description: String) {
        self.description = description
    }

    init(connectError: any Error) {
        if case ChannelError.connectTimeout = connectError {
            description = "connect timed out"
        } else {
            description = "connect failed: \(UpstreamLeaseFailure.reason(connectError))"
        }
    }
}

/// Sends the check's request once connected and reads until the end of the status line.
private final class HealthProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: String
    private let promise: ProbePromise
    private var received: [UInt8] = []

    init(request: String, promise: ProbePromise) {
        self.request = request
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let end = received.firstIndex(of: UInt8(ascii: "\n")) else {
            if received.count > HealthProbe.maxStatusLineBytes {
                fail("no status line in the first \(HealthProbe.maxStatusLineBytes) bytes")
            }
            return
        }
        let line = String(decoding: received[..<end], as: UTF8.self).trimmingSuffix("\r")
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status) else {
            fail("not an HTTP/1.x status line: \(line.prefix(80))")
            return
        }
        if (200...399).contains(status) {
            promise.complete(.success(status))
        } else {
            fail("status \(status)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail("closed before a status line")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("\(error)")
        context.close(promise: nil)
    }

    private func fail(_ reason: String) {
        promise.complete(.failure(HealthProbeFailure(description: reason)))
    }
}

/// The check's result, completed by whichever comes first: the status line, a failure, or the timeout.
private final class ProbePromise: Sendable {
    private let promise: EventLoopPromise<Result<Int, HealthProbeFailure>>
    private let completed = Atomic<Bool>(false)

    init(_ promise: EventLoopPromise<Result<Int, HealthProbeFailure>>) {
        self.promise = promise
    }

    var futureResult: EventLoopFuture<Result<Int, HealthProbeFailure>> { promise.futureResult }

    func complete(_ result: Result<Int, HealthProbeFailure>) {
        guard completed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        promise.succeed(result)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
