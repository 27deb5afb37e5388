import NIOCore

extension EventStreamScanner {
    /// The UTF-8 byte order mark that a client skips once, at the very start of an event stream.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// What one scanned chunk means for a leading BOM, for a proxy that has already written its own bytes (say a
    /// heartbeat at the stream start) ahead of the upstream's: the upstream's BOM would then no longer be at the
    /// stream start, and the client would read it as part of the first field name. Such a proxy forwards
    /// `applied(to:allocator:)` instead of the chunk; a proxy that has written nothing ahead forwards the chunk as
    /// is. Whether the proxy has written ahead cannot change while a BOM is undecided, because the scanner reports
    /// no event boundary then.
    ///
    /// A BOM split across chunks is withheld until it is decided: when it turns out to be something else, the
    /// withheld bytes come back in front of the chunk that decided it. A stream that ends while its first bytes are
    /// still undecided loses them, which changes nothing a client sees: they are part of an unfinished line.
    struct LeadingBOM: Equatable, Sendable {
        /// Leading bytes of this chunk that are, or may still turn out to be, the stream's BOM.
        var withheldByteCount: Int
        /// Bytes withheld from earlier chunks that turned out not to be a BOM: the first `restoredByteCount` bytes
        /// of `EventStreamScanner.byteOrderMark`, which go out just before this chunk.
        var restoredByteCount: Int

        /// Nothing to change: forward the chunk as is.
        static let none = LeadingBOM(withheldByteCount: 0, restoredByteCount: 0)

        /// The bytes to forward in place of `chunk`: the chunk itself or a slice of it when nothing is restored (no
        /// copy), a new buffer in the rare case that withheld bytes come back.
        func applied(to chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
            var forwarded = chunk
            forwarded.moveReaderIndex(forwardBy: min(withheldByteCount, chunk.readableBytes))
            guard restoredByteCount > 0 else {
                return forwarded
            }
            var restored = allocator.buffer(capacity: restoredByteCount + forwarded.readableBytes)
            restored.writeBytes(EventStreamScanner.byteOrderMark.prefix(restoredByteCount))
            restored.writeImmutableBuffer(forwarded)
            return restored
        }
    }
}
