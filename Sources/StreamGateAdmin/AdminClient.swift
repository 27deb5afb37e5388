import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-request-per-connection HTTP/1.1 client for the admin endpoint (`streamgate connections`, the
/// benchmark's poller): GET a path, with the bearer token when given, and return the status and body.
public struct AdminClient: Sendable {
    public let host: String
    public let port: Int
    public let token: String?

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(host: String, port: Int, token: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// `http://HOST:PORT` (a trailing slash is fine).
    public init(url: String, token: String?) throws {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, let port = components.port
        else {
            throw Failure(description: "admin URL \"\(url)\" is not http://HOST:PORT")
        }
        self.host = host
        self.port = port
        self.token = token
    }

    public func get(_ path: String, group: any EventLoopGroup) async throws -> (status: Int, body: Data) {
        try await request(.GET, path, group: group)
    }

    /// Sends one request with an empty body and returns the status and body of its answer.
    public func request(_ method: HTTPMethod, _ path: String, group: any EventLoopGroup) async throws
        -> (status: Int, body: Data)
    {
        let promise = group.next().makePromise(of: (Int, Data).self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(3))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            promise.fail(error)
            throw Failure(description: "cannot reach the admin endpoint at \(host):\(port): \(error)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "\(host):\(port)")
        headers.add(name: "connection", value: "close")
        if method == .POST {
            headers.add(name: "content-length", value: "0")
        }
        if let token {
            headers.add(name: "authorization", value: "Bearer \(token)")
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let (status, body) = try await promise.futureResult.get()
        try? await channel.close()
        return (status, body)
    }
}

/// Gathers one response and completes the promise with it.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(Int, Data)>
    private var status = 0
    private var body = Data()

    init(promise: EventLoopPromise<(Int, Data)>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
        case .end: promise.succeed((status, body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(AdminClient.Failure(description: "the admin endpoint closed the connection"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
