import NIOCore

/// How many bytes each read from an upstream HTTP/1.1 connection asks for: NIO's adaptive rule, step for step (the
/// size doubles after a read that filled the buffer and halves after two reads in a row that filled at most half of
/// it, between a minimum and a maximum), held in 13 bytes instead of `AdaptiveRecvByteBufferAllocator`'s 41. A
/// channel keeps its allocator as an existential, and one that fits the existential's inline buffer (24 bytes) needs
/// no heap box of its own: one allocation less for every upstream connection, held as long as it is open.
struct UpstreamReadSizing: RecvByteBufferAllocator {
    private let minimum: UInt32
    private let maximum: UInt32
    private var next: UInt32
    private var decreaseNow = false

    /// Every size a power of two, `minimum <= initial <= maximum <= 1 GiB`.
    init(minimum: Int, initial: Int, maximum: Int) {
        for size in [minimum, initial, maximum] {
            precondition(size > 0 && size <= 1 << 30 && size & (size - 1) == 0, "not a power of two: \(size)")
        }
        precondition(minimum <= initial && initial <= maximum)
        self.minimum = UInt32(minimum)
        self.maximum = UInt32(maximum)
        self.next = UInt32(initial)
    }

    func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(capacity: Int(next))
    }

    func nextBufferSize() -> Int? {
        Int(next)
    }

    /// True when the next buffer is bigger (NIO may then read again at once).
    mutating func record(actualReadBytes: Int) -> Bool {
        let lower = next >> 1
        let upper = next << 1
        if actualReadBytes <= Int(lower) && lower >= minimum {
            if decreaseNow {
                next = lower
            }
            decreaseNow.toggle()
            return false
        }
        decreaseNow = false
        guard actualReadBytes >= Int(next), upper <= maximum else { return false }
        next = upper
        return true
    }
}
