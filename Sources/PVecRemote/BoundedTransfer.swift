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
        var headers: [String: String] = [:]
        var tooLarge = false
        var challenged = false
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

    /// Runs `task` like `run`, and also returns the answer's headers, names in lowercase.
    func runKeepingHeaders(_ task: URLSessionDataTask) -> (outcome: Outcome, headers: [String: String]) {
        let p = Pending()
        lock.withLock { pending[task.taskIdentifier] = p }
        task.resume()
        p.done.wait()
        let outcome = lock.withLock { pending.removeValue(forKey: task.taskIdentifier)?.outcome } ?? p.outcome ?? .failure(URLError(.unknown))
        return (outcome, p.headers)
    }

    private func state(_ task: URLSessionTask) -> Pending? {
        lock.withLock { pending[task.taskIdentifier] }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let p = state(dataTask) else { return completionHandler(.cancel) }
        let http = response as? HTTPURLResponse
        p.status = http?.statusCode ?? 0
        for (k, v) in http?.allHeaderFields ?? [:] {
            if let k = k as? String, let v = v as? String { p.headers[k.lowercased()] = v }
        }
        // A HEAD answer announces the size of what a GET would send, and sends nothing.
        if dataTask.originalRequest?.httpMethod != "HEAD", response.expectedContentLength > Int64(limit) {
            p.tooLarge = true
            return completionHandler(.cancel)
        }
        completionHandler(.allow)
    }

    /// Authentication is the caller's business (`OCIClient` answers challenges itself): a 401
    /// is delivered as an answer, never held waiting for credentials.
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        // swift-corelibs-foundation turns a 401 into a challenge and never delivers the answer:
        // keep its status and headers (WWW-Authenticate) and end the task as that answer.
        if let p = state(task), let r = challenge.failureResponse as? HTTPURLResponse {
            p.status = r.statusCode
            for (k, v) in r.allHeaderFields {
                if let k = k as? String, let v = v as? String { p.headers[k.lowercased()] = v }
            }
            p.challenged = true
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
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
        } else if p.challenged {
            p.outcome = .answer(status: p.status, body: [])
        } else if let error {
            p.outcome = .failure(error)
        } else {
            p.outcome = .answer(status: p.status, body: p.body)
        }
        p.done.signal()
    }
}
