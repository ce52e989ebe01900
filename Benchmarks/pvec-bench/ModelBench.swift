import ArgumentParser
import Foundation
import PVecModel
import PVecStore
import PVecTensor
import PVecTrain

/// Issue 3: the frozen MiniLM forward + backward to a soft prompt, timed in process, with the
/// inputs, the label vectors and one step's prompt gradient written as .npy for the JAX peer
/// (`Benchmarks/peers/minilm_jax.py`), and the OpenBLAS sgemm rate on the shapes of a step.
extension PVecBench {
    struct ModelBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Time MiniLM forward+backward to a prompt; write inputs and gradient for the JAX peer.",
            discussion: """
            Writes ids.npy [B, tokens] (float32-held ids: [CLS] random ids [SEP]), prompt.npy [m, C], \
            labels.npy [2, C] (the embedded verbalizers of data/movie), targets.npy [B] and \
            grad_pvec.npy [m, C] (dL/dprompt of one step) into DIR, then prints JSON lines: \
            the step time, the sgemm-only replay of a step and the GFLOP/s of each sgemm shape.
            """)

        @Argument(help: "Folder for the .npy files.") var dir: String
        @Option(help: "Sequences per batch.") var batch = 16
        @Option(help: "Tokens per sequence, [CLS] and [SEP] included (no padding).") var tokens = 64
        @Option(help: "Prompt rows.") var promptLen = 20
        @Option(help: "Timed steps.") var steps = 20
        @Option(help: "Untimed steps first.") var warmup = 3
        @Option(help: "OpenBLAS threads.") var threads = 2
        @Option(help: "Seed of the token ids and the prompt rows.") var seed: UInt64 = 0
        @Option(help: "Repetitions of each sgemm shape (0: skip the sgemm figures).") var sgemmRuns = 20
        @Option(help: "Also tokenize this file (one sentence a line) into DIR/sentences_ids.json.")
        var sentences: String?
        @Flag(help: "Only write the files (and the sentence ids); time nothing.") var setupOnly = false

        func run() throws {
            BLAS.setThreads(threads)
            let encoder = try BertEncoder()
            let C = encoder.width, B = batch, m = promptLen
            let out = URL(fileURLWithPath: dir)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            func save(_ t: Tensor, _ name: String) throws {
                try Data(NPY.encode(t)).write(to: out.appendingPathComponent(name))
            }

            // Inputs: full-length sequences of random ordinary word pieces, no padding.
            var rng = SplitMix64(seed: seed)
            let cls = 101, sep = 102, firstOrdinary = 1000
            var batchTexts: [TokenizedText] = []
            for _ in 0..<B {
                var ids = [cls]
                for _ in 0..<(tokens - 2) {
                    ids.append(firstOrdinary + Int(rng.nextBelow(UInt64(encoder.vocabularySize - firstOrdinary))))
                }
                ids.append(sep)
                batchTexts.append(TokenizedText(ids: ids, typeIds: [Int](repeating: 0, count: ids.count)))
            }
            // The prompt: m word-embedding rows, as pvec's vocab-sample init starts from.
            var promptScalars: [Float] = []
            for _ in 0..<m {
                let r = firstOrdinary + Int(rng.nextBelow(UInt64(encoder.vocabularySize - firstOrdinary)))
                promptScalars += encoder.wordEmbeddings(rows: r..<(r + 1)).scalars
            }
            let prompt = Tensor(shape: [m, C], scalars: promptScalars)
            let verbalizers = ["This is negative, bad and sad.", "This is positive, good and happy."]
            let labelEmbeddings = Tensor(shape: [2, C], scalars: try encoder.embed(texts: verbalizers).flatMap { $0 })
            let scorer = LabelScorer(labelEmbeddings: labelEmbeddings, temperature: 0.05)
            let targets = (0..<B).map { $0 % 2 }

            try save(Tensor(shape: [B, tokens], scalars: batchTexts.flatMap { $0.ids.map(Float.init) }), "ids.npy")
            try save(prompt, "prompt.npy")
            try save(labelEmbeddings, "labels.npy")
            try save(Tensor(shape: [B], scalars: targets.map(Float.init)), "targets.npy")

            func step() throws -> (loss: Float, grad: Tensor) {
                let f = try encoder.forward(batchTexts, prompt: prompt, normalize: true)
                let (loss, df, _) = try scorer.lossAndGradient(f, labels: targets)
                let g = try encoder.backward(dFeatures: df)
                return (loss, g.prompt!)
            }
            let first = try step()
            try save(first.grad, "grad_pvec.npy")

            if let sentences {
                let text = try String(contentsOfFile: sentences, encoding: .utf8)
                let lines = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
                let ids = lines.map { encoder.tokenize($0).ids }
                let json = "[" + ids.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
                    .joined(separator: ",\n") + "]\n"
                try json.write(to: out.appendingPathComponent("sentences_ids.json"), atomically: true, encoding: .utf8)
            }
            if setupOnly { return }

            // Steady-state steps, each timed alone; forward and backward also apart.
            let T = tokens + m
            var stepMedian = Double.nan
            if steps > 0 {
                for _ in 0..<warmup { _ = try step() }
                var stepTimes: [Double] = [], fwdTimes: [Double] = [], bwdTimes: [Double] = []
                let cpu0 = processCPUSeconds()
                for _ in 0..<steps {
                    let t0 = now()
                    let f = try encoder.forward(batchTexts, prompt: prompt, normalize: true)
                    let t1 = now()
                    let (_, df, _) = try scorer.lossAndGradient(f, labels: targets)
                    let t2 = now()
                    _ = try encoder.backward(dFeatures: df)
                    let t3 = now()
                    stepTimes.append(t3 - t0)
                    fwdTimes.append(t1 - t0)
                    bwdTimes.append(t3 - t2)
                }
                let cpuPerStep = (processCPUSeconds() - cpu0) / Double(steps)
                stepMedian = median(stepTimes)
                emit([
                    "impl": "pvec", "case": "train-step", "batch": .int(Int64(B)), "positions": .int(Int64(T)),
                    "prompt_len": .int(Int64(m)), "threads": .int(Int64(threads)), "steps": .int(Int64(steps)),
                    "median_ms": .double(round3(stepMedian * 1e3)), "min_ms": .double(round3(stepTimes.min()! * 1e3)),
                    "forward_median_ms": .double(round3(median(fwdTimes) * 1e3)),
                    "backward_median_ms": .double(round3(median(bwdTimes) * 1e3)),
                    "examples_per_s": .double(round1(Double(B) / stepMedian)),
                    "cpu_ms_per_step": .double(round3(cpuPerStep * 1e3)),
                    "loss": .double(Double(first.loss)),
                    "step_times_ms": .array(stepTimes.map { .double(round3($0 * 1e3)) }),
                    "blas": .string(BLAS.configuration),
                ])
            }
            guard sgemmRuns > 0 else { return }

            // The sgemm calls of one step, replayed alone on scratch buffers of the same sizes.
            let plan = SgemmPlan(B: B, T: T, C: C, F: encoder.config.ffnWidth, NH: encoder.config.heads,
                                 layers: encoder.config.layers)
            for _ in 0..<2 { plan.replay() }
            var replay: [Double] = []
            for _ in 0..<max(5, sgemmRuns / 2) {
                let (_, s) = timed { plan.replay() }
                replay.append(s)
            }
            let replayMedian = median(replay)
            emit([
                "impl": "pvec", "case": "sgemm-replay", "calls": .int(Int64(plan.calls.count)),
                "gflop": .double(round3(plan.flops / 1e9)), "median_ms": .double(round3(replayMedian * 1e3)),
                "min_ms": .double(round3(replay.min()! * 1e3)),
                "gflops": .double(round1(plan.flops / replayMedian / 1e9)),
                "fraction_of_step": stepMedian.isNaN ? .null : .double(round3(replayMedian / stepMedian)),
            ])
            // The same calls as the encoder makes them: the batch in chunks of sequences
            // (PVecModel's SequenceChunks: min(B, 4) near-equal chunks), each chunk's calls on
            // one OpenBLAS thread, the chunks side by side on the cores.
            let chunkCount = min(B, 4)
            let chunkPlans = (0..<chunkCount).map { c in
                SgemmPlan(B: (c + 1) * B / chunkCount - c * B / chunkCount, T: T, C: C, F: encoder.config.ffnWidth,
                          NH: encoder.config.heads, layers: encoder.config.layers)
            }
            func chunkedReplay() {
                BLAS.singleThreaded {
                    DispatchQueue.concurrentPerform(iterations: chunkPlans.count) { c in chunkPlans[c].replay() }
                }
            }
            for _ in 0..<2 { chunkedReplay() }
            var chunked: [Double] = []
            for _ in 0..<max(5, sgemmRuns / 2) {
                let (_, s) = timed { chunkedReplay() }
                chunked.append(s)
            }
            let chunkedFlops = chunkPlans.reduce(0) { $0 + $1.flops }
            emit([
                "impl": "pvec", "case": "sgemm-chunked-replay", "chunks": .int(Int64(chunkCount)),
                "calls": .int(Int64(chunkPlans.reduce(0) { $0 + $1.calls.count })),
                "gflop": .double(round3(chunkedFlops / 1e9)), "median_ms": .double(round3(median(chunked) * 1e3)),
                "min_ms": .double(round3(chunked.min()! * 1e3)),
                "gflops": .double(round1(chunkedFlops / median(chunked) / 1e9)),
                "fraction_of_step": stepMedian.isNaN ? .null : .double(round3(median(chunked) / stepMedian)),
            ])
            for shape in plan.distinctShapes {
                let p = SgemmPlan(calls: [shape])
                for _ in 0..<2 { p.replay() }
                var times: [Double] = []
                // Small attention gemms repeat many times per sample so the clock can see them.
                let inner = max(1, Int(2e7 / max(shape.flops, 1)))
                for _ in 0..<sgemmRuns {
                    let (_, s) = timed { for _ in 0..<inner { p.replay() } }
                    times.append(s / Double(inner))
                }
                let t = median(times)
                emit([
                    "impl": "pvec", "case": "sgemm", "shape": .string(shape.label),
                    "per_step": .int(Int64(plan.calls.filter { $0 == shape }.count)),
                    "median_us": .double(round1(t * 1e6)), "gflops": .double(round1(shape.flops / t / 1e9)),
                    "min_us": .double(round1(times.min()! * 1e6)),
                    "best_gflops": .double(round1(shape.flops / times.min()! / 1e9)),
                ])
            }
        }
    }
}

