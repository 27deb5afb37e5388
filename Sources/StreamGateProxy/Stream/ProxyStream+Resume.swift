import Logging

/// What an event stream that lost its upstream tells the operator: a log line per resume, failed attempt and
/// end, and the `streamgate_sse_resumes_total` count of how each failover ended.
extension ProxyStream {
    /// Logs and counts what the machine's failover did last, if anything.
    func reportResume() {
        guard let report = machine.takeResumeReport() else { return }
        switch report {
        case .resumed(let attempt, let lastEventID):
            let address = upstream.map(lease.address(of:)) ?? "?"
            logger.info("event stream resumed on \(address) from Last-Event-ID \(lastEventID) (attempt \(attempt))")
            connection?.resumeEnded(route: route.label, result: .resumed)
        case .attemptFailed(let attempt, let reason):
            logger.warning("resume attempt \(attempt) failed: \(reason)")
        case .gaveUp(let attempts, let reason):
            logger.warning("event stream not resumed after \(attempts) failed attempts (last: \(reason)); ending it")
            connection?.resumeEnded(route: route.label, result: .failed)
        case .noEventID(let reason):
            logger.warning("event stream lost its upstream before any event id reached the client (\(reason)); ending it")
            connection?.resumeEnded(route: route.label, result: .noID)
        }
    }
}
