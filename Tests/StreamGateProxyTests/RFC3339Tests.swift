import Foundation
import XCTest

@testable import StreamGateProxy

/// The integer-arithmetic RFC 3339 formatter against Foundation's ISO 8601 formatter, over 10,000 seeded times
/// from 1970 to 2200 (leap years and centuries included) and a few fixed ones.
final class RFC3339Tests: XCTestCase {
    func testMatchesFoundation() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        reference.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        var times: [Int64] = [0, 951_782_400_000, 4_107_542_399_999, 1_796_187_695_123, 1_709_164_800_000]
        for _ in 0..<10_000 {
            times.append(Int64.random(in: 0...7_258_118_400_000, using: &generator))
        }
        for milliseconds in times {
            let expected = reference.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            XCTAssertEqual(RFC3339.format(milliseconds: milliseconds), expected, "\(milliseconds)")
        }
    }
}
