import XCTest

@testable import StreamGateConfig

/// The `tls` block of listeners: file resolution and readability, SNI entries, and located errors.
///
/// Each test writes its config file into a fresh temporary folder, with placeholder PEM files under `certs/`: the
/// config module only checks that the files can be read, not what they hold.
final class TLSConfigTests: XCTestCase {
    private var folder: URL!
    private var configPath: String!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("streamgate-tls-test-\(UUID().uuidString)", isDirectory: true)
        let certs = folder.appendingPathComponent("certs", isDirectory: true)
        try FileManager.default.createDirectory(at: certs, withIntermediateDirectories: true)
        for name in ["site.crt", "site.key", "a.crt", "a.key", "b.crt", "b.key"] {
            try "-----BEGIN PLACEHOLDER-----\n".write(
                to: certs.appendingPathComponent(name),
                atomically: true,
                encoding: .utf8
            )
        }
        configPath = folder.appendingPathComponent("streamgate.yaml").path
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: folder)
    }

    /// `minimalYAML` with a second listener `secure` carrying `tls` (indented under the listener).
    private func yaml(tls: String) -> String {
        let listener = "  - name: secure\n    address: 127.0.0.1:8443\n    tls:\n" + tls + "\n"
        return minimalYAML.replacingOccurrences(of: "upstreams:\n", with: listener + "upstreams:\n")
    }

    private func load(_ text: String) throws -> StreamGateConfiguration {
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: configPath)
    }

    /// The error lines, with the config file's path replaced by `$CONFIG` and its folder by `$DIR`.
    private func errors(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader.load(path: configPath)
            XCTFail("expected the configuration to be rejected", file: file, line: line)
            return []
        } catch {
            return error.errors.map {
                $0.description.replacingOccurrences(of: configPath, with: "$CONFIG")
                    .replacingOccurrences(of: folder.path, with: "$DIR")
            }
        }
    }

    func testTLSListenerLoadsWithPathsResolvedAgainstTheConfigFolder() throws {
        let config = try load(yaml(tls: "      certificate: certs/site.crt\n      private_key: certs/site.key"))
        XCTAssertEqual(config.listeners.map(\.name), ["plain", "secure"])
        XCTAssertNil(config.listeners[0].tls)
        let tls = try XCTUnwrap(config.listeners[1].tls)
        XCTAssertEqual(
            tls,
            TLSConfig(
                certificate: CertificateConfig(
                    certificatePath: folder.path + "/certs/site.crt",
                    privateKeyPath: folder.path + "/certs/site.key",
                    serverNames: [],
                    certificateLocation: ConfigLocation(keyPath: "listeners[1].tls.certificate", line: 8),
                    privateKeyLocation: ConfigLocation(keyPath: "listeners[1].tls.private_key", line: 9)
                ),
                sniCertificates: [],
                handshakeTimeout: .seconds(10)
            )
        )
        XCTAssertEqual(config.listeners[1].http2, HTTP2Config())
    }

    func testSNICertificates() throws {
        let absoluteKey = folder.path + "/certs/b.key"
        let config = try load(yaml(tls: """
                  certificate: certs/site.crt
                  private_key: certs/site.key
                  handshake_timeout: 2500ms
                  certificates:
                    - { certificate: certs/a.crt, private_key: certs/a.key, server_names: [A.Example, "*.B.example"] }
                    - certificate: certs/b.crt
                      private_key: \(absoluteKey)
                      server_names: [c.example]
            """))
        let tls = try XCTUnwrap(config.listeners.last?.tls)
        XCTAssertEqual(tls.handshakeTimeout, .milliseconds(2500))
        XCTAssertEqual(tls.certificate.serverNames, [])
        XCTAssertEqual(tls.sniCertificates.map(\.serverNames), [["a.example", "*.b.example"], ["c.example"]])
        XCTAssertEqual(tls.sniCertificates.map(\.certificatePath), [
            folder.path + "/certs/a.crt", folder.path + "/certs/b.crt",
        ])
        XCTAssertEqual(tls.sniCertificates[1].privateKeyPath, absoluteKey)
        XCTAssertEqual(
            tls.sniCertificates[0].privateKeyLocation,
            ConfigLocation(keyPath: "listeners[1].tls.certificates[0].private_key", line: 12)
        )
        XCTAssertEqual(
            tls.sniCertificates[1].certificateLocation,
            ConfigLocation(keyPath: "listeners[1].tls.certificates[1].certificate", line: 13)
        )
    }

    func testMissingFilesNameTheResolvedPath() throws {
        let text = yaml(tls: "      certificate: certs/missing.crt\n      private_key: certs")
        XCTAssertEqual(try errors(text), [
            #"$CONFIG:8: listeners[1].tls.certificate: cannot read "$DIR/certs/missing.crt": no such file"#,
            #"$CONFIG:9: listeners[1].tls.private_key: cannot read "$DIR/certs": is a directory"#,
        ])
    }

    func testMissingPrivateKeyAndEmptyCertificate() throws {
        let text = yaml(tls: "      certificate: \"\"")
        XCTAssertEqual(try errors(text), [
            "$CONFIG:7: listeners[1].tls.private_key: required key is missing",
            "$CONFIG:8: listeners[1].tls.certificate: must not be empty",
        ])
    }

    func testEmptyTLSBlockIsAnError() throws {
        XCTAssertEqual(try errors(yaml(tls: "")), [
            "$CONFIG:7: listeners[1].tls: expected a mapping with certificate and private_key, found nothing",
        ])
        XCTAssertEqual(try errors(yaml(tls: "      [certs/site.crt]")), [
            "$CONFIG:7: listeners[1].tls: expected a mapping, found a list",
        ])
    }

    func testSNIEntriesNeedServerNamesAndFiles() throws {
        let text = yaml(tls: """
                  certificate: certs/site.crt
                  private_key: certs/site.key
                  certificates:
                    - { certificate: certs/a.crt, private_key: certs/a.key }
                    - { certificate: certs/b.crt, private_key: certs/b.key, server_names: [] }
                    - { private_key: certs/nope.key, server_names: ["*", 10.0.0.1, "api.*.example", "a.example:443"] }
            """)
        XCTAssertEqual(try errors(text), [
            "$CONFIG:11: listeners[1].tls.certificates[0].server_names: at least one server name is required",
            "$CONFIG:12: listeners[1].tls.certificates[1].server_names: at least one server name is required",
            #"$CONFIG:13: listeners[1].tls.certificates[2].server_names[0]: invalid server name "*": use a host "#
                + #"name or "*.suffix" (the default certificate serves every other name)"#,
            #"$CONFIG:13: listeners[1].tls.certificates[2].server_names[1]: invalid server name "10.0.0.1": IP "#
                + "addresses are not sent in SNI (RFC 6066), use a host name",
            #"$CONFIG:13: listeners[1].tls.certificates[2].server_names[2]: invalid server name "api.*.example": "#
                + #""*" is allowed only as the whole pattern or as a leading "*." label"#,
            #"$CONFIG:13: listeners[1].tls.certificates[2].server_names[3]: invalid server name "a.example:443": "#
                + "must not include a port",
            "$CONFIG:13: listeners[1].tls.certificates[2].certificate: required key is missing",
            #"$CONFIG:13: listeners[1].tls.certificates[2].private_key: cannot read "$DIR/certs/nope.key": "#
                + "no such file",
        ])
    }

    func testDuplicateServerName() throws {
        let text = yaml(tls: """
                  certificate: certs/site.crt
                  private_key: certs/site.key
                  certificates:
                    - { certificate: certs/a.crt, private_key: certs/a.key, server_names: [a.example, "*.b.example"] }
                    - certificate: certs/b.crt
                      private_key: certs/b.key
                      server_names: [c.example, A.EXAMPLE, c.example, "*.b.example"]
            """)
        XCTAssertEqual(try errors(text), [
            #"$CONFIG:14: listeners[1].tls.certificates[1].server_names[1]: duplicate server name "a.example" "#
                + "(already used by listeners[1].tls.certificates[0].server_names[0])",
            #"$CONFIG:14: listeners[1].tls.certificates[1].server_names[2]: duplicate server name "c.example" "#
                + "(already used by listeners[1].tls.certificates[1].server_names[0])",
            #"$CONFIG:14: listeners[1].tls.certificates[1].server_names[3]: duplicate server name "*.b.example" "#
                + "(already used by listeners[1].tls.certificates[0].server_names[1])",
        ])
    }

    func testSameServerNameOnTwoListenersIsFine() throws {
        let tls = """
                  certificate: certs/site.crt
                  private_key: certs/site.key
                  certificates: [{ certificate: certs/a.crt, private_key: certs/a.key, server_names: [a.example] }]
            """
        let text = yaml(tls: tls).replacingOccurrences(
            of: "  - name: plain\n    address: 127.0.0.1:0\n",
            with: "  - name: plain\n    address: 127.0.0.1:0\n    tls:\n\(tls)\n"
        )
        let config = try load(text)
        XCTAssertEqual(config.listeners.compactMap(\.tls).count, 2)
    }

    func testBadHandshakeTimeout() throws {
        let base = "      certificate: certs/site.crt\n      private_key: certs/site.key\n"
        XCTAssertEqual(try errors(yaml(tls: base + "      handshake_timeout: 0s")), [
            "$CONFIG:10: listeners[1].tls.handshake_timeout: must be greater than 0s",
        ])
        XCTAssertEqual(try errors(yaml(tls: base + "      handshake_timeout: 10")), [
            #"$CONFIG:10: listeners[1].tls.handshake_timeout: invalid duration "10" (use e.g. 250ms, 15s, 5m, 1h)"#,
        ])
    }

    func testUnknownKeysInsideTLSAndCertificates() throws {
        let text = yaml(tls: """
                  certificate: certs/site.crt
                  key: certs/site.key
                  certificates:
                    - { certificate: certs/a.crt, private_key: certs/a.key, server_names: [a.example], alpn: [h2] }
            """)
        XCTAssertEqual(try errors(text), [
            "$CONFIG:7: listeners[1].tls.private_key: required key is missing",
            "$CONFIG:9: listeners[1].tls.key: unknown key (expected one of: certificate, private_key, "
                + "handshake_timeout, certificates)",
            "$CONFIG:11: listeners[1].tls.certificates[0].alpn: unknown key (expected one of: certificate, "
                + "private_key, server_names)",
        ])
    }

    func testRelativePathsWithoutAFolderUseTheWorkingDirectory() throws {
        let text = yaml(tls: "      certificate: no-such-streamgate.crt\n      private_key: no-such-streamgate.key")
        XCTAssertEqual(loadErrors(text), [
            #"streamgate.yaml:8: listeners[1].tls.certificate: cannot read "no-such-streamgate.crt": no such file"#,
            #"streamgate.yaml:9: listeners[1].tls.private_key: cannot read "no-such-streamgate.key": no such file"#,
        ])
    }

    func testErrorAtLocation() throws {
        let config = try load(yaml(tls: "      certificate: certs/site.crt\n      private_key: certs/site.key"))
        let tls = try XCTUnwrap(config.listeners.last?.tls)
        let error = config.error(at: tls.certificate.privateKeyLocation, "private key does not match certificate")
        XCTAssertEqual(
            error,
            ConfigError(
                file: configPath,
                line: 9,
                keyPath: "listeners[1].tls.private_key",
                message: "private key does not match certificate"
            )
        )
        XCTAssertEqual(
            error.description,
            "\(configPath!):9: listeners[1].tls.private_key: private key does not match certificate"
        )
        let unlocated = config.error(at: ConfigLocation(keyPath: "listeners[1].tls"), "no usable certificate")
        XCTAssertEqual(unlocated.description, "\(configPath!): listeners[1].tls: no usable certificate")
    }

    func testSummaryShowsTLS() throws {
        let text = yaml(tls: """
                  certificate: certs/site.crt
                  private_key: certs/site.key
                  handshake_timeout: 5s
                  certificates: [{ certificate: certs/a.crt, private_key: certs/a.key, server_names: [a.example] }]
            """)
        let lines = ConfigSummary.render(try load(text)).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[1...3], [
            "listeners:",
            "  plain  127.0.0.1:0  cleartext  h2 max_concurrent_streams=256 initial_window_size=65535 websocket=on",
            "  secure  127.0.0.1:8443  tls certificate=\(folder.path)/certs/site.crt sni_certificates=1 "
                + "handshake_timeout=5s  h2 max_concurrent_streams=256 initial_window_size=65535 websocket=on",
        ])
    }

    /// The commented-out TLS listener in conf/streamgate.yaml, uncommented, loads (with files under `certs/`).
    func testBundledTLSExampleLoadsWhenUncommented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bundled = try String(contentsOf: root.appendingPathComponent("conf/streamgate.yaml"), encoding: .utf8)
        let lines = bundled.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  # - name: public") })
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("  #   ") {
            end += 1
        }
        let example = lines[start..<end].map { "  " + $0.dropFirst(4) }.joined(separator: "\n")
        let config = try load(bundled.replacingOccurrences(of: "listeners:\n", with: "listeners:\n\(example)\n"))
        let listener = try XCTUnwrap(config.listeners.first)
        XCTAssertEqual(listener.name, "public")
        XCTAssertEqual(listener.tls?.certificate.certificatePath, folder.path + "/certs/site.crt")
        XCTAssertEqual(listener.tls?.sniCertificates.map(\.serverNames), [["a.example", "*.b.example"]])
        XCTAssertEqual(config.listeners.map(\.name), ["public", "plain"])
    }

    func testServerNameParsing() {
        let table: [(String, HostPattern?)] = [
            ("a.example", .exact("a.example")),
            ("A.Example", .exact("a.example")),
            ("*.b.example", .suffix(".b.example")),
            ("localhost", .exact("localhost")),
            ("1.example", .exact("1.example")),
            ("*", nil),
            ("10.0.0.1", nil),
            ("*.example.*", nil),
            ("", nil),
            ("a..example", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(try? HostPattern.parseServerName(text).get(), expected, "\"\(text)\"")
        }
    }
}
