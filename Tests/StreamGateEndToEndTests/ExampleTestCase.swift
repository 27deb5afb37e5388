import Foundation
import StreamGateTestSupport
import XCTest

/// Base for the tests of `examples/<name>`: runs the example's own app under uvicorn (from its folder) and
/// StreamGate with the example's own `streamgate.yaml`, only its fixed ports and certificate paths swapped for the
/// test's, so a test fails when the example stops working as its README says.
class ExampleTestCase: WebSocketTestCase {
    /// `examples/` at the top of the package.
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    /// `uvicorn app:app` from `examples/<example>` on a free port, once it says it runs; the app's stdout events
    /// are the peer's. `modules` must import (else the failure names `install`, the pip line).
    func startApp(
        example: String,
        modules: [String] = ["fastapi", "sse_starlette", "uvicorn"],
        install: String = "fastapi sse-starlette uvicorn"
    ) throws -> (app: PythonPeer, port: Int) {
        try PythonPeer.requireModules(modules, install: install)
        let port = try RawConnection.unusedPort()
        let folder = Self.examples.appendingPathComponent(example)
        let app = try PythonPeer.startModule(
            "uvicorn",
            arguments: ["app:app", "--app-dir", folder.path, "--host", "127.0.0.1", "--port", String(port)]
        )
        track(app)
        XCTAssertTrue(Wait.until(timeout: 20) { app.stderr.contains("Uvicorn running on") }, app.transcript)
        return (app, port)
    }

    /// StreamGate with `examples/<example>/streamgate.yaml`: its 127.0.0.1:8443, :8080 and :9901 on free ports, its
    /// upstream 127.0.0.1:8000 at `appPort`, and a fresh certificate for `cert.pem` / `key.pem`.
    func startProxy(example: String, appPort: Int, listeners: [String]) throws -> ProxyProcess {
        let certificates = try TemporaryDirectory(prefix: "streamgate-\(example)")
        let pair = try TestCertificates.make(in: certificates)
        let file = Self.examples.appendingPathComponent(example).appendingPathComponent("streamgate.yaml")
        let yaml = try String(contentsOf: file, encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:8443", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:9901", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8000", with: "127.0.0.1:\(appPort)")
            .replacingOccurrences(of: "certificate: cert.pem", with: "certificate: \(pair.certificate.path)")
            .replacingOccurrences(of: "private_key: key.pem", with: "private_key: \(pair.privateKey.path)")
        XCTAssertTrue(
            (yaml.contains(pair.certificate.path) || !yaml.contains("tls:")) && yaml.contains("127.0.0.1:\(appPort)"),
            "\(file.path) no longer has the ports and certificate paths its README and this test use"
        )
        return try startWebSocketProxy(yaml, listeners: listeners)
    }
}
