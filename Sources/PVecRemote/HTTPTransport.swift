import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP request as the remote clients send it.
struct ClientRequest: Sendable {
    var method: String
    /// Absolute `http(s)://` URL.
    var url: URL
    var headers: [(name: String, value: String)] = []
    var body: [UInt8]?

    mutating func set(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}

/// An HTTP answer: status, headers (names lowercased, repeated ones joined by ", "), body.
struct ClientAnswer: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
}

/// The transport of `RemoteClient` and `OCIClient`: blocking requests over AsyncHTTPClient
/// (SwiftNIO), bounded as everything from a peer must be.
///
/// - Answers announcing or streaming more than `limit` bytes are cut off as soon as that
///   shows: a hostile server cannot make pvec hold more.
/// - Each request has `deadline` seconds in all (however slowly a server drips bytes), and 60 s
///   without a byte ends it.
/// - Redirects (a registry sending a blob GET to its storage) are followed here, at most 5,
///   only to http(s), and credentials never follow a redirect to another host or scheme.
///
/// A 401 is an answer like any other: authentication is the caller's business.
final class HTTPTransport: Sendable {
    enum Outcome: Sendable {
        case answer(ClientAnswer)
        case tooLarge(limit: Int)
        /// The request did not get an answer (refused, reset, timed out); a short reason.
        case failure(String)
    }

    let limit: Int
    let deadline: TimeInterval
    static let maxRedirects = 5

    init(limit: Int, deadline: TimeInterval) {
        self.limit = limit
        self.deadline = deadline
    }

    /// The process's one client: its event loops start with the first request, so commands
    /// that never go to the network never start them. It lives until the process exits.
    static let client: HTTPClient = {
        var config = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(60)),
            decompression: .disabled)
        // One connection per stream of the widest parallel transfer, kept open between requests.
        config.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: maxStreams)
        config.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    /// The most requests the remote clients keep in flight to one host (`RemoteSync.parallel`
    /// widths stay at or below it, so no request waits for a connection).
    static let maxStreams = 16

    /// Sends `request` and waits for its outcome (never call it from an event loop).
    func send(_ request: ClientRequest) -> Outcome {
        var request = request
        let end = NIODeadline.now() + .milliseconds(Int64(deadline * 1000))
        for _ in 0...Self.maxRedirects {
            let outcome = once(request, deadline: end)
            guard case .answer(let a) = outcome, [301, 302, 303, 307, 308].contains(a.status),
                  let location = a.headers["location"],
                  let next = URL(string: location, relativeTo: request.url)?.absoluteURL,
                  next.scheme == "http" || next.scheme == "https" else { return outcome }
            if next.host != request.url.host || next.port != request.url.port || next.scheme != request.url.scheme {
                request.headers.removeAll { $0.name.lowercased() == "authorization" }
            }
            if a.status == 303 { request.method = "GET"; request.body = nil }
            request.url = next
        }
        return .failure("more than \(Self.maxRedirects) redirects")
    }

    private func once(_ r: ClientRequest, deadline: NIODeadline) -> Outcome {
        var headers = HTTPHeaders()
        for h in r.headers { headers.add(name: h.name, value: h.value) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: r.url.absoluteString, method: HTTPMethod(rawValue: r.method),
                                             headers: headers, body: r.body.map { .bytes($0) })
        } catch {
            return .failure("\(r.url.absoluteString.prefix(100)) is not a URL pvec can send to")
        }
        let collector = BoundedCollector(limit: limit, isHead: r.method == "HEAD")
        let started = RequestTrace.shared.map { _ in DispatchTime.now() }
        do {
            let answer = try Self.client.execute(request: request, delegate: collector, deadline: deadline).wait()
            if let started { RequestTrace.shared?.record(r, status: answer.status, sent: r.body?.count ?? 0, received: answer.body.count, since: started) }
            return .answer(answer)
        } catch is BoundedCollector.TooLarge {
            return .tooLarge(limit: limit)
        } catch let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout {
            return .failure("no complete answer in time (\(e))")
        } catch {
            return .failure(Self.reason(error))
        }
    }

    static func reason(_ error: Error) -> String {
        let s = String(describing: error)
        return s.count > 120 ? String(s.prefix(120)) + "…" : s
    }
}

/// Collects one answer, refusing it once it announces or reaches more than `limit` bytes.
private final class BoundedCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = ClientAnswer
    struct TooLarge: Error {}

    let limit: Int
    let isHead: Bool
    // Touched only on the request's event loop, one callback at a time.
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []

    init(limit: Int, isHead: Bool) {
        self.limit = limit
        self.isHead = isHead
    }

    func didReceiveHead(task: HTTPClient.Task<ClientAnswer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        for (name, value) in head.headers {
            let k = name.lowercased()
            headers[k] = headers[k].map { $0 + ", " + value } ?? value
        }
        // A HEAD answer announces the size of what a GET would send, and sends nothing.
        if !isHead, let length = headers["content-length"].flatMap({ Int($0) }), length > limit {
            return task.eventLoop.makeFailedFuture(TooLarge())
        }
        if !isHead, let length = headers["content-length"].flatMap({ Int($0) }), length > 0 {
            body.reserveCapacity(length)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<ClientAnswer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard body.count + buffer.readableBytes <= limit else { return task.eventLoop.makeFailedFuture(TooLarge()) }
        body.append(contentsOf: buffer.readableBytesView)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<ClientAnswer>) throws -> ClientAnswer {
        ClientAnswer(status: status, headers: headers, body: body)
    }
}
