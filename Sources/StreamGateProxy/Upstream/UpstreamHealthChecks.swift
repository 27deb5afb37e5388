import NIOCore
import StreamGateConfig
import NIOConcurrencyHelpers
import Synchronization

/// The active health checks of one generation: for every server of every upstream with a `health_check`, a
/// repeated task on one event loop that probes it (`HealthProbe`) and tells its `UpstreamServer` the result.
/// Started when the generation starts serving, stopped when a reload replaces it or the proxy shuts down.
final class UpstreamHealthChecks: Sendable {
    private let tasks: NIOLockedValueBox<[RepeatedTask]>
    private let stopped = Atomic<Bool>(false)

    init(groups: [UpstreamGroup], eventLoops: any EventLoopGroup) {
        tasks = NIOLockedValueBox([])
        var started: [RepeatedTask] = []
        for group in groups {
            guard let check = group.config.healthCheck else {
                group.servers.forEach { $0.clearCheck() }
                continue
            }
            for (index, server) in group.servers.enumerated() {
                let loop = eventLoops.next()
                let address = group.addresses[index]
                let host = group.addressTexts[index]
                let timeout = TimeAmount(check.timeout)
                let task = loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: TimeAmount(check.interval)) {
                    [weak self] _ in
                    HealthProbe.run(
                        address: address,
                        host: host,
                        path: check.path,
                        timeout: timeout,
                        tls: group.tls.map { ($0, index) },
                        on: loop
                    )
                        .map { [weak self] result in
                            guard let self, !self.stopped.load(ordering: .relaxed) else { return }
                            switch result {
                            case .success:
                                server.recordCheck(passed: true, detail: "", policy: check)
                            case .failure(let failure):
                                server.recordCheck(passed: false, detail: failure.description, policy: check)
                            }
                        }
                }
                started.append(task)
            }
        }
        tasks.withLockedValue { $0 = started }
    }

    /// No more checks; a check in flight finishes without effect.
    func stop() {
        stopped.store(true, ordering: .relaxed)
        let running = tasks.withLockedValue { tasks -> [RepeatedTask] in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in running {
            task.cancel()
        }
    }
}
