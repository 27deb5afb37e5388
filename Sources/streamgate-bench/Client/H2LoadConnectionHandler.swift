import NIOCore
import StreamGateHTTP2
import StreamGateTLS

/// One load-client connection over TLS + HTTP/2: does the handshake (ALPN must pick `h2`), opens `streamCount`
/// GET streams to `path`, and feeds each stream's DATA through its own SSE parser into `stats` (timing the proxy's
/// heartbeats too when given a `HeartbeatWatch`, logging each stream's event ids when `trackEventIDs`).
/// Bytes: socket -> `TLSClientEngine` -> `HTTP2ClientSession` -> delegate callbacks below; frames back the same way.
final class H2LoadConnectionHandler: ChannelInboundHandler, LoadConnection, HTTP2ClientSessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tls: TLSClientEngine
    private var session: HTTP2ClientSession?
    private let path: String
    private let streamCount: Int
    private let recordLatency: Bool
    private let heartbeats: HeartbeatWatch?
    private let trackEventIDs: Bool
    /// Indexed by (stream id - 1) / 2: client streams are 1, 3, 5, ...
    private var streams: [StreamProgress] = []
    private var output: [UInt8] = []
    private var now: UInt64 = 0
    private var closing = false
    private(set) var stats = ClientStats()

    init(
        tlsContext: TLSClientContext,
        path: String,
        streamCount: Int,
        recordLatency: Bool,
        heartbeats: HeartbeatWatch? = nil,
        trackEventIDs: Bool = false
    ) throws {
        self.tls = try TLSClientEngine(context: tlsContext)
        self.path = path
        self.streamCount = streamCount
        self.recordLatency = recordLatency
        self.heartbeats = heartbeats
        self.trackEventIDs = trackEventIDs
        self.stats.streamsRequested = streamCount
    }

    // MARK: LoadConnection

    func resetLatency() {
        stats.latency = LatencyHistogram()
        stats.heartbeatLateness = LatencyHistogram()
    }

    func recordOverdueHeartbeats() {
        guard let heartbeats, !closing else { return }
        let now = MonotonicClock.nanoseconds()
        for stream in streams {
            stream.recordOverdueHeartbeat(now: now, watch: heartbeats, into: &stats)
        }
    }

    func markClosing() {
        closing = true
    }

    func trackedStreams() -> [TrackedStream] {
        streams.compactMap { stream in
            stream.eventIDs.map { TrackedStream(log: $0, open: stream.status == 200 && !stream.finished) }
        }
    }

    // MARK: channel events

    func channelActive(context: ChannelHandlerContext) {
        _ = tls.handshake()
        flushCiphertext(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        tls.receiveCiphertext(unwrapInboundIn(data))
        if session == nil {
            switch tls.handshake() {
            case .inProgress:
                flushCiphertext(context: context)
                return
            case .failed(let reason):
                failConnection(context: context, reason: "TLS handshake: \(reason)")
                return
            case .done(let alpn):
                guard alpn == "h2" else {
                    failConnection(context: context, reason: "ALPN chose \(alpn ?? "nothing"), not h2")
                    return
                }
                startSession(context: context)
            }
        }
        guard let session else { return }
        now = MonotonicClock.nanoseconds()
        var sessionError: (any Error)?
        let alive = tls.readPlaintext { bytes in
            guard sessionError == nil else { return }
            do { try session.receive(bytes) } catch { sessionError = error }
        }
        if let sessionError {
            failConnection(context: context, reason: "HTTP/2: \(sessionError)")
            return
        }
        flushFrames(context: context)
        if !alive && !closing {
            failConnection(context: context, reason: "TLS session closed by the server")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closing {
            loseAllStreams(reason: "connection closed by the server")
        }
        closing = true
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !closing {
            loseAllStreams(reason: "connection error: \(error)")
            closing = true
        }
        context.close(promise: nil)
    }

    // MARK: HTTP2ClientSessionDelegate

    func streamReceivedStatus(_ streamID: Int32, status: Int) {
        guard let index = index(of: streamID), streams[index].status == nil else { return }
        streams[index].status = status
        if status == 200 {
            stats.streamsOpen += 1
        } else {
            streams[index].finished = true
            stats.streamsFailed += 1
            stats.noteFailure("status \(status)")
        }
    }

    func streamReceivedData(_ streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let index = index(of: streamID) else { return }
        streams[index].receiveBody(
            bytes,
            now: now,
            recordLatency: recordLatency,
            heartbeats: heartbeats,
            into: &stats
        )
    }

    func streamEnded(_ streamID: Int32) {
        guard let index = index(of: streamID), !streams[index].finished else { return }
        streams[index].finished = true
        if streams[index].status == 200 && !closing {
            stats.streamsEnded += 1
            stats.noteFailure("stream ended by the server")
        }
    }

    func streamClosed(_ streamID: Int32, errorCode: UInt32) {
        guard let index = index(of: streamID), !streams[index].finished else { return }
        streams[index].finished = true
        guard !closing else { return }
        if streams[index].status == nil {
            stats.streamsFailed += 1
        } else {
            stats.streamsEnded += 1
        }
        stats.noteFailure("RST_STREAM \(errorCode)")
    }

    func receivedGoaway(errorCode: UInt32, lastStreamID: Int32) {
        if !closing {
            stats.noteFailure("GOAWAY \(errorCode)")
        }
    }

    // MARK: helpers

    private func startSession(context: ChannelHandlerContext) {
        do {
            let session = try HTTP2ClientSession()
            session.delegate = self
            self.session = session
            var progress = StreamProgress()
            progress.eventIDs = trackEventIDs ? EventIDLog() : nil
            streams = Array(repeating: progress, count: streamCount)
            for _ in 0..<streamCount {
                let id = session.submitGET(authority: "localhost", path: path)
                if id < 0 {
                    stats.streamsFailed += 1
                    stats.noteFailure("submit failed: \(id)")
                }
            }
        } catch {
            failConnection(context: context, reason: "HTTP/2 session: \(error)")
        }
    }

    private func index(of streamID: Int32) -> Int? {
        let index = Int(streamID - 1) / 2
        return streamID > 0 && streamID % 2 == 1 && index < streams.count ? index : nil
    }

    private func flushFrames(context: ChannelHandlerContext) {
        guard let session else { return }
        do {
            try session.drainOutput(into: &output)
        } catch {
            failConnection(context: context, reason: "HTTP/2: \(error)")
            return
        }
        if !output.isEmpty {
            let written = output.withUnsafeBytes { tls.writePlaintext($0) }
            output.removeAll(keepingCapacity: true)
            if !written {
                failConnection(context: context, reason: "TLS write failed")
                return
            }
        }
        flushCiphertext(context: context)
    }

    private func flushCiphertext(context: ChannelHandlerContext) {
        if let bytes = tls.drainCiphertext(allocator: context.channel.allocator) {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
    }

    private func failConnection(context: ChannelHandlerContext, reason: String) {
        guard !closing else { return }
        loseAllStreams(reason: reason)
        closing = true
        context.close(promise: nil)
    }

    /// Every stream not yet finished is lost: failed if it never opened, ended early otherwise.
    private func loseAllStreams(reason: String) {
        stats.noteFailure(reason)
        if streams.isEmpty {
            stats.streamsFailed += streamCount
            return
        }
        for index in streams.indices where !streams[index].finished {
            streams[index].finished = true
            if streams[index].status == nil {
                stats.streamsFailed += 1
            } else {
                stats.streamsEnded += 1
            }
        }
    }
}
