extension ConfigValidator {
    /// `limits: { max_header_bytes, header_timeout, client_idle_timeout, stream_buffer_bytes,
    /// slow_consumer_timeout }`, each optional.
    mutating func validateLimits(_ raw: RawLimits?, at path: ConfigKeyPath) -> LimitsConfig? {
        let defaults = LimitsConfig()
        guard let raw else { return defaults }
        let maxHeaderBytes = byteSize(
            raw.maxHeaderBytes,
            at: path.appending("max_header_bytes"),
            in: LimitsConfig.maxHeaderBytesRange,
            default: defaults.maxHeaderBytes
        )
        let headerTimeout = duration(raw.headerTimeout, at: path.appending("header_timeout"), default: defaults.headerTimeout)
        let idle = duration(
            raw.clientIdleTimeout,
            at: path.appending("client_idle_timeout"),
            default: defaults.clientIdleTimeout
        )
        let streamBuffer = byteSize(
            raw.streamBufferBytes,
            at: path.appending("stream_buffer_bytes"),
            in: LimitsConfig.streamBufferBytesRange,
            default: defaults.streamBufferBytes
        )
        let slowConsumer = duration(
            raw.slowConsumerTimeout,
            at: path.appending("slow_consumer_timeout"),
            default: defaults.slowConsumerTimeout
        )
        guard let maxHeaderBytes, let headerTimeout, let idle, let streamBuffer, let slowConsumer else { return nil }
        return LimitsConfig(
            maxHeaderBytes: maxHeaderBytes,
            headerTimeout: headerTimeout,
            clientIdleTimeout: idle,
            streamBufferBytes: streamBuffer,
            slowConsumerTimeout: slowConsumer
        )
    }
}
