import XCTest
import PVecTensor
@testable import PVecModel

/// Gradients of the Float32 backward against central finite differences of the Float64
/// reference forward, on a tiny random BERT (and the forward against that reference).
final class GradientCheckTests: XCTestCase {
    let m = 3

    private func setup(normalize: Bool, placement: PromptPlacement = .afterCLS) throws -> (BertEncoder, ReferenceBert, Tensor, Tensor) {
        let encoder = try TinyBert.encoder()
        encoder.promptPlacement = placement
        let reference = ReferenceBert(encoder.parameters)
        let C = TinyBert.config.width
        let prompt = Tensor(shape: [m, C], scalars: TinyBert.uniform(m * C, seed: 11, scale: 0.5))
        let B = TinyBert.batch.count
        let r = Tensor(shape: [B, C], scalars: TinyBert.uniform(B * C, seed: 12, scale: 1))
        return (encoder, reference, prompt, r)
    }

    /// L = Σ_b r_b · f(rows_b), in Float64.
    private func loss(_ ref: ReferenceBert, rows: [[[Double]]], types: [[Int]], r: Tensor, normalize: Bool) -> Double {
        let C = ref.config.width
        var total = 0.0
        for b in rows.indices {
            let out = ref.forward(rows: rows[b], types: types[b], normalize: normalize)
            for i in 0..<C { total += Double(r.scalars[b * C + i]) * out[i] }
        }
        return total
    }

    func testForwardMatchesFloat64Reference() throws {
        for normalize in [false, true] { for placement in PromptPlacement.allCases {
            let prepend = placement == .prepend
            let (encoder, ref, prompt, _) = try setup(normalize: normalize, placement: placement)
            let C = TinyBert.config.width
            let promptRows = (0..<m).map { i in (0..<C).map { Double(prompt[i, $0]) } }
            for withPrompt in [false, true] {
                let out = try encoder.forward(TinyBert.batch, prompt: withPrompt ? prompt : nil, normalize: normalize)
                var maxdiff = 0.0
                for (b, seq) in TinyBert.batch.enumerated() {
                    let (rows, types) = ref.inputRows(seq, prompt: withPrompt ? promptRows : [], prepend: prepend)
                    let expect = ref.forward(rows: rows, types: types, normalize: normalize)
                    for i in 0..<C { maxdiff = max(maxdiff, abs(Double(out[b, i]) - expect[i])) }
                }
                print("tiny forward vs Float64 reference (normalize \(normalize), prompt \(withPrompt), \(placement.rawValue)): maxdiff \(maxdiff)")
                XCTAssertLessThan(maxdiff, 1e-5)
            }
        } }
    }

    /// The two placements are different inputs (so the option does something), and the same
    /// one without a prompt (the sentence-transformers embedding either way).
    func testPlacementsDifferWithAPromptOnly() throws {
        let (encoder, _, prompt, _) = try setup(normalize: true)
        let afterCLS = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        let bare = try encoder.forward(TinyBert.batch, prompt: nil, normalize: true)
        encoder.promptPlacement = .prepend
        let prepend = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        XCTAssertEqual(try encoder.forward(TinyBert.batch, prompt: nil, normalize: true), bare)
        let gap = zip(afterCLS.scalars, prepend.scalars).map { abs($0 - $1) }.max() ?? 0
        print("tiny prepend vs after-cls output: max |diff| \(gap)")
        XCTAssertGreaterThan(gap, 1e-3)
    }

