import CNghttp2

/// The C callbacks of the server session, in one place. nghttp2 calls them synchronously from inside
/// `nghttp2_session_mem_recv` / `mem_send` / `resume_data`; each recovers the connection handler from `user_data`
/// (unretained: the handler deletes the session before it goes away) and hands the event over.
enum NGHTTP2Callbacks {
    static func register(in callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, onBeginFrame)
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_send_data_callback(callbacks, sendResponseData)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSent)
    }

    private static func handler(_ userData: UnsafeMutableRawPointer?) -> HTTP2ServerConnectionHandler? {
        guard let userData else { return nil }
        return Unmanaged<HTTP2ServerConnectionHandler>.fromOpaque(userData).takeUnretainedValue()
    }

    /// Every frame's header, before nghttp2 acts on it; a failure here fails `mem_recv` (a connection error).
    private static let onBeginFrame: nghttp2_on_begin_frame_callback = { _, header, userData in
        guard let header, let handler = handler(userData) else { return 0 }
        return handler.beginFrame(type: header.pointee.type, streamID: header.pointee.stream_id)
            ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
    }

    private static let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
        guard let frame, let handler = handler(userData) else { return 0 }
        let header = frame.pointee.hd
        guard header.type == UInt8(NGHTTP2_HEADERS.rawValue),
            frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
        else { return 0 }
        handler.beginRequest(streamID: header.stream_id)
        return 0
    }

    private static let onHeader: nghttp2_on_header_callback = {
        _, frame, name, nameLength, value, valueLength, _, userData in
        guard let frame, let name, let value, let handler = handler(userData) else { return 0 }
        guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
        let accepted = handler.receiveHeader(
            streamID: frame.pointee.hd.stream_id,
            name: UnsafeBufferPointer(start: name, count: nameLength),
            value: UnsafeBufferPointer(start: value, count: valueLength)
        )
        // Not accepted only for a stream nghttp2 should reset (an over-long header list is answered 431 instead).
        return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
    }

    private static let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, userData in
        guard let frame, let handler = handler(userData) else { return 0 }
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue where frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST:
            handler.completeRequestHead(streamID: header.stream_id, endStream: endStream)
        case NGHTTP2_DATA.rawValue, NGHTTP2_HEADERS.rawValue:
            if endStream {
                handler.endRequest(streamID: header.stream_id)
            }
        default:
            break
        }
        return 0
    }

    /// Only GOAWAY is of interest: one with an error code that StreamGate did not submit is nghttp2 ending the
    /// session on its own (an undecodable header block, a window overflow), which the handler logs.
    private static let onFrameSent: nghttp2_on_frame_send_callback = { _, frame, userData in
        guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue), let handler = handler(userData) else {
            return 0
        }
        handler.goawaySent(errorCode: frame.pointee.goaway.error_code)
        return 0
    }

    private static let onDataChunk: nghttp2_on_data_chunk_recv_callback = {
        _, _, streamID, data, length, userData in
        guard let data, let handler = handler(userData) else { return 0 }
        handler.receiveData(streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
        return 0
    }

    private static let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
        handler(userData)?.closeStream(streamID: streamID, errorCode: errorCode)
        return 0
    }

    /// Data provider of every response: says how many queued body bytes the next DATA frame carries, without
    /// copying them (NO_COPY: `sendResponseData` writes them straight into the output); DEFERRED when none are
    /// queued yet.
    static let readResponseData: nghttp2_data_source_read_callback = {
        _, streamID, _, length, flags, _, userData in
        guard let flags, let handler = handler(userData) else {
            return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
        }
        return handler.responseDataLength(streamID: streamID, maximum: length, flags: flags)
    }

    /// Writes one whole DATA frame (the 9-byte header nghttp2 made, then the payload from the stream's queue).
    private static let sendResponseData: nghttp2_send_data_callback = {
        _, frame, frameHeader, length, _, userData in
        guard let frame, let frameHeader, let handler = handler(userData) else {
            return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
        }
        let result = handler.writeResponseData(
            streamID: frame.pointee.hd.stream_id,
            frameHeader: UnsafeRawBufferPointer(start: frameHeader, count: 9),
            length: length
        )
        switch result {
        case .written:
            return 0
        case .writeFull:
            // The frame counts as sent; mem_send returns 0 and the caller writes what it has.
            return NGHTTP2_ERR_PAUSE.rawValue
        case .missing:
            // Only that stream is reset (INTERNAL_ERROR).
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
    }
}
