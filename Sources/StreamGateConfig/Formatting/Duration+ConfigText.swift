public extension Duration {
    /// "250ms" "15s" "10m" "1h" "1m30s" "0s": the shortest exact config spelling
    ///
    /// The duration split into hours, minutes, seconds, milliseconds, microseconds and nanoseconds, leaving out
    /// zero parts; `DurationParser.parse` reads it back to the same value. Parts below a nanosecond are dropped.
    var configText: String {
        if self < .zero {
            return "-" + (Duration.zero - self).configText
        }
        let (seconds, attoseconds) = components
        let nanoseconds = attoseconds / 1_000_000_000
        let parts: [(Int64, String)] = [
            (seconds / 3600, "h"),
            (seconds % 3600 / 60, "m"),
            (seconds % 60, "s"),
            (nanoseconds / 1_000_000, "ms"),
            (nanoseconds / 1_000 % 1_000, "us"),
            (nanoseconds % 1_000, "ns"),
        ]
        let text = parts.filter { $0.0 != 0 }.map { "\($0.0)\($0.1)" }.joined()
        return text.isEmpty ? "0s" : text
    }
}
