import StreamGateTLS

/// (4) WebSocket echo: one WebSocket per connection (TLS, HTTP/1.1 Upgrade; direct: cleartext to the origin),
/// each sending a small binary message, waiting for the origin's echo and sending the next. Measures messages
/// per second and the round trip (p50, p99), and the proxy's CPU seconds per million messages.
struct WebSocketEchoScenario: Scenario {
    let id = "websocket"
    let title = "WebSocket echo"
    let headlineMetric = "messages_per_s"

    func workload(_ sizes: ScenarioSizes) -> String {
        "\(sizes.webSocketConnections) WebSocket connections, \(sizes.webSocketMessageBytes)-byte binary messages "
            + "echoed one at a time, \(sizes.webSocketSeconds) s"
    }

    let metrics = [
        MetricSpec(key: "messages_per_s", label: "messages/s", decimals: 0, ratioToNginx: true, ratioToDirect: true, higherIsBetter: true),
        MetricSpec(key: "p50_ms", label: "p50 ms", decimals: 3, ratioToNginx: true, ratioToDirect: true),
        MetricSpec(key: "p99_ms", label: "p99 ms", decimals: 3, ratioToNginx: true, ratioToDirect: true),
        MetricSpec(key: "cpu_s_per_m_messages", label: "proxy CPU s / M messages", decimals: 2, ratioToNginx: true),
        MetricSpec(key: "connections_open", label: "open", decimals: 0),
        MetricSpec(key: "streams_failed", label: "failed", decimals: 0),
        MetricSpec(key: "streams_ended", label: "ended early", decimals: 0),
    ]

    func measure(peer launcher: any PeerLauncher, environment: ScenarioEnvironment) async throws -> Measurement {
        let sizes = environment.sizes
        let shape = LoadShape(
            connections: sizes.webSocketConnections,
            streamsPerConnection: 1,
            path: "/ws",
            recordLatency: true,
            webSocketMessageBytes: sizes.webSocketMessageBytes
        )
        // WebSockets take the HTTP/1.1 Upgrade path, which every peer supports: offer only http/1.1 by ALPN.
        var http1Environment = environment
        http1Environment.tlsContext = try TLSClientContext(alpnProtocols: ["http/1.1"])
        return try await ProxyRun.with(launcher, environment: http1Environment) { peer, _ in
            try await ProxyRun.withLoad(shape, peer: peer, environment: http1Environment) { client in
                let opened = await client.waitUntilSettled(timeout: .seconds(20))
                try ProxyRun.requireOpenStreams(opened)
                try await Task.sleep(for: .seconds(1))  // warm-up
                await client.resetLatency()
                let window = try await MeasurementWindow.take(
                    client: client,
                    peer: peer,
                    duration: .seconds(sizes.webSocketSeconds)
                )
                var measurement = Measurement()
                measurement.values["messages_per_s"] = window.events / window.seconds
                measurement.recordPercentiles(of: window.after.latency)
                measurement.values["cpu_s_per_m_messages"] = window.proxyCPUSecondsPerMillionEvents
                measurement.values["connections_open"] = Double(opened.streamsOpen)
                measurement.recordOutcome(window.after, peer: peer)
                return measurement
            }
        }
    }
}
