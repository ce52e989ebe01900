import ArgumentParser
import Foundation
import PVecStore
import PVecTensor
import PVecTrain

extension PVecBench {
    /// AMP's DAM forward: block scores by one gemm over all n·l rows vs a loop of n² block gemms.
    struct DAMBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dam",
            abstract: "Time DAM's block scores by one gemm (S = QKᵀ, then block means) against a loop over blocks.",
            discussion: """
            Prints one JSON line per (n, l) case with the median wall time of both ways, of the
            whole DAM forward (three projections, scores, softmax, mixing gemm), and the largest
            difference between the two score matrices.
            """)

        @Option(help: "Prompt width d.") var width = 384
        @Option(help: "Query/key width k.") var keyWidth = 64
        @Option(help: "Comma-separated source counts n.") var sources = "2,4,8,16"
        @Option(help: "Comma-separated prompt lengths l.") var lengths = "8,20,50"
        @Option(help: "Timed repetitions per case (after 2 warm-ups).") var runs = 30

        func run() throws {
            let ns = sources.split(separator: ",").compactMap { Int($0) }
            let ls = lengths.split(separator: ",").compactMap { Int($0) }
            var gen = PromptGenerator(seed: 7)
            for n in ns {
                for l in ls {
                    let k = keyWidth
                    let Q = gen.tensor(rows: n * l, width: k, std: 1).scalars
                    let K = gen.tensor(rows: n * l, width: k, std: 1).scalars
                    func median(_ body: () -> Void) -> Double {
                        for _ in 0..<2 { body() }
                        let t = (0..<runs).map { _ in timed(body).1 }.sorted()
                        return t[t.count / 2]
                    }
                    var a: [Float] = [], b: [Float] = []
                    let gemm = median { a = DAMModule.blockScores(Q: Q, K: K, n: n, l: l, k: k) }
                    let loop = median { b = DAMModule.blockScoresLoop(Q: Q, K: K, n: n, l: l, k: k) }
                    let maxdiff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                    let module = DAMModule(width: width, keyWidth: k, pooling: .mean, seed: 1)
                    let prompts = (0..<n).map { _ in gen.tensor(rows: l, width: width) }
                    let forward = median { _ = module.forward(sources: prompts) }
                    emit(["case": .string("dam n=\(n) l=\(l)"), "n": .int(Int64(n)), "l": .int(Int64(l)), "k": .int(Int64(k)),
                          "d": .int(Int64(width)), "scores_one_gemm_us": .double(round1(gemm * 1e6)),
                          "scores_block_loop_us": .double(round1(loop * 1e6)),
                          "speedup": .double(round3(loop / max(gemm, 1e-12))),
                          "forward_us": .double(round1(forward * 1e6)), "maxdiff": .double(Double(maxdiff))])
                }
            }
        }
    }
}
