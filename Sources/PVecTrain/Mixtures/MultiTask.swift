import Foundation
import PVecModel
import PVecTensor

/// One task of a multi-task run: its spec and its (possibly few-shot) training data.
public struct TaskData: Sendable {
    public var task: TaskSpec
    public var train: Dataset

    public init(task: TaskSpec, train: Dataset) {
        self.task = task
        self.train = train
    }
}

/// Examples-proportional mixing with a per-task cap (Raffel et al. 2020, §3.5.2): each example of a
/// batch comes from task t with probability min(n_t, cap) / Σ_u min(n_u, cap); within a task,
/// examples follow a seeded shuffle, epoch after epoch, as in `PromptTuner`.
struct MultiTaskSampler {
    let counts: [Int]
    /// Σ_t min(n_t, cap) (no cap: Σ n_t): the examples of one mixed epoch, what a run without
    /// `--steps` trains for.
    let cappedCount: Int
    let rates: [Double]
    let seed: UInt64
    private var rng: SplitMix64
    private var cursor: [Int]
    private var orders: [(epoch: Int, idx: [Int])]

    init(counts: [Int], cap: Int, seed: UInt64) {
        precondition(counts.allSatisfy { $0 > 0 }, "every task needs examples")
        self.counts = counts
        let capped = counts.map { cap > 0 ? min($0, cap) : $0 }
        let total = capped.reduce(0, +)
        cappedCount = total
        rates = capped.map { Double($0) / Double(total) }
        self.seed = seed
        rng = SplitMix64(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        cursor = [Int](repeating: 0, count: counts.count)
        orders = counts.map { _ in (-1, []) }
    }

    /// The next `size` (task, example) pairs.
    mutating func next(_ size: Int) -> [(task: Int, example: Int)] {
        (0..<size).map { _ in
            var u = Double(rng.nextFloat01()), t = 0
            while t < rates.count - 1 && u >= rates[t] { u -= rates[t]; t += 1 }
            let k = cursor[t]
            cursor[t] += 1
            let epoch = k / counts[t]
            if orders[t].epoch != epoch {
                orders[t] = (epoch, BatchOrder.permutation(epoch: epoch, n: counts[t], seed: seed &+ UInt64(t) &* 0x9E37_79B9))
            }
            return (t, orders[t].idx[k % counts[t]])
        }
    }
}

/// The mean cross-entropy over a batch whose rows belong to different tasks, each scored with
/// its own task's labels, and dL/dfeatures `[B, C]`.
func multiTaskLoss(features f: Tensor, tasks: [Int], labels: [Int], scorers: [LabelScorer]) throws -> (loss: Float, dFeatures: Tensor) {
    let B = f.shape.rows, C = f.shape.width
    var dF = [Float](repeating: 0, count: B * C)
    var loss: Float = 0
    for t in Set(tasks).sorted() {
        let rows = tasks.indices.filter { tasks[$0] == t }
        var sub = [Float]()
        sub.reserveCapacity(rows.count * C)
        for r in rows { sub += f.scalars[(r * C)..<((r + 1) * C)] }
        let (l, g, _) = try scorers[t].lossAndGradient(Tensor(shape: [rows.count, C], scalars: sub), labels: rows.map { labels[$0] })
        // The sub-batch mean becomes a share of the whole batch's mean.
        let share = Float(rows.count) / Float(B)
        loss += share * l
        for (k, r) in rows.enumerated() {
            for c in 0..<C { dF[r * C + c] = share * g.scalars[k * C + c] }
        }
    }
    return (loss, Tensor(shape: [B, C], scalars: dF))
}
