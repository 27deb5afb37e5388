extension ConfigValidator {
    /// Close codes an endpoint may send (RFC 6455 section 7.4): the defined ones other than 1004-1006 and 1015,
    /// which must never be sent, and the ranges for libraries (3000-3999) and applications (4000-4999).
    static let sendableCloseCodes: [ClosedRange<Int>] = [1000...1003, 1007...1014, 3000...4999]

    /// `drain: { grace: 0s, timeout: 30s, spread: 10s, sse_retry: 2s, websocket_close_code: 1012 }`; `grace` and
    /// `spread` together may not be longer than `timeout`; `spread` defaults to 10 s, or half of what the timeout
    /// leaves after the grace when that is under 20 s; `sse_retry: 0s` sends no `retry:`.
    mutating func validateDrain(_ raw: RawDrain?, at path: ConfigKeyPath) -> DrainConfig? {
        let defaults = DrainConfig()
        guard let raw else { return defaults }
        let grace = duration(raw.grace, at: path.appending("grace"), default: defaults.grace)
        let timeout = duration(raw.timeout, at: path.appending("timeout"), default: defaults.timeout)
        let afterGrace = max(.zero, (timeout ?? .zero) - (grace ?? .zero))
        let spread = duration(raw.spread, at: path.appending("spread"), default: min(defaults.spread, afterGrace / 2))
        var sseRetry: Duration?? = .some(defaults.sseRetry)
        if let text = raw.sseRetry {
            if DurationParser.parse(text) == .zero {
                sseRetry = .some(nil)
            } else {
                sseRetry = retryDelay(text, at: path.appending("sse_retry")).map { .some($0) }
            }
        }
        var closeCode: Int? = defaults.webSocketCloseCode
        if let code = raw.webSocketCloseCode {
            if Self.sendableCloseCodes.contains(where: { $0.contains(code) }) {
                closeCode = code
            } else {
                report(
                    "\(code) is not a Close code an endpoint may send (1000-1003, 1007-1014, 3000-4999)",
                    at: path.appending("websocket_close_code")
                )
                closeCode = nil
            }
        }
        guard let grace, let timeout, let spread, let sseRetry, let closeCode else { return nil }
        guard grace == .zero || grace < timeout else {
            report(
                "must be shorter than drain.timeout (\(timeout.configText)): the drain would have no time left",
                at: path.appending("grace")
            )
            return nil
        }
        guard grace + spread <= timeout else {
            let limit = grace == .zero
                ? "drain.timeout (\(timeout.configText))"
                : "drain.timeout (\(timeout.configText)) less drain.grace (\(grace.configText))"
            report(
                "must not be longer than \(limit): streams still open then are cut",
                at: path.appending("spread")
            )
            return nil
        }
        return DrainConfig(grace: grace, timeout: timeout, spread: spread, sseRetry: sseRetry, webSocketCloseCode: closeCode)
    }
}
