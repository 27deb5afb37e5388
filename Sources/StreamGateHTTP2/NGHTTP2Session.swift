import CNghttp2
import NIOCore
import NIOHTTP1

/// Owns one `nghttp2_session` in server mode, driven in memory: bytes in with `receive`, bytes out with
/// `nextOutput` (and the send-data callback for DATA payloads). Wraps the C calls; the callbacks it registers live in NGHTTP2Callbacks.swift.
final class NGHTTP2Session {
    private let session: OpaquePointer

    /// Creates the session; `userData` is the connection handler the callbacks report to.
    init(userData: UnsafeMutableRawPointer, settings: HTTP2ServerSettings) throws(HTTP2SessionError) {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw HTTP2SessionError(message: "cannot allocate nghttp2 callbacks")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        NGHTTP2Callbacks.register(in: callbacks)

        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else {
            throw HTTP2SessionError(message: "cannot allocate nghttp2 options")
        }
        defer { nghttp2_option_del(option) }
        // Request-body windows reopen only as the upstream takes the bytes.
        nghttp2_option_set_no_auto_window_update(option, 1)
        // Rapid reset (CVE-2023-44487) and CONTINUATION flood limits. StreamResetRateLimit answers resets first
        // (with ENHANCE_YOUR_CALM); nghttp2's own limiter, twice as loose, stays as a backstop.
        nghttp2_option_set_stream_reset_rate_limit(
            option,
            UInt64(2 * StreamResetRateLimit.defaultBurst),
            UInt64(2 * StreamResetRateLimit.defaultPerSecond)
        )
        nghttp2_option_set_max_continuations(option, 8)
        nghttp2_option_set_max_outbound_ack(option, 1000)
        nghttp2_option_set_max_settings(option, 32)

        var created: OpaquePointer?
        guard nghttp2_session_server_new2(&created, callbacks, userData, option) == 0, let created else {
            throw HTTP2SessionError(message: "cannot create the nghttp2 session")
        }
        self.session = created

        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: UInt32(settings.maxConcurrentStreams)
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: UInt32(settings.initialWindowSize)
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: UInt32(settings.maxHeaderListSize)
            ),
        ]
        if settings.enableConnectProtocol {
            entries.append(
                nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue), value: 1)
            )
        }
        let result = nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count)
        guard result == 0 else {
            nghttp2_session_del(created)
            throw HTTP2SessionError(code: result, while: "submitting SETTINGS")
        }
    }

    deinit {
        nghttp2_session_del(session)
    }

    /// Feeds received bytes to nghttp2 (its callbacks run inside). Throws on a connection-level error.
    func receive(_ buffer: ByteBuffer) throws(HTTP2SessionError) {
        let result = buffer.withUnsafeReadableBytes { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            return nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        if result < 0 {
            throw HTTP2SessionError(code: Int32(result), while: "processing client frames")
        }
    }

    /// The next serialized frames nghttp2 has ready (one `nghttp2_session_mem_send` call), or nil when it has
    /// none. DATA frames whose payload the provider marked NO_COPY do not come back here: nghttp2 hands them to
    /// the send-data callback during this call, before returning what follows them (or nil, when the callback
    /// paused it because the write is full). The bytes stay valid until the next call.
    func nextOutput() throws(HTTP2SessionError) -> UnsafeRawBufferPointer? {
        var data: UnsafePointer<UInt8>?
        let length = nghttp2_session_mem_send(session, &data)
        if length < 0 {
            throw HTTP2SessionError(code: Int32(length), while: "producing frames")
        }
        guard length > 0, let data else { return nil }
        return UnsafeRawBufferPointer(start: data, count: length)
    }

    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }

    func submitResponse(streamID: Int32, status: Int, headers: HTTPHeaders, withBody: Bool) -> Int32 {
        var fields: [(String, String)] = [(":status", String(status))]
        fields.reserveCapacity(headers.count + 1)
        for (name, value) in headers {
            fields.append((name.lowercased(), value))
        }
        return HeaderBlock.withNameValues(fields) { nva, count in
            if withBody {
                var provider = nghttp2_data_provider(
                    source: nghttp2_data_source(ptr: nil),
                    read_callback: NGHTTP2Callbacks.readResponseData
                )
                return nghttp2_submit_response(session, streamID, nva, count, &provider)
            }
            return nghttp2_submit_response(session, streamID, nva, count, nil)
        }
    }

    /// A non-final 1xx response HEADERS frame on `streamID` (RFC 9113 section 8.1), before `submitResponse`.
    func submitInformational(streamID: Int32, status: Int, headers: HTTPHeaders) -> Int32 {
        let fields = [(":status", String(status))] + headers.map { ($0.name.lowercased(), $0.value) }
        return HeaderBlock.withNameValues(fields) { nva, count in
            nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, nil, nva, count, nil)
        }
    }

    /// Trailer fields for `streamID`, sent after its last DATA frame with END_STREAM (called from the data provider
    /// when it sets NO_END_STREAM, as nghttp2 documents).
    func submitTrailer(streamID: Int32, headers: HTTPHeaders) -> Int32 {
        let fields = headers.map { ($0.name.lowercased(), $0.value) }
        return HeaderBlock.withNameValues(fields) { nva, count in
            nghttp2_submit_trailer(session, streamID, nva, count)
        }
    }

    func resumeData(streamID: Int32) {
        _ = nghttp2_session_resume_data(session, streamID)
    }

    func submitReset(streamID: Int32, errorCode: UInt32) {
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    func consume(streamID: Int32, bytes: Int) {
        if nghttp2_session_consume(session, streamID, bytes) != 0 {
            _ = nghttp2_session_consume_connection(session, bytes)
        }
    }

    func consumeConnection(bytes: Int) {
        _ = nghttp2_session_consume_connection(session, bytes)
    }

    /// The first GOAWAY of a graceful shutdown (last stream id 2^31-1): clients stop opening streams, and those
    /// already on their way are still accepted (RFC 9113 section 6.8).
    func submitShutdownNotice() {
        _ = nghttp2_submit_shutdown_notice(session)
    }

    /// GOAWAY with NO_ERROR naming the last stream processed: no new streams, those in flight may finish.
    func submitGracefulGoaway() {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, NGHTTP2_NO_ERROR.rawValue, nil, 0)
    }

    /// GOAWAY with `error`'s code and its reason as debug data, naming the last stream processed. The caller
    /// stops reading and closes the connection once the frame is written.
    func submitGoaway(_ error: HTTP2ConnectionError) {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        var reason = Array(error.reason.utf8.prefix(256))
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, error.code, &reason, reason.count)
    }
}

/// An nghttp2 failure: the library's error code and text, and what StreamGate was doing.
struct HTTP2SessionError: Error, CustomStringConvertible {
    var message: String
    /// The `NGHTTP2_ERR_*` value, when nghttp2 returned one.
    var libraryCode: Int32?

    init(message: String) {
        self.message = message
    }

    init(code: Int32, while doing: String) {
        self.message = "\(String(cString: nghttp2_strerror(code))) while \(doing)"
        self.libraryCode = code
    }

    var description: String { message }
}
