import Foundation
import PVecAlgebra
import PVecTensor
import XCTest
@testable import PVecModel
@testable import PVecTrain

/// `pvec compose`'s fit through a tiny random BERT: the weight gradient ⟨dL/dP, τ_i⟩ (per vector
/// and per row) against central differences of the few-shot loss, and what each fit method
/// promises about that loss.
final class CoefficientFitTests: XCTestCase {
    static let d = 16, m = 2

    static func tensor(seed: UInt64, scale: Float) -> Tensor {
        Tensor(shape: [m, d], scalars: MixtureGradientTests.uniform(m * d, seed: seed, scale: scale))
    }

    let model = try! MixtureGradientTests.tinyEncoder()
    let initial = tensor(seed: 70, scale: 0.5)
    let taus = (0..<3).map { tensor(seed: 80 + UInt64($0), scale: 0.8) }
    let tokens = MixtureGradientTests.tinyBatch
    let labels = [0, 1, 1]

    func fitter(steps: Int = 5, lr: Float = 0.01, batch: Int = 8) -> CoefficientFitter {
        var c = TrainConfig()
        c.steps = steps
        c.learningRate = lr
        c.batchSize = batch
        c.warmupFraction = 0
        c.clipNorm = 0
        c.weightDecay = 0
        let labelsEmb = Tensor(shape: [2, Self.d], scalars: MixtureGradientTests.uniform(2 * Self.d, seed: 90))
        return CoefficientFitter(model: model, scorer: LabelScorer(labelEmbeddings: labelsEmb, temperature: 0.5),
                                 config: c)
    }

    /// The analytic gradient at `w` and the largest relative error against central differences.
    func gradientError(_ w: CompositionWeights) throws -> Double {
        let f = fitter()
        let p = try TaskVector.composed(init: initial, taus: taus, weights: w)
        let features = try model.forward(tokens, prompt: p, normalize: true)
        let (_, dF, _) = try f.scorer.lossAndGradient(features, labels: labels)
        let dP = try XCTUnwrap(try model.backward(dFeatures: dF, inputGradients: false).prompt)
        let analytic = CoefficientFitter.weightGradient(dPrompt: dP, taus: taus, like: w)
        XCTAssertEqual(analytic.count, w.values.count)
        var maxdiff = 0.0, maxgrad = 0.0
        let h: Float = 1e-2
        for i in w.values.indices {
            func moved(_ delta: Float) throws -> Double {
                var v = w.values
                v[i] += delta
                return Double(try f.loss(initial, taus, w.with(values: v), tokens, labels))
            }
            let fd = (try moved(h) - moved(-h)) / Double(2 * h)
            maxdiff = max(maxdiff, abs(fd - Double(analytic[i])))
            maxgrad = max(maxgrad, abs(fd))
        }
        XCTAssertGreaterThan(maxgrad, 1e-4, "the loss should depend on the weights")
        print("compose weight gradient vs central FD: maxdiff \(maxdiff), max |g| \(maxgrad)")
        return maxdiff / maxgrad
    }

    func testWeightGradientPerVectorMatchesFiniteDifferences() throws {
        XCTAssertLessThan(try gradientError(.perSource([0.3, -0.2, 0.5])), 2e-2)
    }

    func testWeightGradientPerRowMatchesFiniteDifferences() throws {
        XCTAssertLessThan(try gradientError(.perRow([0.3, -0.2, 0.5, 0.1, 0.0, 0.4], rows: 2)), 2e-2)
    }

    func testFullBatchGradientStepsLowerTheLoss() throws {
        let train = Dataset(examples: [Example(textA: "w10 w11 w12", label: 0), Example(textA: "w20 w21", label: 1),
                                       Example(textA: "w44", label: 1)], sha256: "", source: "tiny")
        let fit = try fitter(steps: 5, lr: 0.02).fit(init: initial, taus: taus, start: .perSource([0.33, 0.33, 0.33]),
                                                     train: train, method: .gradient)
        XCTAssertEqual(fit.losses.count, 5)
        XCTAssertLessThan(fit.endLoss, fit.startLoss, "descent on the whole few-shot set must lower its loss")
        XCTAssertNotEqual(fit.weights.values, [0.33, 0.33, 0.33])
    }

    func testSearchNeverEndsAboveItsStartAndIsSeeded() throws {
        let train = Dataset(examples: [Example(textA: "w10 w11 w12", label: 0), Example(textA: "w20 w21", label: 1),
                                       Example(textA: "w44", label: 1)], sha256: "", source: "tiny")
        let start = CompositionWeights.perRow([Float](repeating: 0.33, count: 6), rows: 2)
        let a = try fitter(steps: 12).fit(init: initial, taus: taus, start: start, train: train, method: .search, sigma: 0.5)
        let b = try fitter(steps: 12).fit(init: initial, taus: taus, start: start, train: train, method: .search, sigma: 0.5)
        XCTAssertLessThanOrEqual(a.endLoss, a.startLoss)
        XCTAssertEqual(a.losses.count, 12)
        XCTAssertEqual(a.losses, a.losses.sorted(by: >), "the search reports the best loss so far")
        XCTAssertEqual(a.weights, b.weights, "one seed, one result")
        XCTAssertEqual(a.endLoss, a.losses.last)
    }
}
