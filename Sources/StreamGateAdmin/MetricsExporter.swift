import CoreMetrics
import NIOCore
import Prometheus
import StreamGateProxy
import NIOConcurrencyHelpers

/// `GET /metrics`: the Prometheus text exposition, through swift-metrics and swift-prometheus. Counters are derived
/// at scrape time from a registry snapshot (what ended, from each loop's totals, plus what is still live), so
/// nothing is counted on the per-event path; the two histograms are recorded once per stream, when its response
/// head arrives and when it ends.
public final class MetricsExporter: StreamObserver {
    public let collectors: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// The value each counter had at the last scrape, and the label sets each gauge has shown.
    private let exported = NIOLockedValueBox<Exported>(Exported())

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

    /// The exposition for the registry as `aggregate` counts it, with the reloads so far and the generation serving.
    func render(
        _ aggregate: RegistryAggregate,
        reloads: ConfigReloader.Counts? = nil,
        generation: Int = 1,
        upstreams: [UpstreamStatus] = []
    ) -> [UInt8] {
        var counters: [MetricKey: Int] = [:]
        var gauges: [MetricKey: Int] = [:]
        func add(_ name: String, _ labels: [String], _ value: Int, to table: inout [MetricKey: Int]) {
            table[MetricKey(name: name, labels: labels), default: 0] += value
        }

        let totals = aggregate.totals
        for (key, count) in totals.streams {
            add("streamgate_streams_total", [key.kind.rawValue, key.route, key.outcome.rawValue], count, to: &counters)
        }
        for (key, count) in totals.events where key.kind == .sse {
            add("streamgate_sse_events_total", [key.route], count, to: &counters)
        }
        for (route, count) in aggregate.liveEvents {
            add("streamgate_sse_events_total", [route], count, to: &counters)
        }
        for (key, count) in totals.heartbeats {
            add("streamgate_heartbeats_total", [key.kind.rawValue, key.route], count, to: &counters)
        }
        for (key, count) in aggregate.liveHeartbeats {
            add("streamgate_heartbeats_total", [key.kind.rawValue, key.route], count, to: &counters)
        }
        for (key, count) in totals.connectErrors {
            add("streamgate_upstream_connect_errors_total", [key.upstream, key.server], count, to: &counters)
        }
        for (key, count) in totals.resumes {
            add("streamgate_sse_resumes_total", [key.route, key.result.rawValue], count, to: &counters)
        }
        for (key, count) in totals.limitHits {
            add("streamgate_limit_hits_total", [key.listener, key.limit.rawValue], count, to: &counters)
        }
        for (listener, count) in totals.tlsHandshakeErrors {
            add("streamgate_tls_handshake_errors_total", [listener], count, to: &counters)
        }
        add("streamgate_bytes_total", ["in"], totals.bytesIn + aggregate.liveBytesIn, to: &counters)
        add("streamgate_bytes_total", ["out"], totals.bytesOut + aggregate.liveBytesOut, to: &counters)
        if let reloads {
            add("streamgate_config_reloads_total", ["success"], reloads.applied, to: &counters)
            add("streamgate_config_reloads_total", ["failed"], reloads.failed, to: &counters)
        }
        add("streamgate_config_generation", [], generation, to: &gauges)
        for (key, count) in aggregate.connections {
            add("streamgate_connections_active", [key.listener, key.protocolName], count, to: &gauges)
        }
        for (key, count) in aggregate.streams {
            add("streamgate_streams_active", [key.kind.rawValue, key.route], count, to: &gauges)
        }
        for (route, count) in aggregate.sharedSubscribers {
            add("streamgate_sse_shared_subscribers", [route], count, to: &gauges)
        }
        for (route, count) in aggregate.sharedUpstreams {
            add("streamgate_sse_shared_upstreams", [route], count, to: &gauges)
        }
        for upstream in upstreams {
            for server in upstream.servers {
                let labels = [upstream.name, server.address]
                add("streamgate_upstream_server_up", labels, server.state == .up ? 1 : 0, to: &gauges)
                add("streamgate_upstream_server_streams", labels, server.streamsInFlight, to: &gauges)
                add("streamgate_upstream_server_connecting", labels, server.connecting, to: &gauges)
                add("streamgate_upstream_server_waiting_to_connect", labels, server.waitingToConnect, to: &gauges)
                add("streamgate_upstream_server_ejections_total", labels, server.ejections, to: &counters)
            }
        }

        exported.withLockedValue { exported in
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
        "streamgate_sse_resumes_total": ["route", "result"],
        "streamgate_upstream_connect_errors_total": ["upstream", "server"],
        "streamgate_tls_handshake_errors_total": ["listener"],
        "streamgate_limit_hits_total": ["listener", "limit"],
        "streamgate_bytes_total": ["direction"],
        "streamgate_config_reloads_total": ["result"],
        "streamgate_config_generation": [],
        "streamgate_connections_active": ["listener", "protocol"],
        "streamgate_streams_active": ["kind", "route"],
        "streamgate_sse_shared_subscribers": ["route"],
        "streamgate_sse_shared_upstreams": ["route"],
        "streamgate_upstream_server_up": ["upstream", "server"],
        "streamgate_upstream_server_streams": ["upstream", "server"],
        "streamgate_upstream_server_connecting": ["upstream", "server"],
        "streamgate_upstream_server_waiting_to_connect": ["upstream", "server"],
        "streamgate_upstream_server_ejections_total": ["upstream", "server"],
    ]

    private func dimensions(_ key: MetricKey) -> [(String, String)] {
        Array(zip(Self.labelNames[key.name] ?? [], key.labels))
    }
}
