import Foundation

/// Bounded polling for conditions the tests cannot be told about directly.
public enum Wait {
    /// Checks `condition` every `interval` until it holds or `timeout` seconds pass; returns its last value.
    @discardableResult
    public static func until(
        timeout: TimeInterval,
        interval: TimeInterval = 0.02,
        _ condition: () -> Bool
    ) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: interval)
        }
        return condition()
    }

    /// Milliseconds since the Unix epoch: the clock both the origin's timestamps and the test's arrival times use.
    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
