import PVecTensor

/// Seeded generators of soft-prompt inits, specified to the bit so that a recorded recipe
/// (method, rows, seed, …) regenerates the same tensor on any machine.
///
/// Both draw from `SplitMix64(seed: seed)` only: `nextFloat01()` is the top 24 bits of
/// `next()` times 2⁻²⁴, and `nextBelow(n)` is Lemire's multiply-shift with rejection (see
/// `SplitMix64`).
public enum InitGenerator {
    /// A [rows, width] init with entries a · (2u − 1), u uniform in [0, 1) (Lester et al. 2021,
    /// "The Power of Scale for Parameter-Efficient Prompt Tuning", §3.2: random uniform in
    /// [−0.5, 0.5] with a = 0.5).
    ///
    /// Exactly: u = `nextFloat01()` drawn for entry (r, c) in row-major order; 2u − 1 is exact
    /// in Float and the only rounding is the product a · (2u − 1) in Float.
    ///
    /// ```swift
    /// let p = InitGenerator.uniform(rows: 100, width: 384, range: 0.5, seed: 42)
    /// ```
    ///
    /// - Precondition: rows ≥ 0, width ≥ 0, a finite.
    public static func uniform(rows: Int, width: Int, range a: Float, seed: UInt64) -> Tensor {
        precondition(rows >= 0 && width >= 0, "uniform init needs non-negative rows and width")
        precondition(a.isFinite, "uniform init needs a finite range")
        var rng = SplitMix64(seed: seed)
        var out = [Float](repeating: 0, count: rows * width)
        out.withUnsafeMutableBufferPointer { ob in
            for j in 0..<ob.count {
                let u = rng.nextFloat01()
                ob[j] = a * (2 * u - 1)
            }
        }
        return Tensor(shape: [rows, width], scalars: out)
    }

    /// A [rows, C] init whose rows are distinct rows of the embedding table [V, C], drawn
    /// without replacement from the first K = min(firstK, V) rows (Lester et al. 2021, §3.2:
    /// "sampled vocab", the 5,000 most common tokens; WordPiece and SentencePiece vocabularies
    /// put frequent tokens first).
    ///
    /// Exactly, a partial Fisher–Yates shuffle: idx = [0, 1, …, K − 1]; for i = 0, 1, …, rows − 1:
    /// j = i + `nextBelow(UInt64(K − i))`, swap idx[i] and idx[j], and output row i is table
    /// row idx[i], copied bit for bit.
    ///
    /// - Throws: `AlgebraError.invalidParameter` when the table is not 2-D, firstK < 1,
    ///   rows < 0, or rows > K.
    public static func vocabSample(rows: Int, embeddingTable table: Tensor, firstK: Int = 5000,
                                   seed: UInt64) throws -> Tensor {
        let op = "init vocab-sample"
        guard table.shape.rank == 2 else {
            throw AlgebraError.invalidParameter(operation: op, name: "embedding table", value: "shape \(table.shape)",
                                                expected: "a [vocabulary, width] matrix")
        }
        guard firstK >= 1 else {
            throw AlgebraError.invalidParameter(operation: op, name: "first_k", value: "\(firstK)", expected: "at least 1")
        }
        let v = table.shape.dims[0], c = table.shape.dims[1]
        let k = min(firstK, v)
        guard rows >= 0, rows <= k else {
            throw AlgebraError.invalidParameter(operation: op, name: "rows", value: "\(rows)",
                                                expected: "between 0 and \(k) (distinct rows of the first \(k))")
        }
        var rng = SplitMix64(seed: seed)
        var idx = Array(0..<k)
        var out = [Float](repeating: 0, count: rows * c)
        table.scalars.withUnsafeBufferPointer { tb in
            out.withUnsafeMutableBufferPointer { ob in
                for i in 0..<rows {
                    let j = i + Int(rng.nextBelow(UInt64(k - i)))
                    idx.swapAt(i, j)
                    let src = idx[i] * c
                    for col in 0..<c { ob[i * c + col] = tb[src + col] }
                }
            }
        }
        return Tensor(shape: [rows, c], scalars: out)
    }
}
