import Foundation

/// Self-signed certificates for TLS listeners under test, made with the real `openssl` command line tool.
public enum TestCertificates {
    /// A PEM certificate and its PEM private key on disk.
    public struct Pair: Sendable {
        public let certificate: URL
        public let privateKey: URL
    }

    /// Writes `NAME.crt` and `NAME.key` into `directory`: a P-256 key and a self-signed certificate valid for two
    /// days with subject `CN=commonName` and subjectAltName DNS `commonName` (plus `localhost` and IP 127.0.0.1 when
    /// `loopbackNames` is set, so browsers and curl can reach it on loopback).
    public static func make(
        commonName: String = "localhost",
        loopbackNames: Bool = true,
        name: String? = nil,
        in directory: TemporaryDirectory
    ) throws -> Pair {
        let base = name ?? commonName
        let certificate = directory.file("\(base).crt")
        let privateKey = directory.file("\(base).key")
        var alternativeNames = ["DNS:\(commonName)"]
        if loopbackNames {
            if commonName != "localhost" {
                alternativeNames.append("DNS:localhost")
            }
            alternativeNames.append("IP:127.0.0.1")
        }
        let result = try OpenSSLTool.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=\(commonName)",
            "-addext", "subjectAltName=\(alternativeNames.joined(separator: ","))",
            "-keyout", privateKey.path, "-out", certificate.path,
        ])
        guard result.exitCode == 0, FileManager.default.fileExists(atPath: certificate.path) else {
            throw TestSupportError("openssl req failed (exit \(result.exitCode)): \(result.stderr)")
        }
        return Pair(certificate: certificate, privateKey: privateKey)
    }
}

/// Runs the real `openssl` command line tool, bounded in time.
public enum OpenSSLTool {
    /// Runs `openssl` with `arguments`, stdin empty; killed by PID after `timeout` seconds.
    public static func run(_ arguments: [String], timeout: TimeInterval = 15) throws -> ProcessResult {
        try ProcessRunner.run(try ProcessRunner.findInPath("openssl"), arguments, timeout: timeout)
    }

    /// `openssl s_client` against 127.0.0.1:`port` with `arguments` (e.g. `-tls1_3`, `-servername x`); stdin is
    /// empty, so the client closes right after the handshake. Output of both streams is in the result.
    public static func connect(port: Int, _ arguments: [String], timeout: TimeInterval = 10) throws -> ProcessResult {
        try run(["s_client", "-connect", "127.0.0.1:\(port)", "-nocommands"] + arguments, timeout: timeout)
    }
}
