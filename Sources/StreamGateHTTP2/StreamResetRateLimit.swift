import NIOCore

/// A token bucket over the RST_STREAM frames one client sends (HTTP/2 rapid reset, CVE-2023-44487): `burst`
/// resets at once, then `perSecond`. Runs a little ahead of nghttp2's own limiter, so the connection ends with
/// GOAWAY ENHANCE_YOUR_CALM, which tells the client what it did, rather than nghttp2's INTERNAL_ERROR.
struct StreamResetRateLimit {
    static let defaultBurst = 1000
    static let defaultPerSecond = 33

    private let burst: Double
    private let perSecond: Double
    private var tokens: Double
    private var refilledAt: NIODeadline

    init(burst: Int = Self.defaultBurst, perSecond: Int = Self.defaultPerSecond, now: NIODeadline = .now()) {
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
        self.tokens = Double(burst)
        self.refilledAt = now
    }

    /// Takes one token for a received RST_STREAM; false when none is left.
    mutating func allowReset(now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - refilledAt).nanoseconds) / 1e9
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * perSecond)
            refilledAt = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
