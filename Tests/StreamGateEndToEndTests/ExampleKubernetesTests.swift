import Foundation
import StreamGateTestSupport
import XCTest

/// `examples/kubernetes`: every manifest passes `kubernetes-validate --strict` for Kubernetes 1.31 (and a misspelt
/// field fails it, so passing means something); the ConfigMap's own StreamGate config runs, and the kubelet's view
/// of it holds (`/healthz` answers without the token, nothing else does); the Containerfile parses, runs as a
/// non-root user, exposes the ports the Deployment names, and installs runtime packages Debian 12 has. No
/// container runtime runs here, so the image is not built.
final class ExampleKubernetesTests: WebSocketTestCase {
    private static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/kubernetes")
    private static let manifests = ["configmap.yaml", "deployment.yaml", "service.yaml", "pdb.yaml", "hpa.yaml"]

    private func validate(_ files: [URL]) throws -> ProcessResult {
        let tool = try PythonPeer.tool("kubernetes-validate")
        return try ProcessRunner.run(tool, ["-k", "1.31.0", "--strict"] + files.map(\.path), timeout: 60)
    }

    func testManifestsValidateStrictly() throws {
        let result = try validate(Self.manifests.map { Self.folder.appendingPathComponent($0) })
        XCTAssertEqual(result.exitCode, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.stdout.components(separatedBy: "passed for resource").count - 1, Self.manifests.count, result.stdout)

        let directory = try TemporaryDirectory(prefix: "streamgate-k8s")
        let deployment = try String(contentsOf: Self.folder.appendingPathComponent("deployment.yaml"), encoding: .utf8)
        let misspelt = try directory.write(
            deployment.replacingOccurrences(of: "readinessProbe:", with: "readinesProbe:"), to: "deployment.yaml"
        )
        XCTAssertNotEqual(try validate([misspelt]).exitCode, 0, "a misspelt field passed --strict")
    }

    func testTheConfigMapsConfigServesTheProbesAndNothingElseWithoutTheToken() throws {
        // The config embedded in configmap.yaml, read with a real YAML parser.
        let python = try PythonPeer.interpreter()
        let extract = try ProcessRunner.run(
            python,
            ["-c", "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['data']['streamgate.yaml'], end='')",
             Self.folder.appendingPathComponent("configmap.yaml").path],
            timeout: 30
        )
        XCTAssertEqual(extract.exitCode, 0, extract.stderr)
        let directory = try TemporaryDirectory(prefix: "streamgate-k8s")
        let pair = try TestCertificates.make(in: directory)
        let tokenFile = try directory.write("k8s-test-token\n", to: "token")
        let origin = try startOrigin()
        let yaml = extract.stdout
            .replacingOccurrences(of: "/etc/streamgate/tls/tls.crt", with: pair.certificate.path)
            .replacingOccurrences(of: "/etc/streamgate/tls/tls.key", with: pair.privateKey.path)
            .replacingOccurrences(of: "/etc/streamgate/admin/token", with: tokenFile.path)
            .replacingOccurrences(of: "app.default.svc.cluster.local:8000", with: "127.0.0.1:\(origin.port)")
            .replacingOccurrences(of: "0.0.0.0:8443", with: "127.0.0.1:0")
            .replacingOccurrences(of: "0.0.0.0:9901", with: "127.0.0.1:0")
        XCTAssertTrue(yaml.contains(tokenFile.path) && yaml.contains(pair.certificate.path), "the ConfigMap changed shape:\n\(yaml)")

        let check = try StreamGateCLI.check(yaml: yaml, in: directory)
        XCTAssertEqual(check.exitCode, 0, check.stderr)
        let proxy = try startWebSocketProxy(yaml, listeners: ["https", "admin"])
        XCTAssertTrue(Wait.until(timeout: 5) { proxy.currentPort(of: "admin") != nil && proxy.currentPort(of: "https") != nil }, proxy.log)
        let admin = "http://127.0.0.1:\(try proxy.port(of: "admin"))"

        // The readiness probe, as the kubelet sends it: no token.
        let health = try Curl.fetch("\(admin)/healthz")
        XCTAssertEqual(health.status, 200, health.text)
        for path in ["/metrics", "/connections", "/config"] {
            XCTAssertEqual(try Curl.fetch("\(admin)\(path)").status, 401, path)
        }
        XCTAssertEqual(try Curl.fetch("\(admin)/metrics", ["-H", "Authorization: Bearer k8s-test-token"]).status, 200)
        let page = try Curl.fetch("https://127.0.0.1:\(try proxy.port(of: "https"))/hello", ["-k", "--http2"])
        XCTAssertEqual(page.status, 200, page.text)
        XCTAssertTrue(page.headerLines.first?.hasPrefix("HTTP/2") ?? false, "\(page.headerLines)")
    }

    func testContainerfileParsesAndRunsUnprivileged() throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("Containerfile"), encoding: .utf8)
        // Instructions, with backslash continuations joined and comments dropped.
        let instructions = text.replacingOccurrences(of: "\\\n", with: " ")
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let known: Set<String> = ["FROM", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "ENV", "ARG", "LABEL"]
        for line in instructions {
            let keyword = String(line.prefix { !$0.isWhitespace })
            XCTAssertTrue(known.contains(keyword), "not a Containerfile instruction: \(line)")
        }
        XCTAssertTrue(instructions.first?.hasPrefix("FROM ") ?? false)
        let stages = instructions.filter { $0.hasPrefix("FROM ") }
        XCTAssertEqual(stages.count, 2)
        XCTAssertTrue(stages[0].hasSuffix(" AS build"))
        XCTAssertTrue(instructions.contains("COPY --from=build /out/streamgate /usr/local/bin/streamgate"))

        // The final stage: a numeric non-root user, the ports the Deployment names, exec-form entry point and command.
        let final = instructions.split { $0.hasPrefix("FROM ") }.last ?? []
        XCTAssertEqual(final.first { $0.hasPrefix("USER ") }, "USER 10001:10001")
        XCTAssertEqual(final.first { $0.hasPrefix("EXPOSE ") }, "EXPOSE 8443 9901")
        let deployment = try String(contentsOf: Self.folder.appendingPathComponent("deployment.yaml"), encoding: .utf8)
        XCTAssertTrue(deployment.contains("containerPort: 8443") && deployment.contains("containerPort: 9901"))
        XCTAssertTrue(deployment.contains("runAsUser: 10001"))
        for keyword in ["ENTRYPOINT ", "CMD "] {
            let line = try XCTUnwrap(final.first { $0.hasPrefix(keyword) })
            let json = try JSONSerialization.jsonObject(with: Data(line.dropFirst(keyword.count).utf8))
            XCTAssertNotNil(json as? [String], "\(keyword)is not in exec form: \(line)")
        }

        // Every runtime package the final stage installs exists in Debian 12, which its base image is.
        let install = try XCTUnwrap(final.first { $0.contains("apt-get install") })
        let packages = install.components(separatedBy: "--no-install-recommends ").last?
            .split(separator: " ").prefix { $0 != "&&" }.map(String.init) ?? []
        XCTAssertEqual(packages, ["libssl3", "libnghttp2-14", "ca-certificates"])
        let show = try ProcessRunner.run(try ProcessRunner.findInPath("apt-cache"), ["show"] + packages, timeout: 30)
        XCTAssertEqual(show.exitCode, 0, show.stderr)
    }
}
