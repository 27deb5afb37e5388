/// Parses the byte-size spelling used in configuration files: a whole number of bytes (`65536`), or one with a
/// binary unit `KiB`, `MiB`, `GiB` (`64KiB`, `10MiB`). Negative values, fractions, spaces, other units and values
/// past `Int.max` are rejected.
public enum ByteSizeParser {
    static let units: [(symbol: String, bytes: Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]

    /// The number of bytes `text` spells, or nil if it is not a valid size.
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text)
        var multiplier = 1
        for unit in units where digits.hasSuffix(unit.symbol) {
            digits = digits.dropLast(unit.symbol.count)
            multiplier = unit.bytes
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
            return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// `65536` as `64KiB`, `10485760` as `10MiB`; sizes that are not a whole number of a unit stay in bytes.
    public static func text(_ bytes: Int) -> String {
        for unit in units where bytes >= unit.bytes && bytes % unit.bytes == 0 {
            return "\(bytes / unit.bytes)\(unit.symbol)"
        }
        return "\(bytes)"
    }
}
