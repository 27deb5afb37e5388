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
        var shared: SSESharedConfig?
        var sharedIsValid = true
        if let rawShared = raw?.shared {
            shared = validateShared(rawShared, at: path.appending("shared"))
            sharedIsValid = shared != nil
        }
        guard let heartbeatInterval, let heartbeatComment, retryIsValid, let firstByte, let acceptEncoding,
            resumeIsValid, sharedIsValid
        else {
            return nil
        }
        return SSEConfig(
            heartbeatInterval: heartbeatInterval,
            heartbeatComment: heartbeatComment,
            retry: retry,
            firstByte: firstByte,
            upstreamAcceptEncoding: acceptEncoding,
            resume: resume,
            shared: shared
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

extension ConfigValidator {
    /// The shared-subscription settings, or nil after reporting what is wrong.
    mutating func validateShared(_ raw: RawSharedSubscription, at path: ConfigKeyPath) -> SSESharedConfig? {
        let defaults = SSESharedConfig()
        var key: [SSESharedConfig.KeyPart]? = defaults.key
        if let list = raw.key {
            // An element that is not a string was reported as it was read; the key is then invalid.
            let items = list.items.compactMap { $0 }
            key = items.count == list.items.count ? sharedKey(items, at: path.appending("key")) : nil
        }
        let replay = integer(raw.replay, at: path.appending("replay"), in: 1...1_000_000, default: defaults.replayEvents)
        let replayBytes = byteSize(
            raw.replayBytes,
            at: path.appending("replay_bytes"),
            in: 1024...(1024 * 1024 * 1024),
            default: defaults.replayBytes
        )
        let idleClose = duration(raw.idleClose, at: path.appending("idle_close"), default: defaults.idleClose)
        let missed = choice(raw.missed, at: path.appending("missed"), default: defaults.missed)
        let maxEvent = byteSize(
            raw.maxEvent,
            at: path.appending("max_event"),
            in: 1024...(16 * 1024 * 1024),
            default: defaults.maxEventBytes
        )
        guard let key, let replay, let replayBytes, let idleClose, let missed, let maxEvent else { return nil }
        return SSESharedConfig(
            key: key,
            replayEvents: replay,
            replayBytes: replayBytes,
            idleClose: idleClose,
            missed: missed,
            maxEventBytes: maxEvent
        )
    }

    /// The key parts as written (`path`, `query`, `cookie`, `authorization`, `header:<name>`), or nil after
    /// reporting a part that is none of them or one given twice.
    private mutating func sharedKey(_ items: [String], at path: ConfigKeyPath) -> [SSESharedConfig.KeyPart]? {
        var parts: [SSESharedConfig.KeyPart] = []
        var valid = true
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            let part: SSESharedConfig.KeyPart
            switch item {
            case "path": part = .path
            case "query": part = .query
            case "cookie": part = .cookie
            case "authorization": part = .authorization
            default:
                let name = item.hasPrefix("header:") ? String(item.dropFirst("header:".count)) : ""
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    report(
                        "invalid key part \"\(item)\" (expected path, query, cookie, authorization or header:<name>)",
                        at: itemPath
                    )
                    valid = false
                    continue
                }
                part = .header(name.lowercased())
            }
            if parts.contains(part) {
                report("\"\(item)\" is in the key twice", at: itemPath)
                valid = false
                continue
            }
            parts.append(part)
        }
        return valid ? parts : nil
    }
}
