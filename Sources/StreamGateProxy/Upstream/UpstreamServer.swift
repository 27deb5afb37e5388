import Logging
import NIOCore
import StreamGateConfig
import NIOConcurrencyHelpers
import Synchronization

/// One server of one upstream as every event loop sees it: how many streams are in flight to it (for
/// `least_streams` and the admin view) and whether it may be chosen now: not ejected by passive health (failures
/// within `fail_window`), not out of service by its active health check. Shared by the loops and kept across
/// reloads (`UpstreamServerDirectory`), so a reload neither forgets an ejection nor miscounts live streams.
public final class UpstreamServer: Sendable {
    public let upstream: String
    /// `ip:port`.
    public let address: String
    private let logger: Logger
    private let inFlight = Atomic<Int>(0)
    /// New HTTP/1.1 connections being set up, and streams waiting for a slot to start one (`max_connecting`).
    private let connects = Atomic<Int>(0)
    private let connectWaiters = Atomic<Int>(0)
    /// `NIODeadline.uptimeNanoseconds` until which passive health keeps the server out; 0 when it is not ejected.
    private let ejectedUntil = Atomic<UInt64>(0)
    /// The active health check has failed `fall` times in a row and not yet passed `rise` times.
    private let checkDown = Atomic<Bool>(false)
    /// Failures were recorded that a success should clear.
    private let hasFailures = Atomic<Bool>(false)
    private let health = NIOLockedValueBox(Health())

    private struct Health {
        var recentFailures: [NIODeadline] = []
        var checkFails = 0
        var checkPasses = 0
        var ejections = 0
        var lastFailure: String?
        /// Ejected since the last success: the next success is logged as the server's return.
        var awaitingReturn = false
    }

    /// What the admin view says about a server.
    public enum State: String, Sendable {
        case up
        /// Taken out by passive health until its `eject_for` is over.
        case ejected
        /// Taken out by its failing active health check.
        case down
    }

    init(upstream: String, address: String, logger: Logger) {
        self.upstream = upstream
        self.address = address
        self.logger = logger
    }

    // MARK: Streams in flight

    public var streamsInFlight: Int { inFlight.load(ordering: .relaxed) }

    func streamStarted() {
        inFlight.add(1, ordering: .relaxed)
    }

    func streamEnded() {
        inFlight.subtract(1, ordering: .relaxed)
    }

    // MARK: Connects in progress and waiting (HTTP/1.1, `max_connecting`)

    /// New HTTP/1.1 connections to this server being set up (TCP, and TLS when the upstream has it), over every
    /// event loop: at most `max_connecting` on each.
    public var connectsInProgress: Int { connects.load(ordering: .relaxed) }

    /// Streams waiting for a free connect slot to this server, over every event loop.
    public var connectsWaiting: Int { connectWaiters.load(ordering: .relaxed) }

    /// A loop's connect line to this server changed by `inProgress` slots and `waiting` streams.
    func connectLineChanged(inProgress: Int, waiting: Int) {
        if inProgress != 0 {
            connects.add(inProgress, ordering: .relaxed)
        }
        if waiting != 0 {
            connectWaiters.add(waiting, ordering: .relaxed)
        }
    }

    // MARK: Choice

    /// Neither ejected (until a time after `now`) nor down by its health check.
    func isAvailable(at now: NIODeadline) -> Bool {
        guard !checkDown.load(ordering: .relaxed) else { return false }
        let until = ejectedUntil.load(ordering: .relaxed)
        return until == 0 || until <= now.uptimeNanoseconds
    }

    public func state(at now: NIODeadline = .now()) -> State {
        if checkDown.load(ordering: .relaxed) { return .down }
        return isAvailable(at: now) ? .up : .ejected
    }

    // MARK: Passive health

