import PVecModel
import PVecTensor

/// Predicts labels for a dataset with a frozen model, an optional soft prompt and a scorer.
struct Evaluator {
    let model: any BackboneModel
    let scorer: LabelScorer
    var batchSize: Int = 32
    var maxLength: Int = 128

    init(model: any BackboneModel, scorer: LabelScorer, batchSize: Int = 32, maxLength: Int = 128) {
        self.model = model
        self.scorer = scorer
        self.batchSize = batchSize
        self.maxLength = maxLength
    }

    /// Argmax predictions and the metrics against the gold labels.
    ///
    /// - Parameter progress: called with the number of examples done.
    func evaluate(_ data: Dataset, prompt: Tensor?, progress: ((Int) -> Void)? = nil) throws -> ClassificationMetrics {
        var predictions: [Int] = []
        predictions.reserveCapacity(data.examples.count)
        let limit = maxLength
        for start in stride(from: 0, to: data.examples.count, by: batchSize) {
            let chunk = data.examples[start..<min(start + batchSize, data.examples.count)]
            let batch = chunk.map { model.tokenize($0.textA, pair: $0.textB, maxLength: limit) }
            let f = try model.forward(batch, prompt: prompt, normalize: true)
            let z = try scorer.logits(f)
            let L = scorer.labelCount
            for b in 0..<chunk.count {
                var best = 0
                for l in 1..<L where z[b, l] > z[b, best] { best = l }
                predictions.append(best)
            }
            progress?(predictions.count)
        }
        return ClassificationMetrics(predictions: predictions, gold: data.examples.map(\.label), labels: scorer.labelCount)
    }
}
