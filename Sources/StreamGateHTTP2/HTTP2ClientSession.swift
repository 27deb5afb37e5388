import CNghttp2

/// Receives what the HTTP/2 client session parses, stream by stream. Called synchronously from inside `receive`
/// (and, for `requestBody`, from inside `nextOutput`). Every method but the data and close ones has a default, so
/// a delegate that only counts statuses and bytes (the benchmark's) stays short.
public protocol HTTP2ClientSessionDelegate: AnyObject {
    func streamReceivedStatus(_ streamID: Int32, status: Int)
    /// One field of a response or trailer HEADERS block, pseudo-header fields included (`:status`).
    func streamReceivedField(_ streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>)
    /// A whole HEADERS block arrived (its fields came before); `endStream` when it also ended the stream.
    func streamReceivedHeaders(_ streamID: Int32, endStream: Bool)
    func streamReceivedData(_ streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// The server ended the stream (END_STREAM).
    func streamEnded(_ streamID: Int32)
    /// The stream is gone; `errorCode` is 0 after a clean end, else the RST_STREAM code.
    func streamClosed(_ streamID: Int32, errorCode: UInt32)
    /// The server sent GOAWAY: streams above `lastStreamID` were not processed and may be retried elsewhere.
    func receivedGoaway(errorCode: UInt32, lastStreamID: Int32)
    /// The request body of `streamID`: copies up to `into.count` bytes and says how many and whether the body
    /// ended; nil when none is queued yet (nghttp2 then waits for `resumeData`).
    func requestBody(_ streamID: Int32, into: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)?
}

extension HTTP2ClientSessionDelegate {
    public func streamReceivedField(_ streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        guard name.elementsEqual(":status".utf8) else { return }
        streamReceivedStatus(streamID, status: Int(String(decoding: value, as: UTF8.self)) ?? 0)
    }

    public func streamReceivedStatus(_ streamID: Int32, status: Int) {}
    public func streamReceivedHeaders(_ streamID: Int32, endStream: Bool) {}
    public func receivedGoaway(errorCode: UInt32, lastStreamID: Int32) {}
    public func requestBody(_ streamID: Int32, into: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        (0, true)
    }
}

/// Owns one libnghttp2 CLIENT session driven in memory (RFC 9113): bytes in with `receive`, bytes out with
/// `nextOutput` / `drainOutput`, requests with `submitRequest`. Its flow-control windows and whether nghttp2
/// reopens them by itself come from `Configuration`: the benchmark's load client advertises Chrome's windows and
/// lets nghttp2 send WINDOW_UPDATE; StreamGate's upstream connections reopen a stream's window only as its client
/// takes the bytes (`consume`). No server push.
public final class HTTP2ClientSession {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The `NGHTTP2_ERR_*` value.
        public var code: Int

        init(code: Int, while doing: String) {
            self.code = code
            description = "\(String(cString: nghttp2_strerror(Int32(code)))) while \(doing)"
        }
    }

    /// The windows the session advertises, and who reopens them.
    public struct Configuration: Sendable {
        /// SETTINGS_INITIAL_WINDOW_SIZE: what the server may send on one stream before a WINDOW_UPDATE.
        public var streamWindow: UInt32
        /// The connection's window.
        public var connectionWindow: Int32
        /// The owner reopens windows with `consume` / `consumeConnection`; otherwise nghttp2 does as data arrives.
        public var manualFlowControl: Bool

        public init(streamWindow: UInt32, connectionWindow: Int32, manualFlowControl: Bool) {
            self.streamWindow = streamWindow
            self.connectionWindow = connectionWindow
            self.manualFlowControl = manualFlowControl
        }

        /// Chrome's windows (6 MiB per stream, 15 MiB per connection), reopened by nghttp2.
        public static let browserLike = Configuration(
            streamWindow: 6 * 1024 * 1024,
            connectionWindow: 15 * 1024 * 1024,
            manualFlowControl: false
        )
    }

    private var session: OpaquePointer?
    public weak var delegate: (any HTTP2ClientSessionDelegate)?

