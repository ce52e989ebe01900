import Foundation
@testable import PVecModel

/// A plain Float64 BERT forward, one sequence at a time with no padding, written
/// independently of the BLAS path so that it can serve as the reference for the Float32
/// forward and, through central finite differences, for its backward.
struct ReferenceBert {
    let config: BertConfig
    let w: [Double]
    let p: BertParameters

    init(_ parameters: BertParameters) {
        config = parameters.config
        p = parameters
        w = parameters.storage.map(Double.init)
    }

    /// The input rows of one sequence as the encoder lays them out: [CLS], prompt, tokens.
    /// `prepend`: the prompt rows before every token (PEFT's layout); else after `[CLS]`.
    func inputRows(_ seq: TokenizedText, prompt: [[Double]], prepend: Bool = false) -> (rows: [[Double]], types: [Int]) {
        let C = config.width
        func word(_ id: Int) -> [Double] { Array(w[(p.wordEmbeddings + id * C)..<(p.wordEmbeddings + (id + 1) * C)]) }
        if prepend {
            return (prompt + seq.ids.map(word), [Int](repeating: 0, count: prompt.count) + seq.typeIds)
        }
        var rows = [word(seq.ids[0])]
        var types = [seq.typeIds[0]]
        rows += prompt
        types += [Int](repeating: 0, count: prompt.count)
        for j in 1..<seq.count {
            rows.append(word(seq.ids[j]))
            types.append(seq.typeIds[j])
        }
        return (rows, types)
    }

    /// Mean-pooled (optionally normalised) output of one sequence given its input rows.
    func forward(rows: [[Double]], types: [Int], normalize: Bool) -> [Double] {
        let C = config.width, F = config.ffnWidth, NH = config.heads, HS = config.headWidth
        let T = rows.count
        let eps = Double(config.layerNormEpsilon)
        func vec(_ off: Int, _ n: Int) -> ArraySlice<Double> { w[off..<(off + n)] }
        func layernorm(_ x: [Double], _ g: Int, _ b: Int) -> [Double] {
            let mean = x.reduce(0, +) / Double(x.count)
            let v = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
            let r = 1 / (v + eps).squareRoot()
            return x.indices.map { (x[$0] - mean) * r * w[g + $0] + w[b + $0] }
        }
        func linear(_ x: [Double], _ weight: Int, _ bias: Int, out: Int) -> [Double] {
            (0..<out).map { o in
                var s = w[bias + o]
                let row = weight + o * x.count
                for i in x.indices { s += w[row + i] * x[i] }
                return s
            }
        }
        var x = (0..<T).map { t -> [Double] in
            let e = (0..<C).map { i in
                rows[t][i] + w[p.positionEmbeddings + t * C + i] + w[p.typeEmbeddings + types[t] * C + i]
            }
            return layernorm(e, p.embLnWeight, p.embLnBias)
        }
        for layer in p.layers {
            let qkv = x.map { linear($0, layer.qkvWeight, layer.qkvBias, out: 3 * C) }
            var atty = [[Double]](repeating: [Double](repeating: 0, count: C), count: T)
            for h in 0..<NH {
                for i in 0..<T {
                    var s = (0..<T).map { j -> Double in
                        var d = 0.0
                        for k in 0..<HS { d += qkv[i][h * HS + k] * qkv[j][C + h * HS + k] }
                        return d / Double(HS).squareRoot()
                    }
                    let mx = s.max()!
                    s = s.map { Foundation.exp($0 - mx) }
                    let sum = s.reduce(0, +)
                    for j in 0..<T {
                        for k in 0..<HS { atty[i][h * HS + k] += s[j] / sum * qkv[j][2 * C + h * HS + k] }
                    }
                }
            }
            x = (0..<T).map { t in
                let proj = linear(atty[t], layer.attnProjWeight, layer.attnProjBias, out: C)
                let h1 = layernorm((0..<C).map { x[t][$0] + proj[$0] }, layer.ln1Weight, layer.ln1Bias)
                let f = linear(h1, layer.fc1Weight, layer.fc1Bias, out: F).map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
                let o = linear(f, layer.fc2Weight, layer.fc2Bias, out: C)
                return layernorm((0..<C).map { h1[$0] + o[$0] }, layer.ln2Weight, layer.ln2Bias)
            }
        }
        var pooled = [Double](repeating: 0, count: C)
        for t in 0..<T { for i in 0..<C { pooled[i] += x[t][i] / Double(T) } }
        if normalize {
            let n = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
            pooled = pooled.map { $0 / n }
        }
        return pooled
    }
}
