import Dispatch
import Foundation

/// Runs independent pieces of work on every core.
public enum Parallel {
    /// `body(item, worker)` for every item in 0..<count on up to `workers` threads (default: the
    /// active cores); worker w takes items w, w + workers, … . Returns when all are done.
    ///
    /// `body` must be safe to call concurrently (read-only work, or disjoint writes); `worker`
    /// indexes per-thread scratch space.
    public static func forEach(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                               _ body: (_ item: Int, _ worker: Int) -> Void) {
        let w = max(1, min(workers, count))
        if w == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        // concurrentPerform wants a @Sendable closure; the items write disjoint memory, and the
        // call returns only when every item is done, so the body never escapes.
        withoutActuallyEscaping(body) { body in
            let work = UncheckedWork(body: body)
            DispatchQueue.concurrentPerform(iterations: w) { k in
                for i in stride(from: k, to: count, by: w) { work.body(i, k) }
            }
        }
    }

    /// `body(i)` for i in 0..<count, spread as `forEach` spreads them; results in index order.
    /// When several items throw, the error of the lowest index is rethrown, so the failure
    /// reported does not depend on scheduling.
    public static func map<T>(_ count: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                              _ body: (Int) throws -> T) throws -> [T] {
        var results = [Result<T, any Error>?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { out in
            let slots = UncheckedSlots(out: out)
            forEach(count, workers: workers) { i, _ in slots.out[i] = Result { try body(i) } }
        }
        return try results.map { try $0!.get() }
    }

    private struct UncheckedWork: @unchecked Sendable {
        let body: (_ item: Int, _ worker: Int) -> Void
    }

    /// Each item writes only its own slot.
    private struct UncheckedSlots<T>: @unchecked Sendable {
        let out: UnsafeMutableBufferPointer<Result<T, any Error>?>
    }
}
