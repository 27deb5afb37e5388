/// Counts latencies in microseconds in log-linear buckets (as HdrHistogram does): exact below 128 µs, then 64
/// buckets per power of two, so any percentile is within 1.6% of the true value. The maximum is kept exactly.
/// A value type: each connection keeps its own and the load client merges them.
struct LatencyHistogram: Sendable, Codable {
    private static let linearLimit: UInt64 = 128
    private static let bucketsPerPowerOfTwo = 64
    private static let bucketCount = 128 + 64 * 58

    private(set) var counts: [UInt64]
    private(set) var total: UInt64 = 0
    private(set) var maxMicroseconds: UInt64 = 0

    init() {
        counts = []
    }

    mutating func record(nanoseconds: UInt64) {
        let micros = nanoseconds / 1000
        if counts.isEmpty {
            counts = Array(repeating: 0, count: Self.bucketCount)
        }
        counts[Self.index(of: micros)] += 1
        total += 1
        maxMicroseconds = max(maxMicroseconds, micros)
    }

    mutating func merge(_ other: LatencyHistogram) {
        guard other.total > 0 else { return }
        if counts.isEmpty {
            counts = Array(repeating: 0, count: Self.bucketCount)
        }
        for (index, count) in other.counts.enumerated() where count > 0 {
            counts[index] += count
        }
        total += other.total
        maxMicroseconds = max(maxMicroseconds, other.maxMicroseconds)
    }

    /// The latency below which `fraction` (0...1) of the samples fall, in microseconds; nil without samples.
    func percentile(_ fraction: Double) -> UInt64? {
        guard total > 0 else { return nil }
        let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank {
                return min(Self.upperBound(of: index), maxMicroseconds)
            }
        }
        return maxMicroseconds
    }

    private static func index(of value: UInt64) -> Int {
        if value < linearLimit { return Int(value) }
        let shift = (64 - value.leadingZeroBitCount) - 7  // >= 1: keep the top 7 bits
        let top = Int(value >> UInt64(shift))  // 64...127
        return min(bucketCount - 1, Int(linearLimit) + (shift - 1) * bucketsPerPowerOfTwo + (top - 64))
    }

    /// The largest value that falls into bucket `index`.
    private static func upperBound(of index: Int) -> UInt64 {
        if index < Int(linearLimit) { return UInt64(index) }
        let shift = (index - Int(linearLimit)) / bucketsPerPowerOfTwo + 1
        let top = UInt64((index - Int(linearLimit)) % bucketsPerPowerOfTwo + 64)
        return ((top + 1) << UInt64(shift)) - 1
    }
}
