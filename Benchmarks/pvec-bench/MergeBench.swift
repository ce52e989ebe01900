import ArgumentParser
import Foundation
import PVecOps
import PVecStore
import PVecTensor

extension PVecBench {
    /// Issue 4: each merge method on the same task vectors as `Benchmarks/peers/merge_numpy.py`.
    struct MergeBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Time every merge method on N seeded task vectors and write inputs and outputs as .npy.",
            discussion: """
            Writes DIR/in/vNN.npy (the operands) and DIR/out/CASE.npy (pvec's results), and prints
            one JSON line per case with the median and best wall time of `MergeRecipe.apply`,
            the code `pvec merge` and `pvec verify` run (registry I/O excluded, as for the peer).
            Benchmarks/merge.sh runs this and the numpy peer on the same files.
            """)

        @Argument(help: "Folder for the data (replaced).") var dir: String
        @Option(help: "How many vectors.") var count = 10
        @Option(help: "Prompt rows.") var rows = 100
        @Option(help: "Prompt width.") var width = 768
        @Option(help: "Timed repetitions per case (after 2 warm-ups).") var runs = 20

        /// The cases: name, recipe, and how many of the vectors it takes.
        static func cases(count n: Int) -> [(name: String, recipe: MergeRecipe, operands: Int)] {
            let weights = (1...n).map { Double($0) / 10 }
            return [
                ("linear", .linear(weights: weights), n),
                ("task-arithmetic", .taskArithmetic(weights: weights, lambda: 0.5), n),
                ("ties", .ties(density: 0.2, lambda: 1), n),
                ("dare", .dare(drop: 0.9, seed: 7, lambda: 1, ties: false), n),
                ("dare-ties", .dare(drop: 0.9, seed: 7, lambda: 1, ties: true), n),
                ("slerp", .slerp(t: 0.3), 2),
                ("magnitude-prune", .magnitudePrune(density: 0.2), 1),
            ]
        }

        func run() throws {
            let root = URL(fileURLWithPath: dir, isDirectory: true)
            let inDir = root.appendingPathComponent("in", isDirectory: true)
            let outDir = root.appendingPathComponent("out", isDirectory: true)
            try freshFolder(root)
            try FileManager.default.createDirectory(at: inDir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
            var gen = PromptGenerator(seed: 4)
            let taus = (0..<count).map { _ in gen.tensor(rows: rows, width: width, std: 0.01) }
            for (k, t) in taus.enumerated() {
                try Data(NPY.encode(t)).write(to: inDir.appendingPathComponent(String(format: "v%02d.npy", k)))
            }
            for c in Self.cases(count: count) {
                let operands = Array(taus.prefix(c.operands))
                var result = try c.recipe.apply(operands)
                for _ in 0..<2 { result = try c.recipe.apply(operands) }
                var samples: [Double] = []
                for _ in 0..<runs {
                    let (r, dt) = try timed { try c.recipe.apply(operands) }
                    samples.append(dt)
                    result = r
                }
                try Data(NPY.encode(result)).write(to: outDir.appendingPathComponent("\(c.name).npy"))
                samples.sort()
                emit([
                    "bench": "merge", "impl": "pvec", "case": .string(c.name),
                    "operands": .int(Int64(c.operands)), "shape": .array([.int(Int64(rows)), .int(Int64(width))]),
                    "runs": .int(Int64(runs)),
                    "median_ms": .double(round3(samples[samples.count / 2] * 1e3)),
                    "min_ms": .double(round3(samples[0] * 1e3)),
                ])
            }
        }
    }
}
