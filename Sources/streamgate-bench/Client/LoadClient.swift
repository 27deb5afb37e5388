import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import StreamGateTLS

/// Opens the load (`LoadShape`) against a `LoadTarget` and reads the merged `ClientStats` back from every
/// connection's event loop. Connections are never shared across loops; the client holds only loop-bound
/// references, so it needs no lock.
final class LoadClient: Sendable {
    private struct Connection: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<any LoadConnection>
    }

    private let connections: [Connection]
    /// Streams that never got a connection (connect refused or timed out).
    private let connectFailures: ClientStats

    private init(connections: [Connection], connectFailures: ClientStats) {
        self.connections = connections
        self.connectFailures = connectFailures
    }

    /// Connects everything, `parallel` connection attempts at a time; failures are counted, not thrown.
    static func open(
        group: any EventLoopGroup,
        target: LoadTarget,
        shape: LoadShape,
        tlsContext: TLSClientContext,
        parallel: Int = 200
    ) async -> LoadClient {
        let plans: [Int]  // streams per connection
        switch target.transport {
        case .http2TLS where shape.webSocketMessageBytes == nil:
            plans = Array(repeating: shape.streamsPerConnection, count: shape.connections)
        case .http2TLS, .http1Cleartext:
            plans = Array(repeating: 1, count: shape.totalStreams)
        }
        var opened: [Connection] = []
        var failures = ClientStats()
        var start = 0
        while start < plans.count {
            let batch = plans[start..<min(plans.count, start + parallel)]
            start += batch.count
            await withTaskGroup(of: Result<Connection, ConnectFailure>.self) { tasks in
                for streams in batch {
                    tasks.addTask {
                        await connect(group: group, target: target, shape: shape, streams: streams, tls: tlsContext)
                    }
                }
                for await result in tasks {
                    switch result {
                    case .success(let connection):
                        opened.append(connection)
                    case .failure(let failure):
                        failures.streamsRequested += failure.streams
                        failures.streamsFailed += failure.streams
                        failures.noteFailure(failure.reason)
                    }
                }
            }
        }
        return LoadClient(connections: opened, connectFailures: failures)
    }

    private struct ConnectFailure: Error {
        var streams: Int
        var reason: String
    }

    private static func connect(
        group: any EventLoopGroup,
        target: LoadTarget,
        shape: LoadShape,
        streams: Int,
        tls: TLSClientContext
    ) async -> Result<Connection, ConnectFailure> {
        let hostHeader = "localhost:\(target.port)"
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let messageBytes = shape.webSocketMessageBytes {
                        let engine = try target.transport == .http2TLS ? TLSClientEngine(context: tls) : nil
                        try sync.addHandler(
                            WebSocketEchoConnectionHandler(
                                tls: engine,
                                path: shape.path,
                                hostHeader: hostHeader,
                                messageBytes: messageBytes
                            )
                        )
                        return
                    }
                    switch target.transport {
                    case .http2TLS:
                        try sync.addHandler(
                            H2LoadConnectionHandler(
                                tlsContext: tls,
                                path: shape.path,
                                streamCount: streams,
                                recordLatency: shape.recordLatency,
                                heartbeats: shape.heartbeats,
                                trackEventIDs: shape.trackEventIDs
                            )
                        )
                    case .http1Cleartext:
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(
                            H1LoadStreamHandler(
                                path: shape.path,
                                hostHeader: hostHeader,
                                recordLatency: shape.recordLatency,
                                heartbeats: shape.heartbeats
                            )
                        )
                    }
                }
            }
        do {
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            let handler = try await channel.eventLoop.submit { () throws -> NIOLoopBound<any LoadConnection> in
                let sync = channel.pipeline.syncOperations
                let handler: any LoadConnection
                if shape.webSocketMessageBytes != nil {
                    handler = try sync.handler(type: WebSocketEchoConnectionHandler.self)
                } else {
                    switch target.transport {
                    case .http2TLS: handler = try sync.handler(type: H2LoadConnectionHandler.self)
                    case .http1Cleartext: handler = try sync.handler(type: H1LoadStreamHandler.self)
                    }
                }
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
            return .success(Connection(channel: channel, handler: handler))
        } catch {
            return .failure(ConnectFailure(streams: streams, reason: "connect: \(error)"))
        }
    }

    /// The merged numbers of every connection, as of now.
    func stats() async -> ClientStats {
        var total = connectFailures
        for connection in connections {
            let handler = connection.handler
            if let stats = try? await connection.channel.eventLoop.submit({ handler.value.stats }).get() {
                total.merge(stats)
            }
        }
        return total
    }

    /// Every tracked stream's event-id log as of now, for loads that track them (`LoadShape.trackEventIDs`).
    func trackedStreams() async -> [TrackedStream] {
        var all: [TrackedStream] = []
        for connection in connections {
            let handler = connection.handler
            if let streams = try? await connection.channel.eventLoop.submit({ handler.value.trackedStreams() }).get() {
                all += streams
            }
        }
        return all
    }

    /// Polls until every stream has its answer (200 or a failure) or `timeout` passes; returns the last stats.
    func waitUntilSettled(timeout: Duration) async -> ClientStats {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = await stats()
            if current.streamsSettled >= current.streamsRequested || ContinuousClock.now >= deadline {
                return current
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Starts a measurement window: every connection forgets the latencies (and heartbeat lateness) it has recorded.
    func resetLatency() async {
        for connection in connections {
            let handler = connection.handler
            try? await connection.channel.eventLoop.submit { handler.value.resetLatency() }.get()
        }
    }

    /// Ends a heartbeat window: every open stream whose next heartbeat is overdue now records how overdue it is
    /// (read `stats()` after this).
    func recordOverdueHeartbeats() async {
        for connection in connections {
            let handler = connection.handler
            try? await connection.channel.eventLoop.submit { handler.value.recordOverdueHeartbeats() }.get()
        }
    }

    /// Closes every connection (the streams' failures stop counting first).
    func close() async {
        for connection in connections {
            let handler = connection.handler
            try? await connection.channel.eventLoop.submit { handler.value.markClosing() }.get()
        }
        for connection in connections {
            try? await connection.channel.close()
        }
    }
}
