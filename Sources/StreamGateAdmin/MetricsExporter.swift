import CoreMetrics
import NIOCore
import Prometheus
import StreamGateProxy
import Synchronization

/// `GET /metrics`: the Prometheus text exposition, through swift-metrics and swift-prometheus. Counters are derived
/// at scrape time from a registry snapshot (what ended, from each loop's totals, plus what is still live), so
/// nothing is counted on the per-event path; the two histograms are recorded once per stream, when its response
/// head arrives and when it ends.
public final class MetricsExporter: StreamObserver {
    public let collectors: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The value each counter had at the last scrape, and the label sets each gauge has shown.
    private let exported = Mutex<Exported>(Exported())

    private struct Exported {
        var counters: [MetricKey: Int] = [:]
        var gauges: Set<MetricKey> = []
    }

    private struct MetricKey: Hashable {
        var name: String
        var labels: [String]
    }

    static let responseHeaderSeconds = "streamgate_upstream_response_header_seconds"
    static let lifetimeSeconds = "streamgate_stream_lifetime_seconds"

    public init() {
        collectors = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: collectors)
        factory.durationHistogramBuckets[Self.responseHeaderSeconds] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60),
        ]
        factory.durationHistogramBuckets[Self.lifetimeSeconds] = [
            .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(300), .seconds(1800),
            .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600),
        ]
        self.factory = factory
    }

    public func streamFinished(_ finished: FinishedStream) {
        guard finished.outcome != .local else { return }
        let stream = finished.stream
        Timer(
            label: Self.lifetimeSeconds,
            dimensions: [("kind", stream.kind.rawValue), ("route", stream.routeName ?? stream.route)],
            factory: factory
        ).recordMilliseconds(stream.ageMilliseconds)
    }

    public func responseHeadArrived(route: String, latency: TimeAmount) {
        Timer(label: Self.responseHeaderSeconds, dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(latency.nanoseconds)
    }

    /// The exposition for the registry as `snapshot` shows it.
    func render(_ snapshot: LiveSnapshot) -> [UInt8] {
        var counters: [MetricKey: Int] = [:]
        var gauges: [MetricKey: Int] = [:]
        func route(_ stream: StreamSnapshot) -> String { stream.routeName ?? stream.route }

        let totals = snapshot.totals
        for (key, count) in totals.streams {
            counters[MetricKey(name: "streamgate_streams_total", labels: [key.kind.rawValue, key.route, key.outcome.rawValue]), default: 0] += count
        }
        for (key, count) in totals.events where key.kind == .sse {
            counters[MetricKey(name: "streamgate_sse_events_total", labels: [key.route]), default: 0] += count
        }
        for (key, count) in totals.heartbeats {
            counters[MetricKey(name: "streamgate_heartbeats_total", labels: [key.kind.rawValue, key.route]), default: 0] += count
        }
        for (key, count) in totals.connectErrors {
            counters[MetricKey(name: "streamgate_upstream_connect_errors_total", labels: [key.upstream, key.server]), default: 0] += count
        }
        for (listener, count) in totals.tlsHandshakeErrors {
            counters[MetricKey(name: "streamgate_tls_handshake_errors_total", labels: [listener]), default: 0] += count
        }
        var bytesIn = totals.bytesIn
        var bytesOut = totals.bytesOut
        for connection in snapshot.connections {
            bytesIn += connection.bytesIn
            bytesOut += connection.bytesOut
            let labels = [connection.listener, connection.protocolName ?? "unknown"]
            gauges[MetricKey(name: "streamgate_connections_active", labels: labels), default: 0] += 1
            for stream in connection.streams {
                gauges[MetricKey(name: "streamgate_streams_active", labels: [stream.kind.rawValue, route(stream)]), default: 0] += 1
                if stream.kind == .sse && stream.events > 0 {
                    counters[MetricKey(name: "streamgate_sse_events_total", labels: [route(stream)]), default: 0] += stream.events
                }
                if stream.heartbeats > 0 {
                    counters[MetricKey(name: "streamgate_heartbeats_total", labels: [stream.kind.rawValue, route(stream)]), default: 0] += stream.heartbeats
                }
            }
        }
        counters[MetricKey(name: "streamgate_bytes_total", labels: ["in"])] = bytesIn
        counters[MetricKey(name: "streamgate_bytes_total", labels: ["out"])] = bytesOut

        exported.withLock { exported in
            for (key, value) in counters {
                let delta = value - exported.counters[key, default: 0]
                guard delta > 0 else { continue }
                Counter(label: key.name, dimensions: dimensions(key), factory: factory).increment(by: delta)
                exported.counters[key] = value
            }
            // A label set seen before and gone now reads 0, not its last value.
            for key in exported.gauges where gauges[key] == nil {
                gauges[key] = 0
            }
            for (key, value) in gauges {
                Gauge(label: key.name, dimensions: dimensions(key), factory: factory).record(value)
                exported.gauges.insert(key)
            }
        }
        return collectors.emitToBuffer()
    }

    private static let labelNames: [String: [String]] = [
        "streamgate_streams_total": ["kind", "route", "outcome"],
        "streamgate_sse_events_total": ["route"],
        "streamgate_heartbeats_total": ["kind", "route"],
        "streamgate_upstream_connect_errors_total": ["upstream", "server"],
        "streamgate_tls_handshake_errors_total": ["listener"],
        "streamgate_bytes_total": ["direction"],
        "streamgate_connections_active": ["listener", "protocol"],
        "streamgate_streams_active": ["kind", "route"],
    ]

    private func dimensions(_ key: MetricKey) -> [(String, String)] {
        Array(zip(Self.labelNames[key.name] ?? [], key.labels))
    }
}
