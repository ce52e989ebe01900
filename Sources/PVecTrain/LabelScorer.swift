import Foundation
import PVecModel
import PVecTensor

/// Scores examples against label embeddings, so that only the soft prompt is learned.
///
/// Each label's verbalizer is embedded once by the frozen model without a prompt (E, `[L, C]`,
/// rows L2-normalised). An example's logits are cos(f, E_l) / τ where f is its normalised
/// pooled feature with the prompt; the loss is the mean cross-entropy over the batch.
public struct LabelScorer: Sendable {
    /// E: `[L, C]`, unit rows.
    let labelEmbeddings: Tensor
    /// τ: the softmax temperature.
    let temperature: Float

    public init(labelEmbeddings: Tensor, temperature: Float) {
        self.labelEmbeddings = labelEmbeddings
        self.temperature = temperature
    }

    /// Embeds the task's verbalizers with the model (no prompt).
    public init(task: TaskSpec, model: any BackboneModel, temperature: Float, maxLength: Int) throws {
        let batch = task.labels.map { model.tokenize($0.verbalizer, pair: nil, maxLength: maxLength) }
        self.init(labelEmbeddings: try model.forward(batch, prompt: nil, normalize: true), temperature: temperature)
    }

    var labelCount: Int { labelEmbeddings.shape.rows }

    /// logits = f Eᵀ / τ.
    /// - Parameter features: f `[B, C]`, unit rows.
    /// - Returns: `[B, L]`.
    func logits(_ features: Tensor) throws -> Tensor {
        var z = try features.matmul(labelEmbeddings, transposeOther: true)
        z.scal(1 / temperature)
        return z
    }

    /// Mean cross-entropy and its gradient with respect to the features.
    ///
    /// dL/dz = (softmax(z) − onehot(y)) / B and dL/df = dL/dz · E / τ.
    /// - Parameters:
    ///   - features: f `[B, C]`.
    ///   - labels: y, B label indices.
    /// - Returns: the loss, dL/df `[B, C]`, and the number of correct argmax predictions.
    public func lossAndGradient(_ features: Tensor, labels: [Int]) throws -> (loss: Float, dFeatures: Tensor, correct: Int) {
        let B = features.shape.rows, L = labelCount
        var z = try logits(features)
        var loss: Double = 0
        var correct = 0
        for b in 0..<B {
            var maxv = -Float.infinity, arg = 0
            for l in 0..<L where z[b, l] > maxv { maxv = z[b, l]; arg = l }
            if arg == labels[b] { correct += 1 }
            var sum: Float = 0
            for l in 0..<L { let e = exp(z[b, l] - maxv); z[b, l] = e; sum += e }
            for l in 0..<L { z[b, l] /= sum }
            loss -= Double(log(max(z[b, labels[b]], 1e-30)))
            z[b, labels[b]] -= 1
        }
        z.scal(1 / Float(B))
        var df = try z.matmul(labelEmbeddings)
        df.scal(1 / temperature)
        return (Float(loss / Double(B)), df, correct)
    }
}