    func testPromptAndInputGradientsMatchFloat64FiniteDifferences() throws {
        for normalize in [false, true] { for placement in PromptPlacement.allCases {
            let prepend = placement == .prepend
            // The reference's layout: the first prompt row sits at 0 (prepend) or 1 (after [CLS]).
            let s = prepend ? 0 : 1
            let (encoder, ref, prompt, r) = try setup(normalize: normalize, placement: placement)
            let C = TinyBert.config.width
            _ = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: normalize)
            let grads = try encoder.backward(dFeatures: r, inputGradients: true)
            let dPrompt = try XCTUnwrap(grads.prompt)
            let dInputs = try XCTUnwrap(grads.inputs)
            XCTAssertEqual(dPrompt.shape, [m, C])
            let T = dInputs.shape.dims[1]
            XCTAssertEqual(dInputs.shape, [TinyBert.batch.count, T, C])

            let promptRows = (0..<m).map { i in (0..<C).map { Double(prompt[i, $0]) } }
            let laid = TinyBert.batch.map { ref.inputRows($0, prompt: promptRows, prepend: prepend) }
            let rows = laid.map(\.rows), types = laid.map(\.types)
            let h = 1e-5

            // dL/dP: the prompt rows are shared, so perturb them in every sequence at once.
            var maxdiff = 0.0, maxgrad = 0.0
            for i in 0..<m {
                for c in 0..<C {
                    var plus = rows, minus = rows
                    for b in rows.indices {
                        plus[b][s + i][c] += h
                        minus[b][s + i][c] -= h
                    }
                    let fd = (loss(ref, rows: plus, types: types, r: r, normalize: normalize)
                              - loss(ref, rows: minus, types: types, r: r, normalize: normalize)) / (2 * h)
                    maxdiff = max(maxdiff, abs(fd - Double(dPrompt[i, c])))
                    maxgrad = max(maxgrad, abs(fd))
                }
            }
            print("tiny dL/dPrompt vs Float64 central FD (normalize \(normalize), \(placement.rawValue)): maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / maxgrad)")
            XCTAssertLessThan(maxdiff / maxgrad, 1e-4)

            // dL/d(every input row), padding rows included (their gradient must be zero).
            maxdiff = 0
            maxgrad = 0
            var padMax: Float = 0
            for b in rows.indices {
                for t in 0..<T {
                    for c in 0..<C {
                        let analytic = dInputs.scalars[(b * T + t) * C + c]
                        guard t < rows[b].count else {
                            padMax = max(padMax, abs(analytic))
                            continue
                        }
                        var plus = rows, minus = rows
                        plus[b][t][c] += h
                        minus[b][t][c] -= h
                        let fd = (loss(ref, rows: plus, types: types, r: r, normalize: normalize)
                                  - loss(ref, rows: minus, types: types, r: r, normalize: normalize)) / (2 * h)
                        maxdiff = max(maxdiff, abs(fd - Double(analytic)))
                        maxgrad = max(maxgrad, abs(fd))
                    }
                }
            }
            print("tiny dL/dInputs vs Float64 central FD (normalize \(normalize), \(placement.rawValue)): maxdiff \(maxdiff), max |g| \(maxgrad), relative \(maxdiff / maxgrad)")
            XCTAssertLessThan(maxdiff / maxgrad, 1e-4)
            XCTAssertEqual(padMax, 0)

            // The prompt gradient is the sum of the prompt rows' input gradients.
            var sumDiff: Float = 0
            for i in 0..<m {
                for c in 0..<C {
                    var sum: Float = 0
                    for b in rows.indices { sum += dInputs.scalars[(b * T + s + i) * C + c] }
                    sumDiff = max(sumDiff, abs(sum - dPrompt[i, c]))
                }
            }
            XCTAssertLessThan(sumDiff, 1e-6)
        } }
    }

    func testBackwardIsRepeatableAndLinearInTheOutputGradient() throws {
        let (encoder, _, prompt, r) = try setup(normalize: true)
        _ = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        let g1 = try XCTUnwrap(encoder.backward(dFeatures: r, inputGradients: false).prompt)
        var r2 = r
        r2.scal(2)
        let g2 = try XCTUnwrap(encoder.backward(dFeatures: r2, inputGradients: false).prompt)
        for i in 0..<g1.count {
            XCTAssertEqual(2 * g1.scalars[i], g2.scalars[i], accuracy: 1e-5 * max(1, abs(g2.scalars[i])))
        }
    }

    func testBatchedForwardEqualsOneSequenceAtATime() throws {
        let (encoder, _, prompt, _) = try setup(normalize: true)
        let C = TinyBert.config.width
        let all = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        var maxdiff: Float = 0
        for (b, seq) in TinyBert.batch.enumerated() {
            let one = try encoder.forward([seq], prompt: prompt, normalize: true)
            for i in 0..<C { maxdiff = max(maxdiff, abs(one[0, i] - all[b, i])) }
        }
        print("tiny batched vs single forward: maxdiff \(maxdiff)")
        XCTAssertLessThan(maxdiff, 1e-6)
    }

    func testBackwardWithoutForwardThrows() throws {
        let encoder = try TinyBert.encoder()
        XCTAssertThrowsError(try encoder.backward(dFeatures: Tensor(zeros: [1, 16]), inputGradients: false)) {
            XCTAssertEqual($0 as? ModelError, .noForwardPass)
        }
    }

    func testEmbedBetweenForwardAndBackwardLeavesTheGradientUnchanged() throws {
        let (encoder, _, prompt, r) = try setup(normalize: true)
        _ = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        let g1 = try XCTUnwrap(encoder.backward(dFeatures: r, inputGradients: false).prompt)
        _ = try encoder.forward(TinyBert.batch, prompt: prompt, normalize: true)
        _ = try encoder.embed(texts: ["w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16", "w4"])
        let g2 = try XCTUnwrap(encoder.backward(dFeatures: r, inputGradients: false).prompt)
        XCTAssertEqual(g1, g2)
    }

    func testPromptOfWrongWidthAndOverlongSequencesAreRefused() throws {
        let encoder = try TinyBert.encoder()
        XCTAssertThrowsError(try encoder.forward(TinyBert.batch, prompt: Tensor(zeros: [2, 15]), normalize: true)) {
            XCTAssertEqual($0 as? ModelError, .promptWidthMismatch(promptShape: [2, 15], width: 16))
        }
        XCTAssertThrowsError(try encoder.forward(TinyBert.batch, prompt: Tensor(zeros: [30, 16]), normalize: true)) {
            XCTAssertEqual($0 as? ModelError, .sequenceTooLong(length: 38, limit: 32))
        }
    }
}

final class KernelTests: XCTestCase {
    func testVectorisableErfAndExpAgainstLibm() {
        var erfMax = 0.0, expRel = 0.0
        for i in 0...200_000 {
            let x = Float(i) / 10_000 - 10
            erfMax = max(erfMax, abs(Double(BertKernels.erfFloat(x)) - erf(Double(x))))
            if x <= 0 && x > -80 {
                let e = exp(Double(x))
                expRel = max(expRel, abs(Double(BertKernels.expNonPositive(x)) - e) / e)
            }
        }
        print("erfFloat max abs error \(erfMax); expNonPositive max relative error \(expRel)")
        XCTAssertLessThan(erfMax, 4e-7)
        XCTAssertLessThan(expRel, 6e-7)
        XCTAssertEqual(BertKernels.expNonPositive(-200), 0, accuracy: 1e-37)
        XCTAssertEqual(BertKernels.expNonPositive(0), 1, accuracy: 1e-7)
    }
}
