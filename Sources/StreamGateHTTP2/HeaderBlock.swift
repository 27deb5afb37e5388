import CNghttp2

/// Builds an `nghttp2_nv` array over one contiguous byte buffer for the duration of a submit call (nghttp2 copies
/// the fields). Shared by the server and client sessions.
enum HeaderBlock {
    static func withNameValues<R>(
        _ fields: [(String, String)],
        _ body: (UnsafePointer<nghttp2_nv>, Int) -> R
    ) -> R {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count })
        var ranges: [(name: Range<Int>, value: Range<Int>)] = []
        ranges.reserveCapacity(fields.count)
        for (name, value) in fields {
            let nameStart = bytes.count
            bytes.append(contentsOf: name.utf8)
            let valueStart = bytes.count
            bytes.append(contentsOf: value.utf8)
            ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
        }
        bytes.append(0)  // never empty, so the buffer has a base address
        return bytes.withUnsafeMutableBufferPointer { storage in
            guard let base = storage.baseAddress else { preconditionFailure("non-empty buffer without storage") }
            var nva = ranges.map { range in
                nghttp2_nv(
                    name: base + range.name.lowerBound,
                    value: base + range.value.lowerBound,
                    namelen: range.name.count,
                    valuelen: range.value.count,
                    flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
                )
            }
            let count = nva.count
            return nva.withUnsafeMutableBufferPointer { fields in
                guard let first = fields.baseAddress else { preconditionFailure("empty header block") }
                return body(first, count)
            }
        }
    }
}
