import Foundation

/// A log of every HTTP request the remote clients send, one line each, for profiling
/// transfers: `PVEC_HTTP_TRACE=FILE pvec push …` appends
/// `START_MS DURATION_MS METHOD STATUS SENT RECEIVED PATH` (times in milliseconds since the
/// process's first request; the path without its query). Off unless the variable is set.
final class RequestTrace: @unchecked Sendable {
    static let shared: RequestTrace? = ProcessInfo.processInfo.environment["PVEC_HTTP_TRACE"].flatMap { path in
        guard !path.isEmpty, FileManager.default.createFile(atPath: path, contents: nil) || FileManager.default.fileExists(atPath: path),
              let handle = FileHandle(forWritingAtPath: path) else { return nil }
        handle.seekToEndOfFile()
        return RequestTrace(handle)
    }

    private let lock = NSLock()
    private let handle: FileHandle
    private let origin = DispatchTime.now()

    private init(_ handle: FileHandle) { self.handle = handle }

    func record(_ r: ClientRequest, status: Int, sent: Int, received: Int, since start: DispatchTime) {
        let now = DispatchTime.now().uptimeNanoseconds
        let begin = Double(start.uptimeNanoseconds &- origin.uptimeNanoseconds) / 1e6
        let took = Double(now &- start.uptimeNanoseconds) / 1e6
        let line = String(format: "%.3f %.3f ", begin, took) + "\(r.method) \(status) \(sent) \(received) \(r.url.path)\n"
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data(line.utf8))
    }
}
