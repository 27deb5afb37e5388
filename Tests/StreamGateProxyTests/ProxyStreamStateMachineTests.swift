import NIOCore
import NIOHTTP1
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// Every transition of a proxied stream that does not depend on time: request and response flow, body held while
/// connecting, pool-or-close, the one retry, the client going away in each state, the WebSocket upgrade.
final class ProxyStreamStateMachineTests: XCTestCase {
    private typealias T = MachineTestSupport

    private func describe(_ action: ProxyStreamStateMachine.Action) -> String {
        T.describe(action)
    }

    func testPlainRequestAndResponseReusesTheConnection() {
        var machine = T.machine()
        XCTAssertEqual(describe(machine.start()), "lease")
        XCTAssertEqual(machine.phase, .connecting)
        XCTAssertEqual(describe(machine.requestEndReceived(now: T.at(0))), "none")
        XCTAssertEqual(describe(machine.upstreamLeased(now: T.at(5))), "sendRequest(body , end true)")
        XCTAssertEqual(machine.phase, .awaitingHead)
        XCTAssertEqual(machine.responseHead(T.head(), at: 10), "write(head 200)")
        XCTAssertEqual(machine.kind, .http)
        XCTAssertEqual(machine.body("hello", at: 11), "write(\"hello\")")
        XCTAssertEqual(describe(machine.responseEndReceived()), "complete(reuse true)")
        XCTAssertEqual(machine.outcome, .ok)
        XCTAssertEqual(machine.responseBodyBytes, 5)
    }

    func testBodyThatArrivesWhileConnectingWaitsAndPausesTheClient() {
        var machine = T.machine(method: .POST)
        _ = machine.start()
        XCTAssertEqual(describe(machine.requestBodyReceived(T.bytes("abc"), now: T.at(1))), "pauseRequestBody")
        XCTAssertEqual(describe(machine.upstreamLeased(now: T.at(2))), "sendRequest(body abc, end false)")
        XCTAssertEqual(describe(machine.requestBodyReceived(T.bytes("def"), now: T.at(3))), "forwardRequestBody(def)")
        XCTAssertEqual(describe(machine.requestEndReceived(now: T.at(0))), "forwardRequestEnd")
        XCTAssertEqual(machine.requestBodyBytes, 6)
    }

    func testResponseThatEndsBeforeTheRequestWasSentClosesTheConnection() {
        var machine = T.machine(method: .POST)
        machine.startAndLease()
        _ = machine.responseHead(T.head(), at: 1)
        XCTAssertEqual(describe(machine.responseEndReceived()), "complete(reuse false)")
    }

    func testUpstreamThatClosesAfterTheResponseIsNotReused() {
        var machine = T.machine()
        machine.startAndLease()
        _ = machine.requestEndReceived(now: T.at(0))
        _ = machine.responseHead(T.head(keepAlive: false), at: 1)
        XCTAssertEqual(describe(machine.responseEndReceived()), "complete(reuse false)")
    }

    func testConnectFailuresAnswer502Or504() {
        var refused = T.machine()
        _ = refused.start()
        let failure = UpstreamLeaseFailure(connecting: "127.0.0.1:9", error: ChannelError.ioOnClosedChannel)
        XCTAssertTrue(describe(refused.upstreamUnavailable(failure)).hasPrefix("respond 502: connect to 127.0.0.1:9 failed"))
        XCTAssertEqual(refused.outcome, .upstreamError)

        var slow = T.machine()
        _ = slow.start()
        let timeout = UpstreamLeaseFailure(connecting: "127.0.0.1:9", error: ChannelError.connectTimeout(.seconds(2)))
        XCTAssertEqual(describe(slow.upstreamUnavailable(timeout)), "respond 504: connect to 127.0.0.1:9 timed out")
    }

