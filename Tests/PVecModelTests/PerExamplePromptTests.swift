import XCTest
import PVecTensor
@testable import PVecModel

/// The per-example prompt path (`forward(_:prompts:normalize:)` and
/// `InputGradients.promptPerExample`) against single-sequence runs and Float64 finite differences.
final class PerExamplePromptTests: XCTestCase {
    let m = 2

    private func prompts(_ C: Int) -> [Tensor] {
        (0..<TinyBert.batch.count).map { b in
            Tensor(shape: [m, C], scalars: TinyBert.uniform(m * C, seed: 40 + UInt64(b), scale: 0.5))
        }
    }

    func testPerExampleForwardEqualsOneSequenceAtATime() throws {
        let encoder = try TinyBert.encoder()
        let C = TinyBert.config.width
        let ps = prompts(C)
        let all = try encoder.forward(TinyBert.batch, prompts: ps, normalize: true)
        var maxdiff: Float = 0
        for (b, seq) in TinyBert.batch.enumerated() {
            let one = try encoder.forward([seq], prompt: ps[b], normalize: true)
            for i in 0..<C { maxdiff = max(maxdiff, abs(one[0, i] - all[b, i])) }
        }
        print("tiny per-example vs single forward: maxdiff \(maxdiff)")
        XCTAssertLessThan(maxdiff, 1e-6)
    }

    func testPerExamplePromptGradientsMatchFloat64FiniteDifferences() throws {
        for placement in PromptPlacement.allCases { try checkPerExampleGradients(placement) }
    }

    private func checkPerExampleGradients(_ placement: PromptPlacement) throws {
        let encoder = try TinyBert.encoder()
        encoder.promptPlacement = placement
        let prepend = placement == .prepend, s = prepend ? 0 : 1
        let ref = ReferenceBert(encoder.parameters)
        let C = TinyBert.config.width, B = TinyBert.batch.count
        let ps = prompts(C)
        let r = Tensor(shape: [B, C], scalars: TinyBert.uniform(B * C, seed: 12, scale: 1))
        _ = try encoder.forward(TinyBert.batch, prompts: ps, normalize: true)
        let grads = try encoder.backward(dFeatures: r, inputGradients: false)
        let per = try XCTUnwrap(grads.promptPerExample)
        XCTAssertEqual(per.shape, [B, m, C])
        let sum = try XCTUnwrap(grads.prompt)

        let h = 1e-5
        var maxdiff = 0.0, maxgrad = 0.0
        for (b, seq) in TinyBert.batch.enumerated() {
            let rows = (0..<m).map { i in (0..<C).map { Double(ps[b][i, $0]) } }
            let laid = ref.inputRows(seq, prompt: rows, prepend: prepend)
            func loss(_ x: [[Double]]) -> Double {
                let out = ref.forward(rows: x, types: laid.types, normalize: true)
                return (0..<C).reduce(0.0) { $0 + Double(r[b, $1]) * out[$1] }
            }
            for i in 0..<m {
                for c in 0..<C {
                    var plus = laid.rows, minus = laid.rows
                    plus[s + i][c] += h
                    minus[s + i][c] -= h
                    let fd = (loss(plus) - loss(minus)) / (2 * h)
                    maxdiff = max(maxdiff, abs(fd - Double(per.scalars[(b * m + i) * C + c])))
                    maxgrad = max(maxgrad, abs(fd))
                }
            }
        }
        print("tiny dL/dprompts[b] vs Float64 central FD (\(placement.rawValue)): maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / maxgrad)")
        XCTAssertLessThan(maxdiff / maxgrad, 1e-4)

        var sumDiff: Float = 0
        for k in 0..<(m * C) {
            var total: Float = 0
            for b in 0..<B { total += per.scalars[b * m * C + k] }
            sumDiff = max(sumDiff, abs(total - sum.scalars[k]))
        }
        XCTAssertLessThan(sumDiff, 1e-6)
    }

    func testSharedForwardLeavesPerExampleGradientsOut() throws {
        let encoder = try TinyBert.encoder()
        let C = TinyBert.config.width
        let p = prompts(C)[0]
        let r = Tensor(shape: [TinyBert.batch.count, C], scalars: TinyBert.uniform(TinyBert.batch.count * C, seed: 3, scale: 1))
        _ = try encoder.forward(TinyBert.batch, prompt: p, normalize: true)
        let shared = try encoder.backward(dFeatures: r, inputGradients: false)
        XCTAssertNil(shared.promptPerExample)
        _ = try encoder.forward(TinyBert.batch, prompts: Array(repeating: p, count: TinyBert.batch.count), normalize: true)
        let same = try encoder.backward(dFeatures: r, inputGradients: false)
        XCTAssertEqual(same.prompt, shared.prompt)
        XCTAssertThrowsError(try encoder.forward(TinyBert.batch, prompts: [Tensor(zeros: [2, 15]), p, p], normalize: true)) {
            XCTAssertEqual($0 as? ModelError, .promptWidthMismatch(promptShape: [2, 15], width: 16))
        }
    }
}
