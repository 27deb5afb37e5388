import NIOCore
import StreamGateTLS

/// One WebSocket echo connection of the load client: an HTTP/1.1 Upgrade to `path` (through a `TLSClientEngine`
/// for a proxy, cleartext for direct), then one masked binary message of `messageBytes` at a time: send it, wait
/// for the echo, record the round trip in `stats.latency`, count it in `stats.events`, send the next.
final class WebSocketEchoConnectionHandler: ChannelInboundHandler, LoadConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tls: TLSClientEngine?
    private let path: String
    private let hostHeader: String
    private let key: String
    private let message: [UInt8]
    private var tlsReady = false
    private var response: WebSocketUpgradeResponse
    private var upgraded = false
    private var parser = WebSocketFrameParser()
    private var sentAt: UInt64 = 0
    private var output: [UInt8] = []
    private var finished = false
    private var closing = false
    private(set) var stats = ClientStats()

    init(tls: TLSClientEngine?, path: String, hostHeader: String, messageBytes: Int) {
        self.tls = tls
        self.path = path
        self.hostHeader = hostHeader
        self.key = WebSocketHandshake.randomKey()
        self.response = WebSocketUpgradeResponse(expectedAccept: WebSocketHandshake.accept(forKey: key))
        self.message = (0..<messageBytes).map { UInt8(truncatingIfNeeded: $0) }
        self.stats.streamsRequested = 1
    }

    // MARK: LoadConnection

    func resetLatency() {
        stats.latency = LatencyHistogram()
    }

    func markClosing() {
        closing = true
    }

    // MARK: channel events

    func channelActive(context: ChannelHandlerContext) {
        if let tls {
            _ = tls.handshake()
            flushCiphertext(context: context)
        } else {
            queueUpgradeRequest()
            flushOutput(context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let tls else {
            buffer.withUnsafeReadableBytes { receive(context: context, bytes: $0) }
            flushOutput(context: context)
            return
        }
        tls.receiveCiphertext(buffer)
        if !tlsReady {
            switch tls.handshake() {
            case .inProgress:
                flushCiphertext(context: context)
                return
            case .failed(let reason):
                lose(context: context, reason: "TLS handshake: \(reason)")
                return
            case .done(let alpn):
                guard alpn == nil || alpn == "http/1.1" else {
                    lose(context: context, reason: "ALPN chose \(alpn ?? "-"), not http/1.1")
                    return
                }
                tlsReady = true
                queueUpgradeRequest()
            }
        }
        let alive = tls.readPlaintext { receive(context: context, bytes: $0) }
        flushOutput(context: context)
        if !alive {
            lose(context: context, reason: "TLS session closed by the server")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lose(context: nil, reason: "connection closed by the server")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lose(context: context, reason: "connection error: \(error)")
    }

    // MARK: WebSocket

    private func queueUpgradeRequest() {
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        output.append(contentsOf: request.utf8)
    }

    private func queueMessage() {
        WebSocketFrameEncoder.encode(opcode: WebSocketFrame.binary, payload: message, masked: true, into: &output)
        sentAt = MonotonicClock.nanoseconds()
    }

    private func receive(context: ChannelHandlerContext, bytes: UnsafeRawBufferPointer) {
        guard !finished else { return }
        if upgraded {
            parser.append(bytes)
        } else {
            switch response.consume(bytes) {
            case .needMore:
                return
            case .refused(let reason):
                lose(context: context, reason: reason)
                return
            case .upgraded(let leftover):
                upgraded = true
                stats.streamsOpen += 1
                leftover.withUnsafeBytes { parser.append($0) }
                queueMessage()
            }
        }
        receiveFrames(context: context)
    }

    private func receiveFrames(context: ChannelHandlerContext) {
        do {
            while !finished, let frame = try parser.next() {
                switch frame.opcode {
                case WebSocketFrame.binary:
                    let now = MonotonicClock.nanoseconds()
                    guard frame.payload == message else {
                        lose(context: context, reason: "echo differs from the message sent")
                        return
                    }
                    stats.events += 1
                    stats.bodyBytes += UInt64(frame.payload.count)
                    if now >= sentAt {
                        stats.latency.record(nanoseconds: now - sentAt)
                    }
                    queueMessage()
                case WebSocketFrame.ping:
                    WebSocketFrameEncoder.encode(
                        opcode: WebSocketFrame.pong,
                        payload: frame.payload,
                        masked: true,
                        into: &output
                    )
                case WebSocketFrame.close:
                    lose(context: context, reason: "Close frame from the server")
                default:
                    break
                }
            }
        } catch {
            lose(context: context, reason: "WebSocket: \(error)")
        }
    }

    // MARK: output

    private func flushOutput(context: ChannelHandlerContext) {
        guard !output.isEmpty else {
            flushCiphertext(context: context)
            return
        }
        if let tls {
            let written = output.withUnsafeBytes { tls.writePlaintext($0) }
            output.removeAll(keepingCapacity: true)
            guard written else {
                lose(context: context, reason: "TLS write failed")
                return
            }
            flushCiphertext(context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
            output.removeAll(keepingCapacity: true)
        }
    }

    private func flushCiphertext(context: ChannelHandlerContext) {
        if let bytes = tls?.drainCiphertext(allocator: context.channel.allocator) {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
    }

    /// The connection is lost (failed before the 101, ended early after it) unless the client is closing it;
    /// closes it when `context` is given.
    private func lose(context: ChannelHandlerContext?, reason: String) {
        if !closing && !finished {
            if upgraded {
                stats.streamsEnded += 1
            } else {
                stats.streamsFailed += 1
            }
            stats.noteFailure(reason)
        }
        finished = true
        output.removeAll()
        context?.close(promise: nil)
    }
}
