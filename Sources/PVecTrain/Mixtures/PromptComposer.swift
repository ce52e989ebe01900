import PVecModel
import PVecTensor

/// Something that makes one prompt per input: a trained composite run at inference.
protocol PromptComposer {
    /// The prompts for a batch (B × `[m, d]`) and, when the method has one, each example's
    /// attention over its prompts (`[B, J]`, flattened).
    func prompts(for batch: [TokenizedText], model: any BackboneModel,
                 cache: inout [Int: [Float]]) throws -> (prompts: [Tensor], attention: [Float]?)
}

extension Evaluator {
    /// Argmax predictions with per-example prompts from `composer`, and the metrics; also the
    /// mean attention over the data when the composer reports one.
    func evaluate(_ data: Dataset, composer: some PromptComposer,
                         progress: ((Int) -> Void)? = nil) throws -> (metrics: ClassificationMetrics, meanAttention: [Double]?) {
        var predictions: [Int] = []
        var attentionSum: [Double]?
        var cache: [Int: [Float]] = [:]
        for start in stride(from: 0, to: data.examples.count, by: batchSize) {
            let chunk = data.examples[start..<min(start + batchSize, data.examples.count)]
            let batch = chunk.map { model.tokenize($0.textA, pair: $0.textB, maxLength: maxLength) }
            let (prompts, attention) = try composer.prompts(for: batch, model: model, cache: &cache)
            if let attention {
                let J = attention.count / batch.count
                if attentionSum == nil { attentionSum = [Double](repeating: 0, count: J) }
                for b in 0..<batch.count { for j in 0..<J { attentionSum![j] += Double(attention[b * J + j]) } }
            }
            let f = try model.forward(batch, prompts: prompts, normalize: true)
            let z = try scorer.logits(f)
            for b in 0..<chunk.count {
                var best = 0
                for l in 1..<scorer.labelCount where z[b, l] > z[b, best] { best = l }
                predictions.append(best)
            }
            progress?(predictions.count)
        }
        let metrics = ClassificationMetrics(predictions: predictions, gold: data.examples.map(\.label), labels: scorer.labelCount)
        return (metrics, attentionSum.map { $0.map { $0 / Double(max(data.examples.count, 1)) } })
    }
}