    /// A connect failed or timed out, or the server closed, reset or kept silent before a response head. With
    /// `policy.maxFails` such failures within `policy.failWindow` the server is ejected for `policy.ejectFor`.
    func recordFailure(_ reason: String, policy: PassiveHealthConfig, now: NIODeadline = .now()) {
        guard policy.maxFails > 0 else { return }
        hasFailures.store(true, ordering: .relaxed)
        let ejected = health.withLockedValue { health -> Bool in
            health.lastFailure = reason
            let windowStart = now - TimeAmount(policy.failWindow)
            health.recentFailures.removeAll { $0 <= windowStart }
            health.recentFailures.append(now)
            guard health.recentFailures.count >= policy.maxFails, isAvailable(at: now) else { return false }
            health.recentFailures.removeAll()
            health.ejections += 1
            health.awaitingReturn = true
            ejectedUntil.store((now + TimeAmount(policy.ejectFor)).uptimeNanoseconds, ordering: .relaxed)
            return true
        }
        if ejected {
            let count = policy.maxFails == 1 ? "a failure" : "\(policy.maxFails) failures"
            logger.warning(
                "upstream \(upstream) server \(address) ejected for \(policy.ejectFor.configText) after \(count) within \(policy.failWindow.configText): \(reason)"
            )
        }
    }

    /// A response head arrived: earlier failures no longer count towards an ejection.
    func recordSuccess() {
        guard hasFailures.load(ordering: .relaxed) else { return }
        hasFailures.store(false, ordering: .relaxed)
        let returned = health.withLockedValue { health -> Bool in
            health.recentFailures.removeAll()
            defer { health.awaitingReturn = false }
            return health.awaitingReturn
        }
        if returned {
            logger.info("upstream \(upstream) server \(address) answers again after its ejection")
        }
    }

    // MARK: Active health

    /// One active check's result: `fall` failures in a row take the server out, `rise` passes bring it back.
    func recordCheck(passed: Bool, detail: String, policy: HealthCheckConfig) {
        let change = health.withLockedValue { health -> State? in
            if passed {
                health.checkFails = 0
                health.checkPasses += 1
                if checkDown.load(ordering: .relaxed), health.checkPasses >= policy.rise {
                    checkDown.store(false, ordering: .relaxed)
                    return .up
                }
            } else {
                health.checkPasses = 0
                health.checkFails += 1
                health.lastFailure = "health check: \(detail)"
                if !checkDown.load(ordering: .relaxed), health.checkFails >= policy.fall {
                    checkDown.store(true, ordering: .relaxed)
                    health.ejections += 1
                    return .down
                }
            }
            return nil
        }
        switch change {
        case .down:
            logger.warning(
                "upstream \(upstream) server \(address) failed \(policy.fall) health checks in a row (\(detail)): out of service"
            )
        case .up:
            logger.info("upstream \(upstream) server \(address) passed \(policy.rise) health checks in a row: back in service")
        case .ejected, nil:
            break
        }
    }

    /// The upstream no longer has an active check (a reload removed it): only passive health decides.
    func clearCheck() {
        health.withLockedValue { health in
            health.checkFails = 0
            health.checkPasses = 0
        }
        checkDown.store(false, ordering: .relaxed)
    }

    // MARK: Admin view

    /// Times the server was taken out of the choice (ejections and health-check downs), and the last failure seen.
    public var record: (ejections: Int, lastFailure: String?) {
        health.withLockedValue { ($0.ejections, $0.lastFailure) }
    }
}

/// Every `UpstreamServer` of the process, by upstream name and address: a reload's new upstream groups get the
/// same objects for the servers they keep, so streams in flight and health carry over.
public final class UpstreamServerDirectory: Sendable {
    private struct Key: Hashable {
        var upstream: String
        var address: String
    }

    private let servers = NIOLockedValueBox<[Key: UpstreamServer]>([:])
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    func server(upstream: String, address: String) -> UpstreamServer {
        servers.withLockedValue { servers in
            let key = Key(upstream: upstream, address: address)
            if let server = servers[key] { return server }
            let server = UpstreamServer(upstream: upstream, address: address, logger: logger)
            servers[key] = server
            return server
        }
    }

    /// Forgets every server not in `kept` (those a reload removed); streams still in flight to one keep it alive.
    func keepOnly(_ kept: [UpstreamServer]) {
        let keys = Set(kept.map { Key(upstream: $0.upstream, address: $0.address) })
        servers.withLockedValue { servers in
            servers = servers.filter { keys.contains($0.key) }
        }
    }
}
