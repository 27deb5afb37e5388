import NIOCore

/// Fuzzing of `EventStreamScanner`: one chunk against many.
enum EventStreamScannerFuzzing {
    static func run(_ bytes: [UInt8]) {
        let (_, pieces) = FuzzChunking.pieces(of: bytes)
        let allocator = ByteBufferAllocator()
        var whole = EventStreamScanner()
        var buffer = allocator.buffer(capacity: bytes.count)
        for piece in pieces { buffer.writeBytes(piece) }
        whole.scan(buffer)
        var chunked = EventStreamScanner()
        for piece in pieces {
            chunked.scan(allocator.buffer(bytes: piece))
        }
        precondition(whole.eventCount == chunked.eventCount, "event count depends on chunking")
        precondition(whole.lastEventID == chunked.lastEventID, "last event id depends on chunking")
        precondition(whole.lastRetry == chunked.lastRetry, "retry depends on chunking")
        precondition(whole.isAtEventBoundary == chunked.isAtEventBoundary, "boundary depends on chunking")
        if let id = whole.lastEventID {
            precondition(id.utf8.count <= EventStreamScanner.maximumEventIDLength, "id over the length limit")
        }

        // Stopping at the first boundary: what leads up to it ends exactly on a boundary.
        var stopping = EventStreamScanner()
        if let end = stopping.scan(buffer, stoppingAtBoundary: true).boundaryEnd {
            precondition(end >= 0 && end <= buffer.readableBytes, "boundary outside the chunk")
            var prefix = EventStreamScanner()
            prefix.scan(buffer.getSlice(at: buffer.readerIndex, length: end) ?? ByteBuffer())
            precondition(prefix.isAtEventBoundary, "the prefix up to the boundary does not end on one")
        }
    }
}
