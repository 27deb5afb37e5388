/// The inputs StreamGate's fuzzers drive: each case takes arbitrary bytes and traps (a crash the fuzzer reports)
/// when an invariant breaks. Run by the `streamgate-fuzz` executable (libFuzzer, or a replay of saved inputs) and
/// by the unit tests over the committed corpus. Not part of the proxy's API: SPI for those two only.
@_spi(Fuzzing)
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `EventStreamScanner`: the same bytes in one chunk or in many give the same events, ids and boundaries.
    case eventStream = "event-stream"
    /// `WebSocketFrameTracker`: chunking changes neither the forwarded bytes nor the frames seen nor a violation.
    case webSocketFrames = "websocket-frames"
    /// The downstream HTTP/2 input path: client bytes after the preface into `HTTP2ServerConnectionHandler`.
    case http2Input = "http2-input"
    /// The downstream HTTP/1.1 input path: NIO's request decoder and `RequestHeadGuard`.
    case http1Input = "http1-input"
    /// Request and response header rewriting on whatever fields the bytes spell.
    case headerRewriting = "header-rewriting"
    /// The config loader on arbitrary YAML: an answer or errors, never a crash.
    case configLoader = "config-loader"
    /// Upstream HTTP/1.1 responses through StreamGate's framer and through NIO's decoder alone: never more lenient,
    /// never a different head, body or end (`UpstreamResponseFuzzing`).
    case upstreamResponse = "upstream-response"

    /// Runs one input.
    public func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        switch self {
        case .eventStream: EventStreamScannerFuzzing.run(bytes)
        case .webSocketFrames: WebSocketFrameFuzzing.run(bytes)
        case .http2Input: HTTP2InputFuzzing.run(bytes)
        case .http1Input: HTTP1InputFuzzing.run(bytes)
        case .headerRewriting: HeaderRewritingFuzzing.run(bytes)
        case .configLoader: ConfigLoaderFuzzing.run(bytes)
        case .upstreamResponse: UpstreamResponseInputFuzzing.run(bytes)
        }
    }
}

/// Cut points for feeding one input in pieces: taken from the input's own bytes, so the fuzzer explores them.
enum FuzzChunking {
    /// Splits `bytes` after its first byte (the seed of the cuts) into pieces of 1 to 16 bytes.
    static func pieces(of bytes: [UInt8]) -> (seed: UInt8, pieces: [ArraySlice<UInt8>]) {
        guard let seed = bytes.first else { return (0, []) }
        let body = bytes.dropFirst()
        var pieces: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        var step = Int(seed % 16) + 1
        while start < body.endIndex {
            let end = min(body.endIndex, start + step)
            pieces.append(body[start..<end])
            start = end
            step = (step * 7 + 3) % 16 + 1
        }
        return (seed, pieces)
    }
}
