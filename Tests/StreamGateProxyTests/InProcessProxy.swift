import Logging
import NIOPosix
import StreamGateConfig
import XCTest

@testable import StreamGateProxy

/// A `ProxyServer` in the test process, on real loopback sockets and a two-loop group, for tests that look at the
/// proxy's own objects while real clients use it.
enum InProcessProxy {
    /// Starts a proxy from `yaml`, runs `body` with it (a thrown error fails the test), then stops the proxy and
    /// its loops.
    static func run(
        _ yaml: String,
        name: String,
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: (ProxyServer) async throws -> Void
    ) async throws {
        let config = try ConfigLoader.load(yaml: yaml, sourcePath: "\(name).yaml")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var logger = Logger(label: name)
        logger.logLevel = .error
        let server = try ProxyServer(config: config, group: group, logger: logger, drainTimeout: .milliseconds(200))
        let running = Task { try await server.run() }
        do {
            try await body(server)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        running.cancel()
        _ = await running.result
        try await group.shutdownGracefully()
    }
}
