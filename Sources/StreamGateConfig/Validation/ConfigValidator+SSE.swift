extension ConfigValidator {
    /// The route's event-stream settings (the defaults when `raw` is nil), or nil after reporting what is wrong.
    mutating func validateSSE(_ raw: RawSSE?, at path: ConfigKeyPath) -> SSEConfig? {
        let defaults = SSEConfig()
        // Zero turns heartbeats off, so any duration is fine.
        let heartbeatInterval = duration(
            raw?.heartbeatInterval,
            at: path.appending("heartbeat_interval"),
            default: defaults.heartbeatInterval
        )
        let heartbeatComment = heartbeatComment(raw?.heartbeatComment, at: path.appending("heartbeat_comment"))
        var retry: Duration?
        var retryIsValid = true
        if let text = raw?.retry {
            retry = retryDelay(text, at: path.appending("retry"))
            retryIsValid = retry != nil
        }
        let firstByte = choice(raw?.firstByte, at: path.appending("first_byte"), default: defaults.firstByte)
        let acceptEncoding = choice(
            raw?.upstreamAcceptEncoding,
            at: path.appending("upstream_accept_encoding"),
            default: defaults.upstreamAcceptEncoding
        )
        let (resume, resumeIsValid) = validateResume(raw, at: path)
        guard let heartbeatInterval, let heartbeatComment, retryIsValid, let firstByte, let acceptEncoding,
            resumeIsValid
        else {
            return nil
        }
        return SSEConfig(
            heartbeatInterval: heartbeatInterval,
            heartbeatComment: heartbeatComment,
            retry: retry,
            firstByte: firstByte,
            upstreamAcceptEncoding: acceptEncoding,
            resume: resume
        )
    }

    /// The failover settings (nil when `resume` is off), and whether they were valid. A `resume_*` key without
    /// `resume: true` is an error: it would silently do nothing.
    private mutating func validateResume(_ raw: RawSSE?, at path: ConfigKeyPath) -> (SSEResumeConfig?, Bool) {
        guard let raw else { return (nil, true) }
        let defaults = SSEResumeConfig()
        guard raw.resume == true else {
            let given: [(String, Bool)] = [
                ("resume_attempts", raw.resumeAttempts != nil),
                ("resume_backoff", raw.resumeBackoff != nil),
                ("resume_on_end", raw.resumeOnEnd != nil),
                ("resume_max_event", raw.resumeMaxEvent != nil),
            ]
            var valid = true
            for (key, isGiven) in given where isGiven {
                report("has no effect without resume: true", at: path.appending(key))
                valid = false
            }
            return (nil, valid)
        }
        let attempts = integer(raw.resumeAttempts, at: path.appending("resume_attempts"), in: 1...100, default: defaults.attempts)
        var backoff = duration(raw.resumeBackoff, at: path.appending("resume_backoff"), default: defaults.backoff)
        if let value = backoff, value <= .zero {
            report("must be longer than 0s (the wait before a resume attempt to the same server)", at: path.appending("resume_backoff"))
            backoff = nil
        } else if let value = backoff, value > SSEResumeConfig.maximumBackoff {
            report("must be at most \(SSEResumeConfig.maximumBackoff.configText) (got \(value.configText))", at: path.appending("resume_backoff"))
            backoff = nil
        }
        let maxEvent = byteSize(
            raw.resumeMaxEvent,
            at: path.appending("resume_max_event"),
            in: 1024...(16 * 1024 * 1024),
            default: defaults.maxEventBytes
        )
        guard let attempts, let backoff, let maxEvent else { return (nil, false) }
        let config = SSEResumeConfig(attempts: attempts, backoff: backoff, onEnd: raw.resumeOnEnd ?? false, maxEventBytes: maxEvent)
        return (config, true)
    }

    /// The comment text (`""` when absent), or nil after reporting a line break in it: the heartbeat is one
    /// comment line, and a CR or LF would end it early (WHATWG HTML, event stream interpretation).
    private mutating func heartbeatComment(_ text: String?, at path: ConfigKeyPath) -> String? {
        guard let text else {
            return SSEConfig().heartbeatComment
        }
        // Unicode scalars, not Characters: "\r\n" is a single Character equal to neither "\r" nor "\n".
        guard !text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            report("must not contain CR or LF (the heartbeat is sent as one comment line)", at: path)
            return nil
        }
        return text
    }

    /// The reconnection delay sent as `retry: <milliseconds>`, or nil after reporting one that is invalid, under
    /// 1ms or not a whole number of milliseconds.
    mutating func retryDelay(_ text: String, at path: ConfigKeyPath) -> Duration? {
        guard let delay = duration(text, at: path, default: .zero) else {
            return nil
        }
        guard delay >= .milliseconds(1) else {
            report("must be at least 1ms (got \(text))", at: path)
            return nil
        }
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        guard delay.components.attoseconds % attosecondsPerMillisecond == 0 else {
            report("must be a whole number of milliseconds, as it is sent as \"retry: <ms>\" (got \(text))", at: path)
            return nil
        }
        return delay
    }
}
