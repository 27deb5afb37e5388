import NIOCore
import NIOEmbedded
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// The choice of a server for a new stream, and the health state that narrows it, without the network: the
/// sequences smooth weighted round robin and least_streams produce, what an ejection and a failing check take
/// out and for how long, and the fall-backs when every server is out.
final class UpstreamBalancerTests: XCTestCase {
    private func group(
        _ count: Int,
        weights: [Int]? = nil,
        balance: BalancePolicy = .roundRobin,
        passive: PassiveHealthConfig = PassiveHealthConfig()
    ) throws -> UpstreamGroup {
        let servers = (0..<count).map { HostPort(host: "127.0.0.1", port: 9000 + $0) }
        let config = UpstreamConfig(name: "app", servers: servers, weights: weights, balance: balance, passiveHealth: passive)
        let addresses = try servers.map { try SocketAddress(ipAddress: $0.host, port: $0.port) }
        return UpstreamGroup(index: 0, config: config, addresses: addresses)
    }

    private func picks(_ balancer: inout UpstreamBalancer, _ group: UpstreamGroup, _ count: Int, now: NIODeadline = .now()) -> [Int] {
        (0..<count).map { _ in balancer.choose(in: group, now: now) ?? -1 }
    }

    /// A group with no server (config validation refuses one, so this guards the lease itself): the stream is
    /// answered with a failure at once, not left waiting for a connection that never comes.
    func testALeaseOnAGroupWithoutServersFailsAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let lease = UpstreamLease(group: try group(0), pool: UpstreamConnectionPool(eventLoop: loop))
        var outcome: Result<any UpstreamExchange, UpstreamLeaseFailure>?
        lease.acquire(forUpgrade: false, isWanted: { true }, connectFailed: { _ in true }) { outcome = $0 }
        guard case .failure(let failure) = outcome else {
            return XCTFail("the lease did not fail: \(String(describing: outcome))")
        }
        XCTAssertEqual(failure.description, "upstream app has no server to choose")
        XCTAssertFalse(failure.timedOut)
    }

    func testRoundRobinTakesTurnsAndWeightsInterleave() throws {
        var balancer = UpstreamBalancer()
        XCTAssertEqual(picks(&balancer, try group(3), 6), [0, 1, 2, 0, 1, 2])
        // nginx's smooth sequence for weights 5, 1, 1: the heavy server is spread out, not sent five in a row.
        var weighted = UpstreamBalancer()
        XCTAssertEqual(picks(&weighted, try group(3, weights: [5, 1, 1]), 7), [0, 0, 1, 0, 2, 0, 0])
        var threeToOne = UpstreamBalancer()
        let sequence = picks(&threeToOne, try group(2, weights: [3, 1]), 40)
        XCTAssertEqual(sequence.filter { $0 == 0 }.count, 30)
    }

    func testLeastStreamsPicksTheFewestForTheWeightAndRotatesTies() throws {
        let upstream = try group(3, balance: .leastStreams)
        var balancer = UpstreamBalancer()
        // Equal counts: ties rotate, so a burst spreads instead of piling on server 0.
        var chosen: [Int] = []
        for _ in 0..<6 {
            let index = try XCTUnwrap(balancer.choose(in: upstream))
            upstream.servers[index].streamStarted()
            chosen.append(index)
        }
        XCTAssertEqual(chosen.sorted(), [0, 0, 1, 1, 2, 2])
        // Server 1's streams end: it is picked until it has caught up.
        upstream.servers[1].streamEnded()
        upstream.servers[1].streamEnded()
        XCTAssertEqual(balancer.choose(in: upstream), 1)
        upstream.servers[1].streamStarted()
        XCTAssertEqual(balancer.choose(in: upstream), 1)

        // Weight 2 holds twice the streams of weight 1 before either is preferred.
        let weighted = try group(2, weights: [2, 1], balance: .leastStreams)
        var other = UpstreamBalancer()
        for _ in 0..<30 {
            let index = try XCTUnwrap(other.choose(in: weighted))
            weighted.servers[index].streamStarted()
        }
        XCTAssertEqual(weighted.servers.map(\.streamsInFlight), [20, 10])
    }

    func testEjectionTakesAServerOutForEjectForAfterMaxFailsWithinTheWindow() throws {
        let passive = PassiveHealthConfig(maxFails: 2, failWindow: .seconds(10), ejectFor: .seconds(30))
        let upstream = try group(2, passive: passive)
        let server = upstream.servers[1]
        let start = NIODeadline.now()
        server.recordFailure("refused", policy: passive, now: start)
        XCTAssertEqual(server.state(at: start), .up, "one failure of max_fails 2")
        // The second failure comes after the window closed on the first: still up.
        server.recordFailure("refused", policy: passive, now: start + .seconds(11))
        XCTAssertEqual(server.state(at: start + .seconds(11)), .up)
        server.recordFailure("refused", policy: passive, now: start + .seconds(12))
        XCTAssertEqual(server.state(at: start + .seconds(12)), .ejected)
        XCTAssertEqual(server.record.ejections, 1)
        var balancer = UpstreamBalancer()
        XCTAssertEqual(picks(&balancer, upstream, 4, now: start + .seconds(13)), [0, 0, 0, 0])
        // eject_for over: back in the choice.
        XCTAssertEqual(server.state(at: start + .seconds(43)), .up)
        XCTAssertEqual(Set(picks(&balancer, upstream, 4, now: start + .seconds(43))), [0, 1])
    }

    func testASuccessClearsEarlierFailuresAndMaxFailsZeroNeverEjects() throws {
        let passive = PassiveHealthConfig(maxFails: 2)
        let upstream = try group(1, passive: passive)
        let server = upstream.servers[0]
        let now = NIODeadline.now()
        server.recordFailure("reset", policy: passive, now: now)
        server.recordSuccess()
        server.recordFailure("reset", policy: passive, now: now + .seconds(1))
        XCTAssertEqual(server.state(at: now + .seconds(1)), .up, "the success in between reset the count")

        let off = PassiveHealthConfig(maxFails: 0)
        for second in 0..<10 {
            server.recordFailure("reset", policy: off, now: now + .seconds(Int64(second)))
        }
        XCTAssertEqual(server.state(at: now + .seconds(10)), .up)
    }

    func testHealthCheckFallAndRise() throws {
        let check = HealthCheckConfig(fall: 3, rise: 2)
        let server = try group(1).servers[0]
        server.recordCheck(passed: false, detail: "status 503", policy: check)
        server.recordCheck(passed: false, detail: "status 503", policy: check)
        XCTAssertEqual(server.state(), .up, "two of fall 3")
        server.recordCheck(passed: false, detail: "status 503", policy: check)
        XCTAssertEqual(server.state(), .down)
        XCTAssertEqual(server.record.lastFailure, "health check: status 503")
        server.recordCheck(passed: true, detail: "", policy: check)
        XCTAssertEqual(server.state(), .down, "one of rise 2")
        server.recordCheck(passed: false, detail: "timeout", policy: check)
        server.recordCheck(passed: true, detail: "", policy: check)
        XCTAssertEqual(server.state(), .down, "a failure in between restarts the rise")
        server.recordCheck(passed: true, detail: "", policy: check)
        XCTAssertEqual(server.state(), .up)
        // A reload that drops the check brings a down server back at once.
        for _ in 0..<3 { server.recordCheck(passed: false, detail: "x", policy: check) }
        XCTAssertEqual(server.state(), .down)
        server.clearCheck()
        XCTAssertEqual(server.state(), .up)
    }

    func testEveryServerOutStillPicksOneAndExcludingTheOnlyServerPicksNone() throws {
        let passive = PassiveHealthConfig(maxFails: 1, ejectFor: .seconds(60))
        let upstream = try group(2, passive: passive)
        let now = NIODeadline.now()
        upstream.servers.forEach { $0.recordFailure("refused", policy: passive, now: now) }
        var balancer = UpstreamBalancer()
        XCTAssertEqual(Set(picks(&balancer, upstream, 4, now: now + .seconds(1))), [0, 1], "all out: all are tried")
        XCTAssertEqual(balancer.choose(in: upstream, excluding: 0, now: now + .seconds(1)), 1, "the retry goes elsewhere")

        let single = try group(1)
        XCTAssertEqual(balancer.choose(in: single), 0)
        XCTAssertNil(balancer.choose(in: single, excluding: 0), "no other server to retry on")
    }

    func testServersKeepTheirStateAcrossAReloadThroughTheDirectory() throws {
        let directory = UpstreamServerDirectory(logger: .init(label: "test"))
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 9000)
        let config = UpstreamConfig(name: "app", servers: [HostPort(host: "127.0.0.1", port: 9000)])
        let before = UpstreamGroup(index: 0, config: config, addresses: [address], directory: directory)
        before.servers[0].streamStarted()
        let after = UpstreamGroup(index: 0, config: config, addresses: [address], directory: directory)
        XCTAssertTrue(before.servers[0] === after.servers[0])
        XCTAssertEqual(after.servers[0].streamsInFlight, 1)
        directory.keepOnly([])
        let renamed = UpstreamGroup(index: 0, config: config, addresses: [address], directory: directory)
        XCTAssertFalse(renamed.servers[0] === before.servers[0], "a server dropped by a reload starts afresh")
    }
}
