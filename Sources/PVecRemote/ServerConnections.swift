import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request has not fully arrived `timeout` after its head did.
///
/// The HTTP/1 idle timeout (Hummingbird's) closes a connection that sends nothing for that
/// long, including one stuck in the middle of its request head; this closes one that keeps
/// a request open by trickling its body a byte at a time.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) {
                context.close(promise: nil)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }
}

extension RegistryServer.Limits {
    /// The HTTP/1 server: idle timeout, request deadline, and at most `maxConnections` open
    /// connections (beyond that the server stops accepting until one closes, so a flood waits
    /// in the kernel's queue instead of using up file descriptors).
    var httpServer: HTTPServerBuilder {
        let deadline = TimeAmount.nanoseconds(Int64(requestTimeout * 1e9))
        return .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeout: deadline)],
                                           idleTimeout: .nanoseconds(Int64(idleTimeout * 1e9))))
    }

    var connectionLimit: MaximumAvailableConnections { MaximumAvailableConnections(maxConnections) }
}
