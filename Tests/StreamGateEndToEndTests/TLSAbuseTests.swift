import Foundation
import StreamGateTestSupport
import XCTest

/// Hostile TLS clients against a TLS listener of the real binary, raw over a real socket: truncated and stalled
/// ClientHellos, oversized records, garbage, old protocol versions and a horde of silent handshakes. Each is
/// closed (at once, or at `tls.handshake_timeout` when it goes silent), and an event stream over TLS and HTTP/2
/// on the same port keeps its events.
final class TLSAbuseTests: TLSTestCase {
    private var proxy: ProxyProcess?
    private var bystander: CurlStream?

    override func tearDown() {
        bystander?.kill()
        bystander = nil
        super.tearDown()
    }

    /// The first bytes of a TLS ClientHello: a handshake record (TLS 1.0 record version, as clients send) whose
    /// body claims `length` bytes.
    private static func clientHelloPrefix(recordLength: Int) -> [UInt8] {
        [0x16, 0x03, 0x01, UInt8(recordLength >> 8), UInt8(recordLength & 0xFF), 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03]
            + [UInt8](repeating: 0x42, count: 32)
    }

    private func startProxyWithBystander() throws -> Int {
        let origin = try startOrigin()
        var tls = tlsBlock(try makeCertificate())
        tls.handshakeTimeout = "1s"
        let proxy = try startProxy(listeners: [.init("tls", tls: tls)], origin: origin)
        self.proxy = proxy
        let port = try proxy.port(of: "tls")
        let stream = try CurlStream(["-N", "-s", "--insecure", "--http2", "https://127.0.0.1:\(port)/sse-resume?gap=100"])
        bystander = stream
        XCTAssertTrue(stream.waitForLines(timeout: 10) { EventStreamText.ids(in: $0.map(\.text).joined(separator: "\n")).count >= 2 })
        return port
    }

    private func assertBystanderFlows(file: StaticString = #filePath, line: UInt = #line) {
        guard let bystander else { return XCTFail("no bystander", file: file, line: line) }
        let before = EventStreamText.ids(in: bystander.lines.map(\.text).joined(separator: "\n"))
        let flowing = bystander.waitForLines(timeout: 5) { lines in
            let ids = EventStreamText.ids(in: lines.map(\.text).joined(separator: "\n"))
            return ids.count >= before.count + 3 && EventStreamText.isUnbroken(ids)
        }
        XCTAssertTrue(flowing, "the event stream over TLS stalled or broke", file: file, line: line)
        XCTAssertEqual(proxy?.isRunning, true, "the proxy is gone", file: file, line: line)
    }

    func testBrokenHandshakesAreClosedAndTheStreamBesideThemFlows() throws {
        let port = try startProxyWithBystander()
        var garbage: [UInt8] = []
        for round in 0..<256 {
            garbage += (0...255).map { UInt8(($0 * 31 + round) & 0xFF) }
        }
        let cases: [(name: String, bytes: [UInt8], silentAfter: Bool)] = [
            // A hello cut short, then nothing: only the handshake timeout ends it.
            ("truncated ClientHello, then silence", Self.clientHelloPrefix(recordLength: 0xA5), true),
            ("nothing at all", [], true),
            ("record longer than TLS allows (65,535 bytes claimed)", Self.clientHelloPrefix(recordLength: 0xFFFF) + [UInt8](repeating: 0, count: 20_000), false),
            ("64 KiB of garbage", garbage, false),
            ("plain HTTP on the TLS port", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), false),
        ]
        for item in cases {
            let start = Date()
            let reply = try RawConnection.exchange(port: port, bytes: item.bytes, timeout: 5)
            let elapsed = Date().timeIntervalSince(start)
            XCTAssertTrue(reply.closedByPeer, "\(item.name): the connection stayed open")
            if item.silentAfter {
                XCTAssertGreaterThan(elapsed, 0.9, "\(item.name): closed before the handshake timeout")
            }
            print("abuse: TLS \(item.name): closed in \(String(format: "%.0f ms", elapsed * 1000))")
        }
        assertBystanderFlows()
    }

    func testTLS10IsRefused() throws {
        let port = try startProxyWithBystander()
        let tls10 = try OpenSSLTool.connect(port: port, ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"])
        let output = tls10.stdout + tls10.stderr
        XCTAssertNotEqual(tls10.exitCode, 0, output)
        XCTAssertFalse(output.contains("no protocols available"), "the client never offered TLS 1.0: \(output)")
        XCTAssertTrue(output.contains("Cipher is (NONE)"), output)
        print("abuse: TLS 1.0 ClientHello: refused (no cipher negotiated)")
        assertBystanderFlows()
    }

    /// 200 connections that open and say nothing (or half a hello) are all closed by the handshake timeout, and
    /// the process returns to the descriptors it had.
    func testASilentHandshakeHordeIsClosedByTheTimeout() throws {
        let port = try startProxyWithBystander()
        let pid = try XCTUnwrap(proxy?.processIdentifier)
        let descriptorsBefore = try ProcessStatus.openDescriptors(of: pid)
        let horde = try (0..<200).map { index in
            let connection = try TrickleConnection(port: port)
            if index % 2 == 0 {
                connection.send(bytes: Self.clientHelloPrefix(recordLength: 0xA5))
            }
            return connection
        }
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? ProcessStatus.openDescriptors(of: pid)) ?? 0 >= descriptorsBefore + 150 },
            "the horde never arrived"
        )
        let start = Date()
        XCTAssertTrue(
            Wait.until(timeout: 10, interval: 0.1) { horde.allSatisfy { $0.read(for: 0.001) } },
            "\(horde.filter { !$0.isClosedByPeer }.count) of 200 silent handshakes still open"
        )
        XCTAssertTrue(
            Wait.until(timeout: 5) { (try? ProcessStatus.openDescriptors(of: pid)) ?? .max <= descriptorsBefore },
            "descriptors \(descriptorsBefore) before, \((try? ProcessStatus.openDescriptors(of: pid)) ?? -1) after"
        )
        print("abuse: TLS 200 silent handshakes: all closed within \(String(format: "%.1f s", Date().timeIntervalSince(start))) of arriving (timeout 1 s)")
        assertBystanderFlows()
    }
}
