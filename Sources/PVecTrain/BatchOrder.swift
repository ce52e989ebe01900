import PVecTensor

/// The seeded, stateless example order of single-task training. Position k of the stream is
/// example `permutation(epoch: k / n)[k % n]`, each epoch shuffled by SplitMix64(seed ^ epoch·φ),
/// so the batch of any step can be computed without replaying the ones before it (a resumed run
/// continues exactly where it stopped).
struct BatchOrder {
    let count: Int
    let seed: UInt64
    let batchSize: Int
    private var current: (epoch: Int, idx: [Int]) = (-1, [])

    init(count: Int, seed: UInt64, batchSize: Int) {
        precondition(count > 0 && batchSize > 0, "BatchOrder needs examples and a positive batch size")
        self.count = count
        self.seed = seed
        self.batchSize = batchSize
    }

    /// Epoch `e`'s permutation of 0..<n (Fisher–Yates from the end with `nextBelow`).
    static func permutation(epoch: Int, n: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        var idx = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { idx.swapAt(i, Int(rng.nextBelow(UInt64(i + 1)))) }
        return idx
    }

    /// The example indices of 0-based `step`.
    mutating func batch(step: Int) -> [Int] {
        ((step * batchSize)..<((step + 1) * batchSize)).map { k in
            let epoch = k / count
            if current.epoch != epoch { current = (epoch, Self.permutation(epoch: epoch, n: count, seed: seed)) }
            return current.idx[k % count]
        }
    }
}
