import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Collects HTTP answers for `RemoteClient`, refusing any larger than a limit.
///
/// A server is untrusted: an answer announcing (or streaming) more than `limit` bytes is
/// cancelled as soon as that shows, so a hostile server cannot make `pull` hold gigabytes.
/// Tasks are tracked by identifier, so one session (and its kept-alive connections) serves
/// every request of a client.
final class BoundedTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// What became of one request.
    enum Outcome {
        case answer(status: Int, body: [UInt8])
        case tooLarge(limit: Int)
        case failure(Error)
    }

    private final class Pending {
        var body: [UInt8] = []
        var status = 0
        var tooLarge = false
        var outcome: Outcome?
        let done = DispatchSemaphore(value: 0)
    }

    let limit: Int
    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `task` (created on a session whose delegate is `self`) and waits for its outcome.
    func run(_ task: URLSessionDataTask) -> Outcome {
        let p = Pending()
        lock.withLock { pending[task.taskIdentifier] = p }
        task.resume()
        p.done.wait()
        return lock.withLock { pending.removeValue(forKey: task.taskIdentifier)?.outcome } ?? p.outcome ?? .failure(URLError(.unknown))
    }

    private func state(_ task: URLSessionTask) -> Pending? {
        lock.withLock { pending[task.taskIdentifier] }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let p = state(dataTask) else { return completionHandler(.cancel) }
        p.status = (response as? HTTPURLResponse)?.statusCode ?? 0
        if response.expectedContentLength > Int64(limit) {
            p.tooLarge = true
            return completionHandler(.cancel)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let p = state(dataTask) else { return }
        if p.body.count + data.count > limit {
            p.tooLarge = true
            dataTask.cancel()
            return
        }
        p.body.append(contentsOf: data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let p = state(task) else { return }
        if p.tooLarge {
            p.outcome = .tooLarge(limit: limit)
        } else if let error {
            p.outcome = .failure(error)
        } else {
            p.outcome = .answer(status: p.status, body: p.body)
        }
        p.done.signal()
    }
}
