import NIOCore

/// Fuzzing of `WebSocketFrameTracker`: one chunk against many, masked or not (the seed byte's low bit).
enum WebSocketFrameFuzzing {
    private struct Outcome: Equatable {
        var forwarded: [UInt8] = []
        var opcodes: [UInt8] = []
        var swallowed = 0
        var violation: String?
        var atBoundary = true
        /// Bytes of a possible Pong of ours still held when the input ended (its frame is not complete).
        var held = 0
    }

    private static let token = Array("sgping".utf8) + [1, 2, 3, 4, 5, 6]

    static func run(_ bytes: [UInt8]) {
        let (seed, pieces) = FuzzChunking.pieces(of: bytes)
        let masked = seed & 1 == 1
        let allocator = ByteBufferAllocator()
        var all = allocator.buffer(capacity: bytes.count)
        for piece in pieces { all.writeBytes(piece) }
        let whole = track([all], masked: masked)
        let chunked = track(pieces.map { allocator.buffer(bytes: $0) }, masked: masked)
        precondition(whole == chunked, "frame tracking depends on chunking")
        // Only StreamGate's own Pongs are held back (and, until its frame completes, one that may be ours):
        // everything else passes byte for byte.
        if whole.swallowed == 0 {
            let expected = Array(all.readableBytesView.dropLast(whole.held))
            precondition(whole.forwarded == expected, "bytes changed in passing")
        }
    }

    private static func track(_ chunks: [ByteBuffer], masked: Bool) -> Outcome {
        var tracker = WebSocketFrameTracker(masked: masked)
        var outcome = Outcome()
        for chunk in chunks {
            tracker.process(
                chunk,
                token: token,
                forward: { outcome.forwarded += Array($0.readableBytesView) },
                swallowedPong: { outcome.swallowed += 1 },
                frameStarted: { outcome.opcodes.append($0) }
            )
        }
        outcome.violation = tracker.protocolViolation
        outcome.atBoundary = tracker.isAtFrameBoundary
        outcome.held = tracker.heldBytes
        return outcome
    }
}
