import Foundation
import PVecTensor
import XCTest
@testable import PVecModel
@testable import PVecTrain

/// The composition modules' Float32 backward passes against central finite differences of
/// independent Float64 reference forwards, on small dimensions, with the synthetic loss
/// L = Σ R ⊙ output for a fixed random R; and ATTEMPT end to end through a tiny random BERT.
final class MixtureGradientTests: XCTestCase {
    static func uniform(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in scale * (2 * rng.nextFloat01() - 1) }
    }

    /// max |analytic − FD| / max |FD| over the listed entries of one parameter.
    func check(_ what: String, analytic: [Float], params: [Double], h: Double = 1e-5,
               loss: ([Double]) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        var maxdiff = 0.0, maxgrad = 0.0
        for i in params.indices {
            var p = params, q = params
            p[i] += h
            q[i] -= h
            let fd = (loss(p) - loss(q)) / (2 * h)
            maxdiff = max(maxdiff, abs(fd - Double(analytic[i])))
            maxgrad = max(maxgrad, abs(fd))
        }
        print("\(what) vs Float64 central FD: maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / max(maxgrad, 1e-30))")
        XCTAssertGreaterThan(maxgrad, 0, what, file: file, line: line)
        XCTAssertLessThan(maxdiff / maxgrad, 2e-3, what, file: file, line: line)
    }

    /// Central differences for a Float32 parameter: `loss(i, δ)` is the loss with entry i moved
    /// by δ. Returns max |analytic − FD| and max |FD| over `indices`.
    func fdError(_ indices: some Sequence<Int>, analytic: (Int) -> Float, h: Float = 1e-2,
                 loss: (Int, Float) throws -> Double) rethrows -> (diff: Double, grad: Double) {
        var maxdiff = 0.0, maxgrad = 0.0
        for i in indices {
            let fd = try (loss(i, h) - loss(i, -h)) / Double(2 * h)
            maxdiff = max(maxdiff, abs(fd - Double(analytic(i))))
            maxgrad = max(maxgrad, abs(fd))
        }
        return (maxdiff, maxgrad)
    }

    // MARK: - Float64 references

    static func matmul(_ a: [Double], _ b: [Double], _ N: Int, _ K: Int, _ M: Int) -> [Double] {
        var y = [Double](repeating: 0, count: N * M)
        for n in 0..<N { for k in 0..<K { let x = a[n * K + k]; for m in 0..<M { y[n * M + m] += x * b[k * M + m] } } }
        return y
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let mx = x.max()!
        let e = x.map { Foundation.exp($0 - mx) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func maxPool(_ x: [Double], _ R: Int, _ C: Int) -> [Double] {
        (0..<C).map { c in (0..<R).map { x[$0 * C + c] }.max()! }
    }

    /// ATTEMPT: instance prompts [B, m, d] of the module in Float64.
    static func attemptRef(xhat: [Double], sources: [[Double]], target: [Double], wDown: [Double], wUp: [Double],
                           gain: [Double], bias: [Double], B: Int, m: Int, d: Int, r: Int, T: Double) -> [Double] {
        let z = matmul(xhat, wDown, B, d, r)
        let h = z.map { $0 / (1 + Foundation.exp(-$0)) }
        let u = matmul(h, wUp, B, r, d)
        let prompts = sources + [target]
        let phat = prompts.map { maxPool($0, m, d) }
        var out: [Double] = []
        for b in 0..<B {
            let row = Array(u[(b * d)..<((b + 1) * d)])
            let mu = row.reduce(0, +) / Double(d)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(d)
            let H = (0..<d).map { (row[$0] - mu) / (v + 1e-5).squareRoot() * gain[$0] + bias[$0] }
            let a = softmax(phat.map { p in (0..<d).reduce(0.0) { $0 + p[$1] * H[$1] } / T })
            var p = target
            for j in prompts.indices { for i in 0..<(m * d) { p[i] += a[j] * prompts[j][i] } }
            out += p
        }
        return out
    }

    func testAttemptModuleGradients() {
        let B = 3, m = 2, d = 6, r = 4, k = 2
        var g = AttemptModule(width: d, rank: r, seed: 5)
        g.lnGain = Self.uniform(d, seed: 6, scale: 1).map { 1 + 0.5 * $0 }
        g.lnBias = Self.uniform(d, seed: 7, scale: 0.3)
        g.temperature = 0.7     // a small T makes the attention (and its gradient) far from uniform
        let xhat = Self.uniform(B * d, seed: 8)
        let sources = (0..<k).map { Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 9 + UInt64($0))) }
        let target = Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 20))
        let R = Self.uniform(B * m * d, seed: 21)
        let (_, _, cache) = g.forward(xhat: xhat, sources: sources, target: target)
        var grads = AttemptModule.Gradients(width: d, rank: r, promptCount: m * d)
        g.backward(dPrompts: R, cache: cache, sources: sources, target: target, grads: &grads)

        let D = { (x: [Float]) in x.map(Double.init) }
        func loss(_ wDown: [Double]? = nil, _ wUp: [Double]? = nil, _ gain: [Double]? = nil, _ bias: [Double]? = nil, _ t: [Double]? = nil) -> Double {
            let out = Self.attemptRef(xhat: D(xhat), sources: sources.map { D($0.scalars) }, target: t ?? D(target.scalars),
                                      wDown: wDown ?? D(g.wDown), wUp: wUp ?? D(g.wUp), gain: gain ?? D(g.lnGain),
                                      bias: bias ?? D(g.lnBias), B: B, m: m, d: d, r: r, T: Double(g.temperature))
            return zip(out, R).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        // The Float32 forward matches the reference.
        let (prompts, _, _) = g.forward(xhat: xhat, sources: sources, target: target)
        let ref = Self.attemptRef(xhat: D(xhat), sources: sources.map { D($0.scalars) }, target: D(target.scalars), wDown: D(g.wDown),
                                  wUp: D(g.wUp), gain: D(g.lnGain), bias: D(g.lnBias), B: B, m: m, d: d, r: r, T: Double(g.temperature))
        let fwd = zip(prompts.flatMap(\.scalars), ref).map { abs(Double($0) - $1) }.max()!
        print("ATTEMPT forward vs Float64 reference: maxdiff \(fwd)")
        XCTAssertLessThan(fwd, 1e-5)
        check("ATTEMPT dL/dW_down", analytic: grads.wDown, params: D(g.wDown)) { loss($0) }
        check("ATTEMPT dL/dW_up", analytic: grads.wUp, params: D(g.wUp)) { loss(nil, $0) }
        check("ATTEMPT dL/dln_gain", analytic: grads.lnGain, params: D(g.lnGain)) { loss(nil, nil, $0) }
        check("ATTEMPT dL/dln_bias", analytic: grads.lnBias, params: D(g.lnBias)) { loss(nil, nil, nil, $0) }
        check("ATTEMPT dL/dP_target", analytic: grads.target, params: D(target.scalars)) { loss(nil, nil, nil, nil, $0) }
    }

    /// DAM: targets [n, l, d] in Float64.
    static func damRef(sources: [Double], wQ: [Double], wK: [Double], wV: [Double], n: Int, l: Int, d: Int, k: Int,
                       pooling: DAMModule.Pooling) -> [Double] {
        let R = n * l
        let Q = matmul(sources, wQ, R, d, k), K = matmul(sources, wK, R, d, k), V = matmul(sources, wV, R, d, d)
        var S = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                switch pooling {
                case .mean:
                    for a in 0..<l { for b in 0..<l { for c in 0..<k { S[i * n + j] += Q[(i * l + a) * k + c] * K[(j * l + b) * k + c] } } }
                    S[i * n + j] /= Double(l * l)
                case .max:
                    let q = maxPool(Array(Q[(i * l * k)..<((i + 1) * l * k)]), l, k)
                    let kk = maxPool(Array(K[(j * l * k)..<((j + 1) * l * k)]), l, k)
                    S[i * n + j] = zip(q, kk).reduce(0) { $0 + $1.0 * $1.1 }
                }
            }
        }
        var out = [Double](repeating: 0, count: n * l * d)
        for i in 0..<n {
            let a = softmax(Array(S[(i * n)..<((i + 1) * n)]))
            for j in 0..<n { for e in 0..<(l * d) { out[i * l * d + e] += a[j] * V[j * l * d + e] } }
        }
        return out
    }

    func testDAMGradientsBothPoolings() {
        let n = 3, l = 2, d = 5, k = 3
        for pooling in DAMModule.Pooling.allCases {
            var g = DAMModule(width: d, keyWidth: k, pooling: pooling, seed: 3)
            g.wQ = Self.uniform(d * k, seed: 4, scale: 1.5)
            g.wK = Self.uniform(d * k, seed: 5, scale: 1.5)
            g.wV = Self.uniform(d * d, seed: 6)
            let sources = (0..<n).map { Tensor(shape: [l, d], scalars: Self.uniform(l * d, seed: 10 + UInt64($0))) }
            let R = Self.uniform(n * l * d, seed: 30)
            let (targets, _, cache) = g.forwardCached(sources: sources)
            var grads = DAMModule.Gradients(width: d, keyWidth: k)
            g.backward(dTargets: R, cache: cache, grads: &grads)
            let D = { (x: [Float]) in x.map(Double.init) }
            let P = D(sources.flatMap(\.scalars))
            func loss(_ q: [Double]? = nil, _ kk: [Double]? = nil, _ v: [Double]? = nil) -> Double {
                let out = Self.damRef(sources: P, wQ: q ?? D(g.wQ), wK: kk ?? D(g.wK), wV: v ?? D(g.wV), n: n, l: l, d: d, k: k, pooling: pooling)
                return zip(out, R).reduce(0) { $0 + $1.0 * Double($1.1) }
            }
            let ref = Self.damRef(sources: P, wQ: D(g.wQ), wK: D(g.wK), wV: D(g.wV), n: n, l: l, d: d, k: k, pooling: pooling)
            let fwd = zip(targets.flatMap(\.scalars), ref).map { abs(Double($0) - $1) }.max()!
            print("DAM (\(pooling)) forward vs Float64 reference: maxdiff \(fwd)")
            XCTAssertLessThan(fwd, 1e-5)
            check("DAM (\(pooling)) dL/dW_Q", analytic: grads.wQ, params: D(g.wQ)) { loss($0) }
            check("DAM (\(pooling)) dL/dW_K", analytic: grads.wK, params: D(g.wK)) { loss(nil, $0) }
            check("DAM (\(pooling)) dL/dW_V", analytic: grads.wV, params: D(g.wV)) { loss(nil, nil, $0) }
        }
    }

    func testDAMBlockScoresByOneGemmEqualTheBlockLoop() {
        let n = 4, l = 3, k = 5
        let Q = Self.uniform(n * l * k, seed: 1), K = Self.uniform(n * l * k, seed: 2)
        let a = DAMModule.blockScores(Q: Q, K: K, n: n, l: l, k: k)
        let b = DAMModule.blockScoresLoop(Q: Q, K: K, n: n, l: l, k: k)
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5)
    }

    /// ComPT: composed prompts [T, rows, d] in Float64; `noise` nil means inference (softmax) weights.
    static func comptRef(_ c: ComPTComposition, sources: [Double], privates: [Double], enc: [[Double]], logits: [Double],
                         noise: [Double]?, tau: Double, M: Int, T: Int, l: Int, d: Int) -> [Double] {
        func encode(_ x: [Double], _ p: ArraySlice<[Double]>) -> [Double] {
            let p = Array(p), N = x.count / d
            var z = matmul(x, p[0], N, d, d)
            for i in z.indices { z[i] += p[1][i % d] }
            let h = z.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
            var y = matmul(h, p[2], N, d, d)
            for i in y.indices { y[i] += p[3][i % d] }
            return y
        }
        let es = encode(sources, enc[0..<4]), eu = encode(privates, enc[4..<8])
        let rows = c.privateRows(sourceRows: l, sources: M), n = l * d
        var out: [Double] = []
        for t in 0..<T {
            let lg = Array(logits[(t * M)..<((t + 1) * M)])
            let w: [Double] = noise.map { nz in (0..<M).map { 1 / (1 + Foundation.exp(-(lg[$0] + nz[t * M + $0]) / tau)) } } ?? softmax(lg)
            let u = Array(eu[(t * rows * d)..<((t + 1) * rows * d)])
            switch c {
            case .ssum, .msum:
                var mix = [Double](repeating: 0, count: n)
                for s in 0..<M { for i in 0..<n { mix[i] += w[s] * es[s * n + i] } }
                out += c == .ssum ? zip(u, mix).map(+) : zip(u, mix).map(*)
            case .mcat:
                for s in 0..<M { for i in 0..<n { out.append(u[s * n + i] * w[s] * es[s * n + i]) } }
            }
        }
        return out
    }

    func testComPTGradientsEveryCompositionTrainingAndInference() {
        let M = 2, T = 2, l = 2, d = 4
        for composition in ComPTComposition.allCases {
            for training in [true, false] {
                var g = ComPTModule(width: d, tasks: T, sources: M, composition: composition, seed: 11)
                g.routerLogits = Self.uniform(T * M, seed: 12)
                let rows = composition.privateRows(sourceRows: l, sources: M)
                let sources = (0..<M).map { Tensor(shape: [l, d], scalars: Self.uniform(l * d, seed: 13 + UInt64($0))) }
                let privates = (0..<T).map { Tensor(shape: [rows, d], scalars: Self.uniform(rows * d, seed: 20 + UInt64($0))) }
                let noise = Self.uniform(T * M, seed: 30, scale: 2)
                let tau: Float = 1.5
                let w: [Float] = training
                    ? (0..<(T * M)).map { 1 / (1 + Foundation.exp(-(g.routerLogits[$0] + noise[$0]) / tau)) }
                    : g.inferenceWeights
                let (prompts, cache) = g.forward(sources: sources, privates: privates, weights: w, tau: training ? tau : nil)
                let R = Self.uniform(T * rows * d, seed: 40)
                var grads = g.zeroGradients(sourceRows: l)
                g.backward(dPrompts: R, cache: cache, sourceRows: l, grads: &grads)
                let D = { (x: [Float]) in x.map(Double.init) }
                let enc = [g.sourceEncoder.w1, g.sourceEncoder.b1, g.sourceEncoder.w2, g.sourceEncoder.b2,
                           g.privateEncoder.w1, g.privateEncoder.b1, g.privateEncoder.w2, g.privateEncoder.b2].map(D)
                let S = D(sources.flatMap(\.scalars)), U = D(privates.flatMap(\.scalars))
                func loss(s: [Double]? = nil, u: [Double]? = nil, e: [[Double]]? = nil, lg: [Double]? = nil) -> Double {
                    let out = Self.comptRef(composition, sources: s ?? S, privates: u ?? U, enc: e ?? enc, logits: lg ?? D(g.routerLogits),
                                            noise: training ? D(noise) : nil, tau: Double(tau), M: M, T: T, l: l, d: d)
                    return zip(out, R).reduce(0) { $0 + $1.0 * Double($1.1) }
                }
                let ref = Self.comptRef(composition, sources: S, privates: U, enc: enc, logits: D(g.routerLogits),
                                        noise: training ? D(noise) : nil, tau: Double(tau), M: M, T: T, l: l, d: d)
                let fwd = zip(prompts.flatMap(\.scalars), ref).map { abs(Double($0) - $1) }.max()!
                let tag = "ComPT \(composition.rawValue) \(training ? "relaxed-Bernoulli" : "softmax")"
                print("\(tag) forward vs Float64 reference: maxdiff \(fwd)")
                XCTAssertLessThan(fwd, 1e-5)
                check("\(tag) dL/dsources", analytic: grads.sources, params: S) { loss(s: $0) }
                check("\(tag) dL/dprivates", analytic: grads.privates, params: U) { loss(u: $0) }
                check("\(tag) dL/drouter", analytic: grads.routerLogits, params: D(g.routerLogits)) { loss(lg: $0) }
                let encGrads = [grads.sourceEncoder.w1, grads.sourceEncoder.b1, grads.sourceEncoder.w2, grads.sourceEncoder.b2,
                                grads.privateEncoder.w1, grads.privateEncoder.b1, grads.privateEncoder.w2, grads.privateEncoder.b2]
                for (k, name) in ["src.W1", "src.b1", "src.W2", "src.b2", "priv.W1", "priv.b1", "priv.W2", "priv.b2"].enumerated() {
                    check("\(tag) dL/d\(name)", analytic: encGrads[k], params: enc[k]) { p in
                        var e = enc
                        e[k] = p
                        return loss(e: e)
                    }
                }
            }
        }
    }

    func testTemperatureAnnealsLinearlyFrom5To1e3() {
        XCTAssertEqual(ComPTModule.temperature(at: 0, total: 11), 5)
        XCTAssertEqual(ComPTModule.temperature(at: 10, total: 11), 1e-3, accuracy: 1e-6)
        XCTAssertEqual(ComPTModule.temperature(at: 5, total: 11), (5 + 1e-3) / 2, accuracy: 1e-5)
    }

    // MARK: - End to end through a tiny BERT

    static let tinyConfig = BertConfig(vocabularySize: 50, width: 16, layers: 2, heads: 2, ffnWidth: 32,
                                       maxPositions: 32, typeVocabularySize: 2, layerNormEpsilon: 1e-12)
    static func tinyEncoder() throws -> BertEncoder {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + (4..<tinyConfig.vocabularySize).map { "w\($0)" }
        return BertEncoder(parameters: BertParameters(random: tinyConfig, seed: 7),
                           tokenizer: try WordPieceTokenizer(vocabulary: vocab), modelID: "test/tiny-bert")
    }
    static let tinyBatch: [TokenizedText] = [
        TokenizedText(ids: [2, 10, 11, 12, 3], typeIds: [0, 0, 0, 0, 0]),
        TokenizedText(ids: [2, 20, 21, 3], typeIds: [0, 0, 0, 0]),
        TokenizedText(ids: [2, 44, 3], typeIds: [0, 0, 0]),
    ]

    /// ATTEMPT's module and target through the tiny BERT: L = Σ_b r_b · f(P(X_b)). Central
    /// differences of the Float32 model in Float64 arithmetic with a larger step (the model has
    /// its own Float64 check in PVecModelTests).
    func testAttemptEndToEndThroughTinyBert() throws {
        let model = try Self.tinyEncoder()
        let d = 16, m = 2, r = 3, B = Self.tinyBatch.count
        var g = AttemptModule(width: d, rank: r, seed: 2)
        g.temperature = 0.5
        let sources = (0..<2).map { Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 50 + UInt64($0), scale: 0.5)) }
        let target = Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 60, scale: 0.5))
        let rr = Tensor(shape: [B, d], scalars: Self.uniform(B * d, seed: 61))
        var cacheRows: [Int: [Float]] = [:]
        let xhat = AttemptInputs.pooledEmbeddings(Self.tinyBatch, model: model, cache: &cacheRows)
        func loss(_ gg: AttemptModule, _ t: Tensor) throws -> Double {
            let (p, _, _) = gg.forward(xhat: xhat, sources: sources, target: t)
            let f = try model.forward(Self.tinyBatch, prompts: p, normalize: true)
            return zip(f.scalars, rr.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (p, _, cache) = g.forward(xhat: xhat, sources: sources, target: target)
        _ = try model.forward(Self.tinyBatch, prompts: p, normalize: true)
        let dP = try model.backward(dFeatures: rr, inputGradients: false).promptPerExample!
        var grads = AttemptModule.Gradients(width: d, rank: r, promptCount: m * d)
        g.backward(dPrompts: dP.scalars, cache: cache, sources: sources, target: target, grads: &grads)
        let et = try fdError(0..<(m * d), analytic: { grads.target[$0] }) { i, h in
            var t = target
            t.scalars[i] += h
            return try loss(g, t)
        }
        let ew = try fdError(stride(from: 0, to: d * r, by: 5), analytic: { grads.wDown[$0] }) { i, h in
            var gg = g
            gg.wDown[i] += h
            return try loss(gg, target)
        }
        let maxdiff = max(et.diff, ew.diff), maxgrad = max(et.grad, ew.grad)
        print("ATTEMPT through tiny BERT (P_t, W_down) vs central FD: maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / maxgrad)")
        XCTAssertLessThan(maxdiff / maxgrad, 2e-2)
    }

    /// Multi-task ATTEMPT: each example is composed with its own task's target, G is shared. The
    /// batch's gradients (per-task targets, shared W_down) against central differences of the
    /// whole batch's loss, through the tiny BERT.
    func testMultiTaskAttemptBatchGradients() throws {
        let model = try Self.tinyEncoder()
        let d = 16, m = 2, r = 3, B = Self.tinyBatch.count
        var g = AttemptModule(width: d, rank: r, seed: 4)
        g.temperature = 0.5
        let sources = (0..<2).map { Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 70 + UInt64($0), scale: 0.5)) }
        let targets = (0..<2).map { Tensor(shape: [m, d], scalars: Self.uniform(m * d, seed: 80 + UInt64($0), scale: 0.5)) }
        let tasks = (0..<B).map { $0 % 2 == 0 ? 1 : 0 }
        XCTAssertEqual(Set(tasks), [0, 1], "the batch mixes both tasks")
        let rr = Tensor(shape: [B, d], scalars: Self.uniform(B * d, seed: 81))
        var cacheRows: [Int: [Float]] = [:]
        let xhat = AttemptInputs.pooledEmbeddings(Self.tinyBatch, model: model, cache: &cacheRows)
        func run(_ gg: AttemptModule, _ ts: [Tensor]) throws -> (Float, [[Float]], AttemptModule.Gradients) {
            try AttemptTrainer.batchGradients(model: model, batch: Self.tinyBatch, tasks: tasks, xhat: xhat, targets: ts,
                                              sources: sources, module: gg) { f in
                (zip(f.scalars, rr.scalars).reduce(0) { $0 + $1.0 * $1.1 }, rr)
            }
        }
        // Float64 sum of the same functional, for the differences.
        func loss(_ gg: AttemptModule, _ ts: [Tensor]) throws -> Double {
            var f: Tensor?
            _ = try AttemptTrainer.batchGradients(model: model, batch: Self.tinyBatch, tasks: tasks, xhat: xhat, targets: ts,
                                                  sources: sources, module: gg) { feats in f = feats; return (.nan, feats) }
            return zip(f!.scalars, rr.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (_, tg, mg) = try run(g, targets)
        var errors = try (0..<2).map { t in
            try fdError(0..<(m * d), analytic: { tg[t][$0] }) { i, h in
                var ts = targets
                ts[t].scalars[i] += h
                return try loss(g, ts)
            }
        }
        errors.append(try fdError(stride(from: 0, to: d * r, by: 3), analytic: { mg.wDown[$0] }) { i, h in
            var gg = g
            gg.wDown[i] += h
            return try loss(gg, targets)
        })
        let maxdiff = errors.map(\.diff).max()!, maxgrad = errors.map(\.grad).max()!
        print("multi-task ATTEMPT batch (P_t per task, W_down) vs central FD: maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / maxgrad)")
        XCTAssertGreaterThan(maxgrad, 0)
        XCTAssertLessThan(maxdiff / maxgrad, 2e-2)
    }
}
