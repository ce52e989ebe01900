import Foundation
import PVecTensor

/// ComPT's prompt encoder: an MLP applied to each prompt row, d → d, GELU, d → d (with biases).
struct PromptEncoder: Sendable, Equatable {
    let width: Int
    var w1: [Float]   // [d, d]
    var b1: [Float]   // [d]
    var w2: [Float]   // [d, d]
    var b2: [Float]   // [d]

    /// Weights and biases uniform in ±1/√d (PyTorch's `nn.Linear` default).
    init(width d: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let bound = 1 / Float(d).squareRoot()
        width = d
        w1 = MixKernels.uniform(d * d, bound: bound, rng: &rng)
        b1 = MixKernels.uniform(d, bound: bound, rng: &rng)
        w2 = MixKernels.uniform(d * d, bound: bound, rng: &rng)
        b2 = MixKernels.uniform(d, bound: bound, rng: &rng)
    }

    init(tensors t: [String: Tensor], prefix: String) throws {
        guard let w1 = t["\(prefix).W1"], let b1 = t["\(prefix).b1"], let w2 = t["\(prefix).W2"], let b2 = t["\(prefix).b2"],
              w1.shape.rank == 2, w1.shape.dims[0] == w1.shape.dims[1], w2.shape == w1.shape,
              b1.count == w1.shape.dims[0], b2.count == b1.count else {
            throw TrainError.badModule("a ComPT module needs \(prefix).W1/W2 [d, d] and \(prefix).b1/b2 [d]")
        }
        width = w1.shape.dims[0]
        self.w1 = w1.scalars
        self.b1 = b1.scalars
        self.w2 = w2.scalars
        self.b2 = b2.scalars
    }

    func tensors(prefix: String) -> [String: Tensor] {
        let d = width
        return ["\(prefix).W1": Tensor(shape: [d, d], scalars: w1), "\(prefix).b1": Tensor(shape: [d], scalars: b1),
                "\(prefix).W2": Tensor(shape: [d, d], scalars: w2), "\(prefix).b2": Tensor(shape: [d], scalars: b2)]
    }

    struct Cache { var x: [Float], z: [Float], h: [Float], N: Int }

    /// x: [N, d] -> y: [N, d] = GELU(x W1 + b1) W2 + b2.
    func forward(_ x: [Float]) -> (y: [Float], cache: Cache) {
        let d = width, N = x.count / d
        let z = MixKernels.linearForward(x, w1, bias: b1, N: N, IN: d, OUT: d)
        let h = MixKernels.geluForward(z)
        return (MixKernels.linearForward(h, w2, bias: b2, N: N, IN: d, OUT: d), Cache(x: x, z: z, h: h, N: N))
    }

    struct Gradients {
        var w1: [Float], b1: [Float], w2: [Float], b2: [Float]
        init(width d: Int) {
            w1 = [Float](repeating: 0, count: d * d); b1 = [Float](repeating: 0, count: d)
            w2 = w1; b2 = b1
        }
    }

    /// dy: [N, d] -> dx: [N, d] +=, grads +=.
    func backward(dy: [Float], cache c: Cache, grads: inout Gradients, dx: inout [Float]) {
        let d = width, N = c.N
        grads.b2.withUnsafeMutableBufferPointer { db in
            MixKernels.linearBackwardWeight(&grads.w2, dbias: db, dy: dy, x: c.h, N: N, IN: d, OUT: d)
        }
        var dh = [Float](repeating: 0, count: N * d)
        MixKernels.linearBackwardInput(&dh, dy: dy, W: w2, N: N, IN: d, OUT: d)
        var dz = [Float](repeating: 0, count: N * d)
        MixKernels.geluBackward(&dz, dy: dh, x: c.z)
        grads.b1.withUnsafeMutableBufferPointer { db in
            MixKernels.linearBackwardWeight(&grads.w1, dbias: db, dy: dz, x: c.x, N: N, IN: d, OUT: d)
        }
        MixKernels.linearBackwardInput(&dx, dy: dz, W: w1, N: N, IN: d, OUT: d)
    }
}

/// How ComPT composes a task's private prompt with the shared source prompts.
public enum ComPTComposition: String, Sendable, CaseIterable {
    /// P_t = E_u(P_u) + Σ_s w_ts E_s(P_s)              [l, d]
    case ssum
    /// P_t = E_u(P_u) ⊙ Σ_s w_ts E_s(P_s)              [l, d]
    case msum
    /// P_t = E_u(P_u) ⊙ concat_s(w_ts E_s(P_s))        [M·l, d] (P_u is M·l rows long)
    case mcat

    /// Rows of the private prompt (and of the composed prompt) for M sources of l rows.
    func privateRows(sourceRows l: Int, sources M: Int) -> Int { self == .mcat ? M * l : l }
}

