import NIOCore
import NIOHTTP1

/// NIO's HTTP/1.1 response decoder for the heads of one upstream connection, with a switch that retires it: once
/// `UpstreamResponseFramer` frames a body itself, the decoder it took out of the pipeline must not decode anything
/// more. `ByteToMessageHandler` leaves the pipeline only on the next event-loop tick, and a connection that closes
/// before then would otherwise have the retired decoder end (or fail) the body a second time.
final class UpstreamHeadDecoder: ByteToMessageDecoder, WriteObservingByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart

    private var decoder = HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)
    private var retired = false

    /// From now on the decoder takes no bytes and reports nothing.
    func retire() {
        retired = true
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !retired else { return .needMoreData }
        return try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        guard !retired else { return .needMoreData }
        return try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }

    func write(data: HTTPClientRequestPart) {
        decoder.write(data: data)
    }
}
