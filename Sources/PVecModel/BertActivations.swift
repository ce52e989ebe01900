/// The activation cache of a BERT forward pass and the gradient buffers of its backward pass,
/// allocated once (one block) for up to `capacity` rows and reused across steps.
///
/// Rows are packed as [B, T, ...] for the current batch, so any B, T with B*T <= capacity and
/// T <= maxT fit. Fields with a leading L hold one slice per layer, `layerStride(...)` apart;
/// an inference-only cache (`keepsLayers == false`) has one slice that every layer reuses,
/// because nothing reads it after the layer is done. Only what backward reads is kept per
/// layer: with frozen weights, a matmul's input is never needed again, so the attention
/// output, the FFN input and the GELU output live in single scratch slices.
final class BertActivations {
    let config: BertConfig
    /// Most rows (B*T) the buffers hold.
    let capacity: Int
    /// Longest sequence (T) the attention buffers hold.
    let maxT: Int
    /// Whether each layer keeps its own slice (needed for backward).
    let keepsLayers: Bool
    /// [T, T] attention-gradient scratch slices: one per chunk (`SequenceChunks`), or per
    /// worker when one chunk spreads its heads over the cores.
    let scratchSlots: Int

    private let block: UnsafeMutablePointer<Float>
    private let blockCount: Int

    // Forward
    let inp: UnsafeMutablePointer<Float>        // [B, T, C] input rows: word embeddings or prompt rows
    let emb: UnsafeMutablePointer<Float>        // [B, T, C] inp + position + token type, before LayerNorm
    let embMean: UnsafeMutablePointer<Float>    // [B, T]
    let embRstd: UnsafeMutablePointer<Float>    // [B, T]
    let x: UnsafeMutablePointer<Float>          // [B, T, C] the residual stream between layers; the output at the end
    let qkv: UnsafeMutablePointer<Float>        // [L, B, T, 3C] query, key, value
    let att: UnsafeMutablePointer<Float>        // [L, B, NH, T, T] attention probabilities
    let atty: UnsafeMutablePointer<Float>       // [B, T, C] attention output before its projection (scratch)
    let res1: UnsafeMutablePointer<Float>       // [L, B, T, C] x + attention projection, before LayerNorm
    let ln1Mean: UnsafeMutablePointer<Float>    // [L, B, T]
    let ln1Rstd: UnsafeMutablePointer<Float>    // [L, B, T]
    let ln1: UnsafeMutablePointer<Float>        // [B, T, C] LayerNorm(res1): FFN input (scratch)
    let fch: UnsafeMutablePointer<Float>        // [L, B, T, F] FFN hidden, before GELU
    let fchGelu: UnsafeMutablePointer<Float>    // [B, T, F] GELU(fch) (scratch)
    let res2: UnsafeMutablePointer<Float>       // [L, B, T, C] ln1 + FFN output, before LayerNorm
    let ln2Mean: UnsafeMutablePointer<Float>    // [L, B, T]
    let ln2Rstd: UnsafeMutablePointer<Float>    // [L, B, T]
    let pooled: UnsafeMutablePointer<Float>     // [B, C] mean of x over each sequence's positions
    let output: UnsafeMutablePointer<Float>     // [B, C] pooled, or pooled / ‖pooled‖
    let poolNorm: UnsafeMutablePointer<Float>   // [B] ‖pooled‖

    // Backward (present when keepsLayers); each layer writes its scratch before reading it
    let dx: UnsafeMutablePointer<Float>         // [B, T, C] dL/dx, the residual stream
    let dres: UnsafeMutablePointer<Float>       // [B, T, C] dL/dres2, then dL/dres1
    let dln1: UnsafeMutablePointer<Float>       // [B, T, C] dL/dln1
    let datty: UnsafeMutablePointer<Float>      // [B, T, C] dL/datty
    let dqkv: UnsafeMutablePointer<Float>       // [B, T, 3C]
    let dfchGelu: UnsafeMutablePointer<Float>   // [B, T, F]
    let dfch: UnsafeMutablePointer<Float>       // [B, T, F]
    let datt: UnsafeMutablePointer<Float>       // [scratchSlots, T, T] one (batch, head) at a time per chunk or worker
    let dpooled: UnsafeMutablePointer<Float>    // [B, C] dL/dpooled
    let demb: UnsafeMutablePointer<Float>       // [B, T, C] dL/d input rows (= dL/demb: the additions pass it through)

    init(config: BertConfig, capacity: Int, maxT: Int, keepsLayers: Bool) {
        precondition(capacity >= maxT && maxT > 0, "capacity must hold at least one sequence")
        self.config = config
        self.capacity = capacity
        self.maxT = maxT
        self.keepsLayers = keepsLayers
        scratchSlots = max(SequenceChunks.maxCount, BertKernels.attentionWorkers)
        let N = capacity, C = config.width, F = config.ffnWidth, NH = config.heads
        let L = keepsLayers ? config.layers : 1
        let attRows = N * NH * maxT
        var sizes: [Int] = [
            N * C, N * C, N, N, N * C,                 // inp emb embMean embRstd x
            L * N * 3 * C, L * attRows, N * C,         // qkv att atty
            L * N * C, L * N, L * N, N * C,            // res1 ln1Mean ln1Rstd ln1
            L * N * F, N * F,                          // fch fchGelu
            L * N * C, L * N, L * N,                   // res2 ln2Mean ln2Rstd
            N * C, N * C, N,                           // pooled output poolNorm (B <= N)
        ]
        if keepsLayers {
            sizes += [N * C, N * C, N * C, N * C, N * 3 * C, N * F, N * F, scratchSlots * maxT * maxT, N * C, N * C]
        }
        blockCount = sizes.reduce(0, +)
        block = .allocate(capacity: blockCount)
        block.initialize(repeating: 0, count: blockCount)
        var cursor = block
        var i = 0
        func next() -> UnsafeMutablePointer<Float> {
            defer { cursor += sizes[i]; i += 1 }
            return cursor
        }
        inp = next(); emb = next(); embMean = next(); embRstd = next(); x = next()
        qkv = next(); att = next(); atty = next()
        res1 = next(); ln1Mean = next(); ln1Rstd = next(); ln1 = next()
        fch = next(); fchGelu = next()
        res2 = next(); ln2Mean = next(); ln2Rstd = next()
        pooled = next(); output = next(); poolNorm = next()
        if keepsLayers {
            dx = next(); dres = next(); dln1 = next(); datty = next(); dqkv = next()
            dfchGelu = next(); dfch = next(); datt = next(); demb = next(); dpooled = next()
        } else {
            // Never used: backward refuses an inference-only cache.
            dx = block; dres = block; dln1 = block; datty = block; dqkv = block
            dfchGelu = block; dfch = block; datt = block; demb = block; dpooled = block
        }
    }

    deinit { block.deallocate() }

    /// The slice of a per-layer field for `layer`, `perLayer` floats apart.
    func slice(_ field: UnsafeMutablePointer<Float>, layer: Int, perLayer: Int) -> UnsafeMutablePointer<Float> {
        keepsLayers ? field + layer * perLayer : field
    }

    /// Whether a batch of B sequences of T positions fits.
    func fits(B: Int, T: Int, needsLayers: Bool) -> Bool {
        B * T <= capacity && T <= maxT && (keepsLayers || !needsLayers)
    }
}