/// ComPT's composition, router and prompt encoders (Pouramini & Faili, "Enhancing Few-Shot Transfer
/// Learning with Optimized Multi-Task Prompt Tuning through Modular Prompt Composition", 2024).
///
/// M shared source prompts P_s `[l, d]` and one private prompt P_u per task pass through prompt
/// encoders (one encoder shared by the sources, one shared by the private prompts); a router
/// holds logits w[t, s] (tasks × sources). In training the weights are samples of a Relaxed
/// Bernoulli (Maddison et al. 2017), w = σ((logit + log u − log(1 − u)) / τ) with u ~ U(0, 1)
/// and τ annealed linearly from 5 to 1e-3; at inference they are softmax_s(logits[t]).
struct ComPTModule: Sendable, Equatable {
    var composition: ComPTComposition
    var sourceEncoder: PromptEncoder
    var privateEncoder: PromptEncoder
    /// [T, M]
    var routerLogits: [Float]
    let tasks: Int
    let sources: Int

    init(width d: Int, tasks T: Int, sources M: Int, composition: ComPTComposition, seed: UInt64) {
        self.composition = composition
        sourceEncoder = PromptEncoder(width: d, seed: seed)
        privateEncoder = PromptEncoder(width: d, seed: seed &+ 1)
        routerLogits = [Float](repeating: 0, count: T * M)
        tasks = T
        sources = M
    }

    init(tensors t: [String: Tensor], composition: ComPTComposition) throws {
        guard let r = t["router_logits"], r.shape.rank == 2 else {
            throw TrainError.badModule("a ComPT module needs router_logits [T, M]")
        }
        self.composition = composition
        sourceEncoder = try PromptEncoder(tensors: t, prefix: "source_encoder")
        privateEncoder = try PromptEncoder(tensors: t, prefix: "private_encoder")
        routerLogits = r.scalars
        tasks = r.shape.dims[0]
        sources = r.shape.dims[1]
    }

    var tensors: [String: Tensor] {
        sourceEncoder.tensors(prefix: "source_encoder")
            .merging(privateEncoder.tensors(prefix: "private_encoder")) { a, _ in a }
            .merging(["router_logits": Tensor(shape: [tasks, sources], scalars: routerLogits)]) { a, _ in a }
    }

    // MARK: - Router

    /// Inference weights: softmax over the sources of each task's logits, `[T, M]`.
    var inferenceWeights: [Float] { MixKernels.softmaxRows(routerLogits, N: tasks, K: sources) }

    /// Training weights: Relaxed Bernoulli samples at temperature τ, and the noise used (`[T, M]` each).
    func sampledWeights(temperature tau: Float, rng: inout SplitMix64) -> [Float] {
        routerLogits.map { logit in
            let u = min(max(rng.nextFloat01(), 1e-6), 1 - 1e-6)
            let x = (logit + Foundation.log(u) - Foundation.log(1 - u)) / tau
            return 1 / (1 + Foundation.exp(-x))
        }
    }

    /// The annealed temperature at 0-based `step` of `total`: linear from 5 to 1e-3.
    static func temperature(at step: Int, total: Int, start: Float = 5, end: Float = 1e-3) -> Float {
        guard total > 1 else { return end }
        return start + (end - start) * Float(step) / Float(total - 1)
    }

    // MARK: - Composition

    /// es: [M·l, d] encoded sources, eu: [rows, d] one encoded private prompt, w: [M] -> P_t: [rows, d].
    static func compose(_ c: ComPTComposition, es: ArraySlice<Float>, eu: ArraySlice<Float>, w: ArraySlice<Float>,
                        l: Int, d: Int) -> [Float] {
        let M = w.count, n = l * d
        let es = Array(es), eu = Array(eu), w = Array(w)
        switch c {
        case .ssum, .msum:
            var mix = [Float](repeating: 0, count: n)
            for s in 0..<M { for i in 0..<n { mix[i] += w[s] * es[s * n + i] } }
            return c == .ssum ? zip(eu, mix).map(+) : zip(eu, mix).map(*)
        case .mcat:
            var out = [Float](repeating: 0, count: M * n)
            for s in 0..<M { for i in 0..<n { out[s * n + i] = eu[s * n + i] * w[s] * es[s * n + i] } }
            return out
        }
    }

