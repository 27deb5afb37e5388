#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import StreamGateConfig
import NIOConcurrencyHelpers
import Synchronization

/// Writes access-log lines on a thread of its own: `append` only queues (a lock held for an array append), the
/// thread wakes, takes everything queued and writes it in one `write`. A file is opened for appending and
/// reopened by `reopen` (logrotate); lines queued when the process stops are written by `close`.
final class AccessLogWriter: Sendable {
    private struct State {
        var pending: [String] = []
        var reopenRequested = false
        var closed = false
    }

    private let destination: AccessLogConfig.Destination
    private let state = NIOLockedValueBox(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let descriptor = Atomic<Int32>(-1)

    struct OpenError: Error, CustomStringConvertible {
        var description: String
    }

    init(destination: AccessLogConfig.Destination) throws {
        self.destination = destination
        descriptor.store(try Self.open(destination), ordering: .relaxed)
        let thread = Thread { [self] in run() }
        thread.start()
    }

    func append(_ line: String) {
        let wasEmpty = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.pending.append(line)
            return state.pending.count == 1
        }
        if wasEmpty {
            wakeup.signal()
        }
    }

    func reopen() {
        state.withLockedValue { $0.reopenRequested = true }
        wakeup.signal()
    }

    func close() {
        let first = state.withLockedValue { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        wakeup.signal()
        finished.wait()
    }

    private func run() {
        while true {
            wakeup.wait()
            let (lines, reopen, closed) = state.withLockedValue { state in
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    state.reopenRequested = false
                }
                return (state.pending, state.reopenRequested, state.closed)
            }
            if reopen, case .file = destination {
                do {
                    let fresh = try Self.open(destination)
                    Glibc.close(descriptor.exchange(fresh, ordering: .relaxed))
                } catch {
                    Self.complain("\(error); still writing to the file open before")
                }
            }
            if !lines.isEmpty {
                write(lines.joined(separator: "\n") + "\n")
            }
            if closed {
                if case .file = destination {
                    Glibc.close(descriptor.load(ordering: .relaxed))
                }
                finished.signal()
                return
            }
        }
    }

    private func write(_ text: String) {
        let fd = descriptor.load(ordering: .relaxed)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno)).lowercased()
                Self.complain("access log write failed (\(reason)); \(bytes.count) bytes of lines dropped")
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// A line on standard error about the access log itself (written directly: the log handler may be the one
    /// whose descriptor failed).
    private static func complain(_ message: String) {
        let line = Array("streamgate access log: \(message)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    private static func open(_ destination: AccessLogConfig.Destination) throws -> Int32 {
        switch destination {
        case .standardOutput: return STDOUT_FILENO
        case .standardError: return STDERR_FILENO
        case .file(let path):
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw OpenError(description: "access log \(path): \(String(cString: strerror(errno)).lowercased())")
            }
            return fd
        }
    }
}