/// The median of a non-empty sample.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// CPU time (user + system) of the whole process so far, in seconds.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// One sgemm call as BertEncoder makes it (row-major, leading dimensions included).
struct SgemmCall: Hashable {
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var lda: Int, ldb: Int, ldc: Int
    var beta: Float = 0
    var what: String

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    var label: String {
        "\(what): [\(m),\(k)]x[\(k),\(n)]\(transA ? " Aᵀ" : "")\(transB ? " Bᵀ" : "")"
    }
}

/// The sgemm calls of one forward + backward of BertEncoder on a full batch (no padding), on
/// buffers big enough for any of them, so they can be timed without the rest of the step.
/// Replays touch only the plan's own buffers, so plans may replay on different threads at once.
final class SgemmPlan: @unchecked Sendable {
    let calls: [SgemmCall]
    private let a: UnsafeMutablePointer<Float>
    private let b: UnsafeMutablePointer<Float>
    private let c: UnsafeMutablePointer<Float>
    private let sizes: (a: Int, b: Int, c: Int)

    init(calls: [SgemmCall]) {
        self.calls = calls
        func extent(rows: Int, ld: Int) -> Int { rows * ld }
        var sa = 1, sb = 1, sc = 1
        for x in calls {
            sa = max(sa, extent(rows: x.transA ? x.k : x.m, ld: x.lda))
            sb = max(sb, extent(rows: x.transB ? x.n : x.k, ld: x.ldb))
            sc = max(sc, extent(rows: x.m, ld: x.ldc))
        }
        sizes = (sa, sb, sc)
        a = .allocate(capacity: sa); b = .allocate(capacity: sb); c = .allocate(capacity: sc)
        var rng = SplitMix64(seed: 7)
        for i in 0..<sa { a[i] = rng.nextFloat01() - 0.5 }
        for i in 0..<sb { b[i] = rng.nextFloat01() - 0.5 }
        c.initialize(repeating: 0, count: sc)
    }

