import CNghttp2

/// Receives what the HTTP/2 client session parses, stream by stream. Called synchronously from inside `receive`.
public protocol HTTP2ClientSessionDelegate: AnyObject {
    func streamReceivedStatus(_ streamID: Int32, status: Int)
    func streamReceivedData(_ streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// The server ended the stream (END_STREAM).
    func streamEnded(_ streamID: Int32)
    /// The stream is gone; `errorCode` is 0 after a clean end, else the RST_STREAM code.
    func streamClosed(_ streamID: Int32, errorCode: UInt32)
    func receivedGoaway(errorCode: UInt32)
}

/// Owns one libnghttp2 CLIENT session driven in memory (RFC 9113): bytes in with `receive`, bytes out with
/// `drainOutput`, requests with `submitGET`. Advertises Chrome's flow-control windows (6 MiB per stream,
/// 15 MiB per connection) and no server push; nghttp2 sends WINDOW_UPDATE itself as data is consumed. Used by
/// the benchmark's load client and by tests.
public final class HTTP2ClientSession {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        init(code: Int, while doing: String) {
            description = "\(String(cString: nghttp2_strerror(Int32(code)))) while \(doing)"
        }
    }

    static let streamWindow: UInt32 = 6 * 1024 * 1024
    static let connectionWindow: Int32 = 15 * 1024 * 1024

    private var session: OpaquePointer?
    public weak var delegate: (any HTTP2ClientSessionDelegate)?

    public init() throws {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw Failure(code: Int(NGHTTP2_ERR_NOMEM.rawValue), while: "allocating callbacks")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        HTTP2ClientCallbacks.register(in: callbacks)

        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        let result = nghttp2_session_client_new(&created, callbacks, userData)
        guard result == 0, let created else { throw Failure(code: Int(result), while: "creating the session") }
        session = created

        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: Self.streamWindow
            ),
        ]
        let submitted = nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        guard submitted == 0 else { throw Failure(code: Int(submitted), while: "submitting SETTINGS") }
        _ = nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Self.connectionWindow)
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

    /// Queues a request without body made of `fields` (pseudo-header fields first); returns the stream id, or a
    /// negative nghttp2 error.
    public func submitRequest(_ fields: [(String, String)]) -> Int32 {
        guard let session else { return Int32(NGHTTP2_ERR_INVALID_STATE.rawValue) }
        return HeaderBlock.withNameValues(fields) { nva, count in
            nghttp2_submit_request(session, nil, nva, count, nil, nil)
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

    /// Appends every frame nghttp2 has ready to `output`.
    public func drainOutput(into output: inout [UInt8]) throws {
        guard let session else { return }
        while true {
            var data: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(session, &data)
            if length < 0 {
                throw Failure(code: length, while: "writing frames")
            }
            guard length > 0, let data else { return }
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }
    }
}
