import NIOCore
import NIOEmbedded
import NIOHTTP1

/// Differential checking of the upstream HTTP/1.1 response path: the same bytes, cut the same way, through NIO's
/// response decoder alone (llhttp, the reference) and through StreamGate's pipeline (`UpstreamResponseFramer`
/// splitting heads for the decoder and framing bodies itself). Where StreamGate accepts a response, the reference
/// must accept it too and agree on every head, every body byte, the end and the trailers; StreamGate may refuse
/// what the reference accepts (it is stricter), never the other way round, and what it passed on before refusing
/// is a prefix of the reference's. A refusal closes the connection, so a disagreement can never carry into the
/// next response on a reused connection.
@_spi(Fuzzing)
public enum UpstreamResponseFuzzing {
    /// What one pipeline made of the input.
    public struct Transcript: Equatable, Sendable {
        /// Heads as `status` then `name: value` lines; bodies as their bytes; ends with their trailers.
        public var parts: [Part] = []
        /// Why the pipeline refused the input, if it did.
        public var failure: String?

        public enum Part: Equatable, Sendable {
            case head(String)
            case body([UInt8])
            case end([String])
        }

        mutating func append(body bytes: ByteBuffer) {
            if case .body(let earlier)? = parts.last {
                parts[parts.count - 1] = .body(earlier + Array(bytes.readableBytesView))
            } else if bytes.readableBytes > 0 {
                parts.append(.body(Array(bytes.readableBytesView)))
            }
        }

        /// True when `self` could be how `other` started.
        func isPrefix(of other: Transcript) -> Bool {
            guard parts.count <= other.parts.count else { return false }
            for (index, part) in parts.enumerated() where part != other.parts[index] {
                // The last part may be a body cut short.
                guard index == parts.count - 1, case .body(let mine) = part, case .body(let theirs) = other.parts[index]
                else { return false }
                return theirs.starts(with: mine)
            }
            return true
        }
    }

    /// The outcome of one comparison.
    public struct Outcome: Sendable {
        public var reference: Transcript
        public var streamGate: Transcript
        /// Empty when the two agree as required; else what broke.
        public var violation: String?
    }

    /// Runs `response` (cut into `pieces` lengths, the rest in one piece) after a request with `method`, through
    /// both pipelines, then closes the input, and compares.
    public static func compare(method: HTTPMethod, response: [UInt8], pieces: [Int]) -> Outcome {
        let reference = run(method: method, response: response, pieces: pieces, streamGate: false)
        let ours = run(method: method, response: response, pieces: pieces, streamGate: true)
        var violation: String?
        if ours.failure == nil {
            if let failure = reference.failure {
                violation = "StreamGate accepted what the reference refused (\(failure))"
            } else if ours.parts != reference.parts {
                violation = "StreamGate and the reference disagree"
            }
        } else if !ours.isPrefix(of: reference) {
            violation = "StreamGate passed on what the reference did not before refusing"
        }
        return Outcome(reference: reference, streamGate: ours, violation: violation)
    }

    /// The fuzzing entry: the first byte picks the method, the next the cuts; traps on a violation.
    static func run(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let method: HTTPMethod = first % 5 == 0 ? .HEAD : .GET
        let (_, cut) = FuzzChunking.pieces(of: Array(bytes.dropFirst()))
        let outcome = compare(method: method, response: cut.flatMap { $0 }, pieces: cut.map(\.count))
        if let violation = outcome.violation {
            fatalError("\(violation): reference \(outcome.reference), StreamGate \(outcome.streamGate)")
        }
    }

    private static func run(method: HTTPMethod, response: [UInt8], pieces: [Int], streamGate: Bool) -> Transcript {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        let makeDecoder = {
            HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)
        }
        do {
            if streamGate {
                let handlers = UpstreamResponseFramer.handlers()
                try channel.pipeline.syncOperations.addHandlers(handlers)
                let handler = handlers.compactMap { $0 as? UpstreamHTTP1Handler }.first!
                handler.delegate = recorder
            } else {
                try channel.pipeline.syncOperations.addHandlers([
                    HTTPRequestEncoder(), ByteToMessageHandler(makeDecoder()), ReferenceRecorder(recorder),
                ])
            }
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
            let head = HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: ["host": "origin"])
            try channel.writeOutbound(HTTPClientRequestPart.head(head))
            try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        } catch {
            fatalError("the differential pipeline cannot be set up: \(error)")
        }
        var offset = 0
        var cuts = pieces.makeIterator()
        while offset < response.count, channel.isActive, recorder.transcript.failure == nil {
            let length = min(max(cuts.next() ?? response.count, 1), response.count - offset)
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: response[offset..<offset + length]))
            } catch {
                recorder.fail(error)
            }
            offset += length
            // Event-loop ticks between some reads only, so a close can also come before a deferred removal.
            if offset % 2 == 0 {
                channel.embeddedEventLoop.run()
            }
        }
        // The upstream closes: a body read until close ends here.
        channel.close(promise: nil)
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return recorder.transcript
    }

    /// Records what reaches the stream, through the same delegate calls a `ProxyStream` gets.
    private final class Recorder: UpstreamResponseDelegate {
        var transcript = Transcript()
        private var ended = false

        func upstreamInformationalHead(_ head: HTTPResponseHead) { record(head) }
        func upstreamResponseHead(_ head: HTTPResponseHead) { record(head) }
        func upstreamResponseBody(_ buffer: ByteBuffer) { transcript.append(body: buffer) }

        func upstreamResponseEnd(trailers: HTTPHeaders?) {
            // Values without the whitespace around them (RFC 9110 section 5.5), which llhttp leaves at the end.
            let fields = trailers.map { $0.map { "\($0.name.lowercased()): \($0.value.trimmingOWS())" } } ?? []
            transcript.parts.append(.end(fields))
        }

        func upstreamReadComplete() {}
        func upstreamBecameWritable() {}

        func upstreamFailed(_ error: any Error) {
            // The connection closing after a complete response is not a failure of that response.
            if error is UpstreamConnectionClosed, case .end? = transcript.parts.last { return }
            fail(error)
        }

        func fail(_ error: any Error) {
            if transcript.failure == nil {
                transcript.failure = "\(error)"
            }
        }

        private func record(_ head: HTTPResponseHead) {
            var lines = ["\(head.status.code)"]
            lines += head.headers.map { "\($0.name.lowercased()): \($0.value)" }
            transcript.parts.append(.head(lines.joined(separator: "\n")))
        }
    }

    /// The reference pipeline's last handler: the same records from NIO's decoded parts.
    private final class ReferenceRecorder: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        private let recorder: Recorder

        init(_ recorder: Recorder) {
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): recorder.upstreamResponseHead(head)
            case .body(let buffer): recorder.upstreamResponseBody(buffer)
            case .end(let trailers): recorder.upstreamResponseEnd(trailers: trailers)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            recorder.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            recorder.upstreamFailed(UpstreamConnectionClosed())
        }
    }
}

extension String {
    fileprivate func trimmingOWS() -> Substring {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return self[...].drop(while: isOWS).reversed().drop(while: isOWS).reversed().map { $0 }.reduce(into: Substring()) { $0.append($1) }
    }
}

/// `upstream-response`.
enum UpstreamResponseInputFuzzing {
    static func run(_ bytes: [UInt8]) { UpstreamResponseFuzzing.run(bytes) }
}
