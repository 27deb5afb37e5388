/// RFC 3339 timestamps (UTC, milliseconds) by integer arithmetic: no formatter, no locale, one small string.
public enum RFC3339 {
    /// `milliseconds` since 1970-01-01T00:00:00Z.
    public static func format(milliseconds: Int64) -> String {
        let (days, dayMilliseconds) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        var dayMs = dayMilliseconds
        var day = days
        if dayMs < 0 {
            dayMs += 86_400_000
            day -= 1
        }
        // Days to civil date (H. Hinnant's algorithm).
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(dayOfMonth, at: 8, digits: 2)
        bytes[10] = UInt8(ascii: "T")
        put(dayMs / 3_600_000, at: 11, digits: 2)
        bytes[13] = UInt8(ascii: ":")
        put(dayMs / 60_000 % 60, at: 14, digits: 2)
        bytes[16] = UInt8(ascii: ":")
        put(dayMs / 1000 % 60, at: 17, digits: 2)
        bytes[19] = UInt8(ascii: ".")
        put(dayMs % 1000, at: 20, digits: 3)
        bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }
}
