import CNghttp2

/// The C callbacks of the client session, registered in one place. nghttp2 calls them from inside
/// `nghttp2_session_mem_recv` / `mem_send`; each recovers the `HTTP2ClientSession` from `user_data` (unretained:
/// the session outlives its nghttp2 session) and tells its delegate.
enum HTTP2ClientCallbacks {
    static func register(in callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
    }

    private static func delegate(_ userData: UnsafeMutableRawPointer?) -> (any HTTP2ClientSessionDelegate)? {
        guard let userData else { return nil }
        return Unmanaged<HTTP2ClientSession>.fromOpaque(userData).takeUnretainedValue().delegate
    }

    private static let onHeader: nghttp2_on_header_callback = {
        _,
        frame,
        name,
        nameLength,
        value,
        valueLength,
        _,
        userData in
        guard let frame, let name, let value, let delegate = delegate(userData) else { return 0 }
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
        delegate.streamReceivedField(
            frame.pointee.hd.stream_id,
            name: UnsafeBufferPointer(start: name, count: nameLength),
            value: UnsafeBufferPointer(start: value, count: valueLength)
        )
        return 0
    }

    private static let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, userData in
        guard let frame, let delegate = delegate(userData) else { return 0 }
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue:
            delegate.streamReceivedHeaders(header.stream_id, endStream: endStream)
            if endStream {
                delegate.streamEnded(header.stream_id)
            }
        case NGHTTP2_DATA.rawValue:
            if endStream {
                delegate.streamEnded(header.stream_id)
            }
        case NGHTTP2_GOAWAY.rawValue:
            delegate.receivedGoaway(
                errorCode: frame.pointee.goaway.error_code,
                lastStreamID: frame.pointee.goaway.last_stream_id
            )
        default:
            break
        }
        return 0
    }

    private static let onDataChunk: nghttp2_on_data_chunk_recv_callback = {
        _,
        _,
        streamID,
        data,
        length,
        userData in
        guard let data, let delegate = delegate(userData) else { return 0 }
        delegate.streamReceivedData(streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
        return 0
    }

    private static let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
        delegate(userData)?.streamClosed(streamID, errorCode: errorCode)
        return 0
    }

    /// Data provider of requests with a body: copies what the delegate has queued; DEFERRED when nothing is.
    static let readRequestBody: nghttp2_data_source_read_callback = {
        _, streamID, buffer, length, flags, _, userData in
        guard let buffer, let flags, let delegate = delegate(userData) else {
            return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
        }
        guard let (count, end) = delegate.requestBody(streamID, into: UnsafeMutableRawBufferPointer(start: buffer, count: length)) else {
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if end {
            flags.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
        }
        return count
    }
}
