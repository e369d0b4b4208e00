import MTCore
import NIOCore
import NIOHTTP1

/// One connection: reads a request, asks the service, and writes the answer, applying its fault
/// (truncated, cut, slow, reset, never sent).
final class SimHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: SimService
    private var head: HTTPRequestHead?
    /// After a hang fault the connection never answers again.
    private var hanging = false

    init(service: SimService) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head, !hanging else { return }
            head = nil
            let request = SimRequest(method: h.method.rawValue, uri: h.uri,
                                     authorization: h.headers.first(name: "authorization"),
                                     host: h.headers.first(name: "host"))
            let response = service.handle(request)
            if response.delayMs > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(response.delayMs))) {
                    self.send(response, for: h, context: context)
                }
            } else {
                send(response, for: h, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func responseHead(_ status: Int, _ headers: [(String, String)], length: Int, for request: HTTPRequestHead,
                              keepAlive: Bool) -> HTTPResponseHead {
        var h = HTTPHeaders(headers)
        h.add(name: "Content-Length", value: String(length))
        if !keepAlive { h.replaceOrAdd(name: "Connection", value: "close") }
        else if request.version.minor == 0 { h.replaceOrAdd(name: "Connection", value: "keep-alive") }
        return HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: status), headers: h)
    }

    private func send(_ r: SimResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive
        switch r.fault {
        case .hang:
            hanging = true
        case .reset:
            hanging = true
            if let provider = context.channel as? SocketOptionProvider {
                provider.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        case .truncate:
            service.countStatus(r.status)
            let announced = r.body.isEmpty ? 16 : r.body.count
            context.write(wrapOutboundOut(.head(responseHead(r.status, r.headers, length: announced, for: request, keepAlive: false))), promise: nil)
            writeBody(Array(r.body.prefix(r.body.count / 2)), context: context)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        case .invalidJSON:
            let body = r.body.count > 1 ? Array(r.body.prefix(r.body.count / 2)) : Array("{\"id\":".utf8)
            complete(200, [("Content-Type", "application/json;charset=UTF-8")], body, request, keepAlive, context)
        case .html:
            complete(200, [("Content-Type", "text/html;charset=UTF-8")], SimService.loginPage, request, keepAlive, context)
        case .slow(let rate):
            service.countStatus(r.status)
            context.writeAndFlush(wrapOutboundOut(.head(responseHead(r.status, r.headers, length: r.body.count, for: request, keepAlive: keepAlive))), promise: nil)
            trickle(r.body[...], chunk: max(1, rate / 10), keepAlive: keepAlive, context: context)
        case .none, .status:
            complete(r.status, r.headers, r.body, request, keepAlive, context)
        }
    }

    private func complete(_ status: Int, _ headers: [(String, String)], _ body: [UInt8], _ request: HTTPRequestHead,
                          _ keepAlive: Bool, _ context: ChannelHandlerContext) {
        service.countStatus(status)
        context.write(wrapOutboundOut(.head(responseHead(status, headers, length: body.count, for: request, keepAlive: keepAlive))), promise: nil)
        writeBody(body, context: context)
        finish(keepAlive: keepAlive, context: context)
    }

    private func writeBody(_ body: [UInt8], context: ChannelHandlerContext) {
        guard !body.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }

    /// Sends `chunk` bytes every 100 ms until the body is out (or the client gave up).
    private func trickle(_ rest: ArraySlice<UInt8>, chunk: Int, keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        guard !rest.isEmpty else { return finish(keepAlive: keepAlive, context: context) }
        writeBody(Array(rest.prefix(chunk)), context: context)
        context.flush()
        let remaining = rest.dropFirst(chunk)
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(100)) {
            self.trickle(remaining, chunk: chunk, keepAlive: keepAlive, context: context)
        }
    }
}
