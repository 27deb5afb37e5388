import XCTest

import StreamGateConfig

final class DurationTests: XCTestCase {
    func testValidDurations() {
        let table: [(String, Duration)] = [
            ("250ms", .milliseconds(250)),
            ("15s", .seconds(15)),
            ("5m", .seconds(300)),
            ("1h", .seconds(3600)),
            ("0s", .zero),
            ("0", .zero),
            ("0ms", .zero),
            ("1m30s", .seconds(90)),
            ("1h30m", .seconds(5400)),
            ("1h0m5s", .seconds(3605)),
            ("2s500ms", .milliseconds(2500)),
            ("90s", .seconds(90)),
            ("1500ms", .milliseconds(1500)),
            ("10us", .microseconds(10)),
            ("7ns", .nanoseconds(7)),
            ("1h2m3s4ms5us6ns", .nanoseconds(3_723_004_005_006)),
            ("2562047h", .seconds(2_562_047 * 3600)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(DurationParser.parse(text), expected, text)
        }
    }

    func testInvalidDurations() {
        let table = [
            "", " ", "15", "00", "s", "-1s", "+1s", "1.5s", "10 minutes", "10 s", " 10s", "10s ", "5d", "5x",
            "5S", "1M", "30s1m", "1s1s", "1m1h", "5sec", "ms", "1h30", "2562048h", "99999999999999999999s",
            "9223372036854775807s", "1µs",
        ]
        for text in table {
            XCTAssertNil(DurationParser.parse(text), "\"\(text)\" should be rejected")
        }
    }

    func testConfigText() {
        let table: [(Duration, String)] = [
            (.milliseconds(250), "250ms"),
            (.seconds(15), "15s"),
            (.seconds(600), "10m"),
            (.seconds(3600), "1h"),
            (.seconds(90), "1m30s"),
            (.zero, "0s"),
            (.milliseconds(1500), "1s500ms"),
            (.seconds(5400), "1h30m"),
            (.seconds(86_400), "24h"),
            (.microseconds(1), "1us"),
            (.nanoseconds(1_000_001), "1ms1ns"),
            (.seconds(-90), "-1m30s"),
        ]
        for (duration, text) in table {
            XCTAssertEqual(duration.configText, text)
        }
    }

    func testConfigTextRoundTrips() {
        let durations: [Duration] = [
            .zero, .nanoseconds(1), .microseconds(999), .milliseconds(1), .milliseconds(59_999), .seconds(1),
            .seconds(59), .seconds(61), .seconds(3599), .seconds(3601), .seconds(360_000),
            .nanoseconds(3_723_004_005_006),
        ]
        for duration in durations {
            XCTAssertEqual(DurationParser.parse(duration.configText), duration, duration.configText)
        }
        for text in ["250ms", "15s", "10m", "1h", "1m30s", "0s", "1h30m", "2s500ms"] {
            XCTAssertEqual(DurationParser.parse(text)?.configText, text)
        }
    }
}