    public init(configuration: Configuration = .browserLike) throws {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw Failure(code: Int(NGHTTP2_ERR_NOMEM.rawValue), while: "allocating callbacks")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        HTTP2ClientCallbacks.register(in: callbacks)

        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else {
            throw Failure(code: Int(NGHTTP2_ERR_NOMEM.rawValue), while: "allocating options")
        }
        defer { nghttp2_option_del(option) }
        if configuration.manualFlowControl {
            nghttp2_option_set_no_auto_window_update(option, 1)
        }
        nghttp2_option_set_max_settings(option, 32)
        nghttp2_option_set_max_continuations(option, 8)

        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result = nghttp2_session_client_new2(&created, callbacks, userData, option)
        guard result == 0, let created else { throw Failure(code: Int(result), while: "creating the session") }
        session = created

        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: configuration.streamWindow
            ),
        ]
        let submitted = nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        guard submitted == 0 else { throw Failure(code: Int(submitted), while: "submitting SETTINGS") }
        _ = nghttp2_session_set_local_window_size(
            created,
            UInt8(NGHTTP2_FLAG_NONE.rawValue),
            0,
            configuration.connectionWindow
        )
    }

    deinit {
        if let session {
            nghttp2_session_del(session)
        }
    }

    /// Queues `GET path` (accepting an event stream); returns the stream id, or a negative nghttp2 error.
    public func submitGET(authority: String, path: String, scheme: String = "https") -> Int32 {
        submitRequest([
            (":method", "GET"), (":scheme", scheme), (":authority", authority), (":path", path),
            ("accept", "text/event-stream"), ("cache-control", "no-cache"),
        ])
    }

    /// Queues a request made of `fields` (pseudo-header fields first); with `withBody`, its DATA comes from the
    /// delegate's `requestBody`. Returns the stream id, or a negative nghttp2 error.
    public func submitRequest(_ fields: [(String, String)], withBody: Bool = false) -> Int32 {
        guard let session else { return Int32(NGHTTP2_ERR_INVALID_STATE.rawValue) }
        return HeaderBlock.withNameValues(fields) { nva, count in
            guard withBody else {
                return nghttp2_submit_request(session, nil, nva, count, nil, nil)
            }
            var provider = nghttp2_data_provider(
                source: nghttp2_data_source(ptr: nil),
                read_callback: HTTP2ClientCallbacks.readRequestBody
            )
            return nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
    }

    /// Feeds bytes received from the server (plaintext); the delegate hears about them before this returns.
    public func receive(_ bytes: UnsafeRawBufferPointer) throws {
        guard let session, let base = bytes.baseAddress, bytes.count > 0 else { return }
        let result = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if result < 0 {
            throw Failure(code: result, while: "reading server frames")
        }
    }

    /// The next serialized frames nghttp2 has ready (one `nghttp2_session_mem_send` call), or nil when it has
    /// none. The bytes stay valid until the next call.
    public func nextOutput() throws -> UnsafeRawBufferPointer? {
        guard let session else { return nil }
        var data: UnsafePointer<UInt8>?
        let length = nghttp2_session_mem_send(session, &data)
        if length < 0 {
            throw Failure(code: length, while: "writing frames")
        }
        guard length > 0, let data else { return nil }
        return UnsafeRawBufferPointer(start: data, count: length)
    }

    /// Appends every frame nghttp2 has ready to `output`.
    public func drainOutput(into output: inout [UInt8]) throws {
        while let bytes = try nextOutput() {
            output.append(contentsOf: bytes)
        }
    }

    /// The request body of `streamID` has more bytes (or its end) after `requestBody` returned nil.
    public func resumeRequestBody(streamID: Int32) {
        guard let session else { return }
        _ = nghttp2_session_resume_data(session, streamID)
    }

    /// Resets `streamID` with `errorCode` (CANCEL when the client side went away).
    public func reset(streamID: Int32, errorCode: UInt32) {
        guard let session else { return }
        _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// `bytes` of `streamID`'s DATA were taken: its window reopens by as much (manual flow control).
    public func consume(streamID: Int32, bytes: Int) {
        guard let session, bytes > 0 else { return }
        _ = nghttp2_session_consume_stream(session, streamID, bytes)
    }

    /// `bytes` of DATA were received on the connection: its window reopens by as much (manual flow control).
    public func consumeConnection(bytes: Int) {
        guard let session, bytes > 0 else { return }
        _ = nghttp2_session_consume_connection(session, bytes)
    }

    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until its SETTINGS arrive).
    public var serverMaxConcurrentStreams: UInt32 {
        guard let session else { return 0 }
        return nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
    }

    /// False once the session has nothing more to read or write (after GOAWAY both ways, or a fatal error).
    public var isAlive: Bool {
        guard let session else { return false }
        return nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0
    }

    /// GOAWAY with NO_ERROR: StreamGate opens no more streams on this connection.
    public func submitGoaway() {
        guard let session else { return }
        _ = nghttp2_session_terminate_session(session, NGHTTP2_NO_ERROR.rawValue)
    }
}