    convenience init(B: Int, T: Int, C: Int, F: Int, NH: Int, layers: Int) {
        let N = B * T, HS = C / NH, C3 = 3 * C
        var fwd: [SgemmCall] = [], bwd: [SgemmCall] = []
        // matmulForward: out[N, OC] = inp[N, IC] Wᵀ (W is [OC, IC]), beta 1 (bias preloaded).
        func linear(_ IC: Int, _ OC: Int, _ what: String) -> SgemmCall {
            SgemmCall(transB: true, m: N, n: OC, k: IC, lda: IC, ldb: IC, ldc: OC, beta: 1, what: what)
        }
        // matmulBackward: dinp[N, IC] += dout[N, OC] W.
        func linearBack(_ IC: Int, _ OC: Int, _ what: String) -> SgemmCall {
            SgemmCall(m: N, n: IC, k: OC, lda: OC, ldb: IC, ldc: IC, beta: 1, what: what)
        }
        let n = T
        for _ in 0..<layers {
            fwd.append(linear(C, C3, "qkv"))
            for _ in 0..<(B * NH) {
                fwd.append(SgemmCall(transB: true, m: n, n: n, k: HS, lda: C3, ldb: C3, ldc: T, what: "QKᵀ"))
                fwd.append(SgemmCall(m: n, n: HS, k: n, lda: T, ldb: C3, ldc: C, what: "PV"))
            }
            fwd.append(linear(C, C, "attn-proj"))
            fwd.append(linear(C, F, "fc1"))
            fwd.append(linear(F, C, "fc2"))
            bwd.append(linearBack(F, C, "fc2 back"))
            bwd.append(linearBack(C, F, "fc1 back"))
            bwd.append(linearBack(C, C, "attn-proj back"))
            for _ in 0..<(B * NH) {
                bwd.append(SgemmCall(transB: true, m: n, n: n, k: HS, lda: C, ldb: C3, ldc: n, what: "dO Vᵀ"))
                bwd.append(SgemmCall(transA: true, m: n, n: HS, k: n, lda: T, ldb: C, ldc: C3, beta: 1, what: "Pᵀ dO"))
                bwd.append(SgemmCall(m: n, n: HS, k: n, lda: n, ldb: C3, ldc: C3, beta: 1, what: "dS K"))
                bwd.append(SgemmCall(transA: true, m: n, n: HS, k: n, lda: n, ldb: C3, ldc: C3, beta: 1, what: "dSᵀ Q"))
            }
            bwd.append(linearBack(C, C3, "qkv back"))
        }
        self.init(calls: fwd + bwd)
    }

    deinit {
        a.deallocate(); b.deallocate(); c.deallocate()
    }

    var flops: Double { calls.reduce(0) { $0 + $1.flops } }

    /// Each distinct call once, in first-seen order.
    var distinctShapes: [SgemmCall] {
        var seen = Set<SgemmCall>()
        return calls.filter { seen.insert($0).inserted }
    }

    func replay() {
        for x in calls {
            BLAS.sgemm(transA: x.transA, transB: x.transB, m: x.m, n: x.n, k: x.k, alpha: 1,
                       a: a, lda: x.lda, b: b, ldb: x.ldb, beta: x.beta, c: c, ldc: x.ldc)
        }
    }
}
