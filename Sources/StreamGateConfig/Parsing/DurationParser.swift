/// Parses the duration spelling used in configuration files.
///
/// A duration is one or more `<digits><unit>` parts with units `h`, `m`, `s`, `ms`, `us`, `ns`, largest unit first
/// and each unit at most once: `250ms`, `15s`, `5m`, `1h`, `1m30s`, `1h30m`, `0s`. A bare `0` is also accepted.
/// Negative values, fractions, spaces, unknown units, a number without a unit and values that do not fit in
/// 64-bit nanoseconds (about 292 years) are rejected.
public enum DurationParser {
    /// The units, largest first, with their length in nanoseconds.
    static let units: [(symbol: String, nanoseconds: Int64)] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ]

    /// The duration `text` spells, or nil if it is not a valid duration.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" {
            return .zero
        }
        var rest = Substring(text)
        var total: Int64 = 0
        var nextAllowedUnit = 0
        guard !rest.isEmpty else {
            return nil
        }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let amount = Int64(digits) else {
                return nil
            }
            rest = rest.dropFirst(digits.count)
            let symbol = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(symbol.count)
            guard let unitIndex = units.firstIndex(where: { $0.symbol == symbol }), unitIndex >= nextAllowedUnit else {
                return nil
            }
            nextAllowedUnit = unitIndex + 1
            let (part, productOverflow) = amount.multipliedReportingOverflow(by: units[unitIndex].nanoseconds)
            let (sum, sumOverflow) = total.addingReportingOverflow(part)
            guard !productOverflow, !sumOverflow else {
                return nil
            }
            total = sum
        }
        return .nanoseconds(total)
    }
}
