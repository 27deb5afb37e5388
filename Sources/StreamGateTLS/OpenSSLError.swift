import COpenSSL

/// OpenSSL's error queue, read into text operators can act on.
enum OpenSSLError {
    /// Drains the thread's OpenSSL error queue into one line (`error:0A00010B:SSL routines::wrong version number`),
    /// or `fallback` when the queue is empty.
    static func drainQueue(fallback: String = "unknown OpenSSL error") -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            let reason = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            reasons.append(reason)
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}
