import Foundation

/// Hosts on one machine: a network namespace per host (`ip netns`), each with an `eth0` on one private /24 (veth
/// pairs into a bridge that lives in a namespace of its own), so processes started on different hosts talk over
/// real interfaces with their own addresses and ports, and nothing touches the machine's own network. Needs root
/// or password-less `sudo`; `teardown` (at the latest on deinit) deletes every namespace it made, and the
/// interfaces go with them.
public final class NetworkLab: @unchecked Sendable {
    /// One host: its namespace and its address on the lab's network.
    public struct Host: Sendable {
        public let name: String
        public let namespace: String
        public let address: String

        /// `ip netns exec NAMESPACE` with the privilege prefix: put it before a command to run it on this host.
        public let launcher: [String]
    }

    /// How this process may run `ip netns`: directly as root, or through `sudo -n`; nil when neither works.
    public static func privilegePrefix() -> [String]? {
        if getuid() == 0 {
            return []
        }
        guard let sudo = try? ProcessRunner.findInPath("sudo"),
              let probe = try? ProcessRunner.run(sudo, ["-n", "true"], timeout: 10), probe.exitCode == 0
        else { return nil }
        return [sudo.path, "-n"]
    }

    public private(set) var hosts: [String: Host] = [:]
    private let prefix: [String]
    private let ip: URL
    private let tag: String
    private let subnet: String
    private var namespaces: [String] = []
    private let lan: String

    /// Makes the bridge namespace; `subnet` is the first three octets of the lab's /24 (e.g. `10.231.7`).
    public init(subnet: String = "10.231.7") throws {
        guard let prefix = Self.privilegePrefix() else {
            throw TestSupportError("network namespaces need root or password-less sudo (ip netns add)")
        }
        self.prefix = prefix
        ip = try ProcessRunner.findInPath("ip")
        self.subnet = subnet
        // Short and unique per test process: interface and namespace names stay within the kernel's 15 bytes.
        tag = "sg\(getpid() % 100_000)"
        lan = "\(tag)-lan"
        try run(["netns", "add", lan])
        namespaces.append(lan)
        try run(["-n", lan, "link", "add", "br0", "type", "bridge"])
        try run(["-n", lan, "link", "set", "br0", "up"])
        try run(["-n", lan, "link", "set", "lo", "up"])
    }

    /// Adds host `name` at `SUBNET.octet`: its namespace, loopback and `eth0` up, plugged into the bridge.
    @discardableResult
    public func addHost(_ name: String, octet: Int) throws -> Host {
        let namespace = "\(tag)-\(name)"
        let port = "v\(octet)"
        let address = "\(subnet).\(octet)"
        try run(["netns", "add", namespace])
        namespaces.append(namespace)
        try run(["-n", lan, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try run(["-n", lan, "link", "set", port, "master", "br0"])
        try run(["-n", lan, "link", "set", port, "up"])
        try run(["-n", namespace, "link", "set", "lo", "up"])
        try run(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
        try run(["-n", namespace, "link", "set", "eth0", "up"])
        let host = Host(name: name, namespace: namespace, address: address, launcher: prefix + [ip.path, "netns", "exec", namespace])
        hosts[name] = host
        return host
    }

    /// Runs `command` on `host` to completion (bounded by `timeout`), e.g. `ping` or `curl` from inside it.
    public func run(on host: Host, _ command: [String], timeout: TimeInterval = 15) throws -> ProcessResult {
        try Self.execute(host.launcher + command, timeout: timeout)
    }

    /// Deletes every namespace the lab made (veths and the bridge go with them). Safe to call twice.
    public func teardown() {
        for namespace in namespaces.reversed() {
            _ = try? Self.execute(prefix + [ip.path, "netns", "delete", namespace], timeout: 10)
        }
        namespaces.removeAll()
    }

    deinit {
        teardown()
    }

    private func run(_ arguments: [String]) throws {
        let result = try Self.execute(prefix + [ip.path] + arguments, timeout: 10)
        guard result.exitCode == 0 else {
            throw TestSupportError("ip \(arguments.joined(separator: " ")) failed (exit \(result.exitCode)): \(result.stderr)")
        }
    }

    /// Runs `command` (an absolute executable path first) to completion within `timeout` seconds.
    private static func execute(_ command: [String], timeout: TimeInterval) throws -> ProcessResult {
        try ProcessRunner.run(URL(fileURLWithPath: command[0]), Array(command.dropFirst()), timeout: timeout)
    }
}