    /// dP: [rows, d] -> des: [M·l, d] +=, deu: [rows, d] +=, dw: [M] +=.
    static func composeBackward(_ c: ComPTComposition, dP: ArraySlice<Float>, es: [Float], eu: ArraySlice<Float>,
                                w: ArraySlice<Float>, l: Int, d: Int,
                                des: inout [Float], deu: inout [Float], euOffset: Int, dw: inout [Float], wOffset: Int) {
        let M = w.count, n = l * d
        let dP = Array(dP), eu = Array(eu), w = Array(w)
        switch c {
        case .ssum:
            for i in 0..<n { deu[euOffset + i] += dP[i] }
            for s in 0..<M {
                var dot: Float = 0
                for i in 0..<n { des[s * n + i] += w[s] * dP[i]; dot += dP[i] * es[s * n + i] }
                dw[wOffset + s] += dot
            }
        case .msum:
            var mix = [Float](repeating: 0, count: n)
            for s in 0..<M { for i in 0..<n { mix[i] += w[s] * es[s * n + i] } }
            for i in 0..<n { deu[euOffset + i] += dP[i] * mix[i] }
            for s in 0..<M {
                var dot: Float = 0
                for i in 0..<n {
                    let dmix = dP[i] * eu[i]
                    des[s * n + i] += w[s] * dmix
                    dot += dmix * es[s * n + i]
                }
                dw[wOffset + s] += dot
            }
        case .mcat:
            for s in 0..<M {
                var dot: Float = 0
                for i in 0..<n {
                    let k = s * n + i
                    deu[euOffset + k] += dP[k] * w[s] * es[k]
                    let dc = dP[k] * eu[k]
                    des[k] += w[s] * dc
                    dot += dc * es[k]
                }
                dw[wOffset + s] += dot
            }
        }
    }

    // MARK: - Whole forward / backward

    struct Cache {
        var es: [Float]             // [M·l, d]
        var eu: [Float]             // [T·rows, d]
        var sourceCache: PromptEncoder.Cache
        var privateCache: PromptEncoder.Cache
        var w: [Float]              // [T, M]
        var tau: Float?             // nil: inference weights (softmax)
    }

    /// sources: M × [l, d], privates: T × [rows, d], weights `[T, M]` -> composed T × [rows, d].
    func forward(sources: [Tensor], privates: [Tensor], weights w: [Float], tau: Float?) -> (prompts: [Tensor], cache: Cache) {
        let d = sourceEncoder.width, l = sources[0].shape.rows, M = sources.count, T = privates.count
        let rows = composition.privateRows(sourceRows: l, sources: M)
        precondition(privates.allSatisfy { $0.shape.dims == [rows, d] }, "ComPT: private prompts must be [\(rows), \(d)]")
        let (es, sc) = sourceEncoder.forward(sources.flatMap(\.scalars))
        let (eu, pc) = privateEncoder.forward(privates.flatMap(\.scalars))
        let prompts = (0..<T).map { t in
            Tensor(shape: [rows, d], scalars: Self.compose(composition, es: es[...], eu: eu[(t * rows * d)..<((t + 1) * rows * d)],
                                                           w: w[(t * M)..<((t + 1) * M)], l: l, d: d))
        }
        return (prompts, Cache(es: es, eu: eu, sourceCache: sc, privateCache: pc, w: w, tau: tau))
    }

    struct Gradients {
        var sources: [Float]        // [M·l, d]
        var privates: [Float]       // [T·rows, d]
        var routerLogits: [Float]   // [T, M]
        var sourceEncoder: PromptEncoder.Gradients
        var privateEncoder: PromptEncoder.Gradients
    }

    /// dPrompts: [T, rows, d] (zeros for tasks not in the batch) -> grads += every trained tensor's gradient.
    /// The router gradient uses dw/dlogit = w (1 − w) / τ (Relaxed Bernoulli with the noise fixed).
    func backward(dPrompts: [Float], cache c: Cache, sourceRows l: Int, grads: inout Gradients) {
        let d = sourceEncoder.width, M = sources, T = tasks
        let rows = composition.privateRows(sourceRows: l, sources: M)
        var des = [Float](repeating: 0, count: M * l * d)
        var deu = [Float](repeating: 0, count: T * rows * d)
        var dw = [Float](repeating: 0, count: T * M)
        for t in 0..<T {
            Self.composeBackward(composition, dP: dPrompts[(t * rows * d)..<((t + 1) * rows * d)], es: c.es,
                                 eu: c.eu[(t * rows * d)..<((t + 1) * rows * d)], w: c.w[(t * M)..<((t + 1) * M)],
                                 l: l, d: d, des: &des, deu: &deu, euOffset: t * rows * d, dw: &dw, wOffset: t * M)
        }
        if let tau = c.tau {
            for i in dw.indices { grads.routerLogits[i] += dw[i] * c.w[i] * (1 - c.w[i]) / tau }
        } else {
            MixKernels.softmaxRowsBackward(&grads.routerLogits, dy: dw, y: c.w, N: T, K: M)
        }
        sourceEncoder.backward(dy: des, cache: c.sourceCache, grads: &grads.sourceEncoder, dx: &grads.sources)
        privateEncoder.backward(dy: deu, cache: c.privateCache, grads: &grads.privateEncoder, dx: &grads.privates)
    }

    func zeroGradients(sourceRows l: Int) -> Gradients {
        let d = sourceEncoder.width, rows = composition.privateRows(sourceRows: l, sources: sources)
        return Gradients(sources: [Float](repeating: 0, count: sources * l * d),
                         privates: [Float](repeating: 0, count: tasks * rows * d),
                         routerLogits: [Float](repeating: 0, count: tasks * sources),
                         sourceEncoder: .init(width: d), privateEncoder: .init(width: d))
    }
}