    func testReusedConnectionThatDiesBeforeRespondingIsRetriedOnce() {
        var machine = T.machine()
        machine.startAndLease()
        _ = machine.requestEndReceived(now: T.at(0))
        XCTAssertEqual(describe(machine.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: true)), "retry")
        XCTAssertEqual(machine.state, .connecting(attempt: 2))
        XCTAssertEqual(describe(machine.upstreamLeased(now: T.at(1))), "sendRequest(body , end true)")
        // The second connection was reused too, but there is only one retry.
        XCTAssertEqual(
            describe(machine.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: true)),
            "respond 502: upstream failed before responding: upstream closed the connection"
        )
    }

    func testNoRetryForAFreshConnectionABodyOrANonIdempotentMethod() {
        var fresh = T.machine()
        fresh.startAndLease()
        XCTAssertTrue(describe(fresh.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: false)).hasPrefix("respond 502"))

        var withBody = T.machine(method: .PUT)
        withBody.startAndLease()
        _ = withBody.requestBodyReceived(T.bytes("x"), now: T.at(1))
        XCTAssertTrue(describe(withBody.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: true)).hasPrefix("respond 502"))

        var post = T.machine(method: .POST)
        post.startAndLease()
        XCTAssertTrue(describe(post.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: true)).hasPrefix("respond 502"))
    }

    func testUpstreamFailureMidResponseCutsTheClientStream() {
        var machine = T.machine()
        machine.startAndLease()
        _ = machine.responseHead(T.head(), at: 1)
        XCTAssertEqual(describe(machine.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: true)), "cut")
        XCTAssertEqual(machine.outcome, .upstreamError)
    }

    func testClientGoneInEveryState() {
        var connecting = T.machine()
        _ = connecting.start()
        XCTAssertEqual(describe(connecting.downstreamClosed()), "clientGone")

        var awaiting = T.machine()
        awaiting.startAndLease()
        XCTAssertEqual(describe(awaiting.downstreamClosed()), "clientGone")

        var streaming = T.machine()
        streaming.startAndLease()
        _ = streaming.responseHead(T.eventStreamHead, at: 1)
        XCTAssertEqual(describe(streaming.downstreamClosed()), "clientGone")
        XCTAssertEqual(streaming.outcome, .clientGone)

        var upgrading = T.machine(isWebSocket: true)
        upgrading.startAndLease()
        _ = upgrading.responseHead(T.upgradeHead(), at: 1)
        XCTAssertEqual(describe(upgrading.downstreamClosed()), "clientGone")
    }

    func testEventsAfterTheEndDoNothing() {
        var machine = T.machine()
        machine.startAndLease()
        _ = machine.responseHead(T.head(), at: 1)
        _ = machine.responseEndReceived()
        // An HTTP/2 stream closes while its last bytes are flushed: that close is not the client going away.
        XCTAssertEqual(describe(machine.downstreamClosed()), "none")
        XCTAssertEqual(machine.body("late", at: 2), "none")
        XCTAssertEqual(describe(machine.upstreamFailed(UpstreamConnectionClosed(), connectionWasReused: false)), "none")
        XCTAssertEqual(describe(machine.requestBodyReceived(T.bytes("x"), now: T.at(3))), "none")
        XCTAssertEqual(machine.fire(at: 1_000_000_000), "none")
        XCTAssertNil(machine.nextDeadline)
        XCTAssertEqual(machine.outcome, .ok)
    }

    func testWebSocketUpgradeHandsOverToTheTunnel() {
        var machine = T.machine(isWebSocket: true)
        machine.startAndLease()
        XCTAssertEqual(machine.kind, .websocket)
        XCTAssertEqual(machine.responseHead(T.upgradeHead(), at: 1), "upgrade(101)")
        XCTAssertEqual(machine.phase, .upgrading)
        XCTAssertNil(machine.nextDeadline, "the tunnel has its own deadlines")
        machine.handedToTunnel()
        XCTAssertTrue(machine.isFinished)
        XCTAssertEqual(describe(machine.downstreamClosed()), "none")
    }

    func testA101ToARequestThatDidNotAskToUpgradeIs502() {
        var machine = T.machine()
        machine.startAndLease()
        XCTAssertEqual(
            machine.responseHead(T.head(.switchingProtocols), at: 1),
            "respond 502: upstream answered 101 Switching Protocols to a request that did not ask to upgrade"
        )
        XCTAssertEqual(machine.outcome, .upstreamError)
    }

    func testWebSocketRefusedByTheUpstreamIsAnOrdinaryResponse() {
        var machine = T.machine(isWebSocket: true)
        machine.startAndLease()
        XCTAssertEqual(machine.responseHead(T.head(.forbidden), at: 1), "write(head 403)")
        XCTAssertTrue(machine.isStreaming)
    }

    func testA101ThatDoesNotCompleteTheHandshakeIs502() {
        let cases: [(HTTPResponseHead, String)] = [
            (T.upgradeHead(accept: "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "upstream Sec-WebSocket-Accept does not match the key sent"),
            (T.upgradeHead(accept: nil), "upstream 101 without Sec-WebSocket-Accept"),
            (T.upgradeHead(upgrade: nil), "upstream 101 without Upgrade: websocket"),
            (T.upgradeHead(upgrade: "h2c"), "upstream 101 without Upgrade: websocket"),
        ]
        for (head, reason) in cases {
            var machine = T.machine(isWebSocket: true)
            machine.startAndLease()
            XCTAssertEqual(machine.responseHead(head, at: 1), "respond 502: \(reason)")
            XCTAssertEqual(machine.outcome, .upstreamError)
        }
    }

    func testFailedUpgradeCutsTheStream() {
        var machine = T.machine(isWebSocket: true)
        machine.startAndLease()
        _ = machine.responseHead(T.upgradeHead(), at: 1)
        XCTAssertEqual(describe(machine.upgradeFailed(reason: "no")), "cut")
        XCTAssertEqual(machine.outcome, .upstreamError)
    }

    func testRequestHeadersAreDroppedOnceTheResponseHeadArrives() {
        var machine = T.machine()
        machine.startAndLease()
        XCTAssertFalse(machine.upstreamHead.headers.isEmpty)
        _ = machine.responseHead(T.head(), at: 1)
        XCTAssertTrue(machine.upstreamHead.headers.isEmpty)
        XCTAssertEqual(machine.upstreamHead.uri, "/x", "method and target stay for the admin view")
    }
}
