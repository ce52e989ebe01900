import Dispatch
import Foundation

/// Runs independent pieces of work on every core.
public enum Parallel {
    /// `body(i)` for i in 0..<count, spread over `workers` threads (default: the active cores);
    /// results in index order. When several items throw, the error of the lowest index is
    /// rethrown, so the failure reported does not depend on scheduling.
    ///
    /// `body` must be safe to call concurrently (read-only work, or disjoint writes).
    public static func map<T>(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                              _ body: (Int) throws -> T) throws -> [T] {
        let w = max(1, min(workers, count))
        if w == 1 { return try (0..<count).map(body) }
        var results = [Result<T, any Error>?](repeating: nil, count: count)
        withoutActuallyEscaping(body) { body in
            results.withUnsafeMutableBufferPointer { out in
                // concurrentPerform wants a @Sendable closure; every index writes only its own
                // slot, and the call returns when all are done, so nothing escapes.
                let work = UncheckedWork(body: body, out: out)
                DispatchQueue.concurrentPerform(iterations: w) { k in
                    for i in stride(from: k, to: count, by: w) {
                        work.out[i] = Result { try work.body(i) }
                    }
                }
            }
        }
        return try results.map { try $0!.get() }
    }

    private struct UncheckedWork<T>: @unchecked Sendable {
        let body: (Int) throws -> T
        let out: UnsafeMutableBufferPointer<Result<T, any Error>?>
    }
}
