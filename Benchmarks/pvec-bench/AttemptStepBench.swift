import ArgumentParser
import Foundation
import PVecModel
import PVecStore
import PVecTensor
import PVecTrain

extension PVecBench {
    /// One ATTEMPT training step against one plain prompt-tuning step on the real model: the
    /// overhead of the attention module and of per-example prompts.
    struct AttemptStepBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attempt-step",
            abstract: "Time one ATTEMPT training step against one plain prompt-tuning step (real MiniLM).",
            discussion: """
            Both trainers run --steps steps on the same batches (batch order seeded alike), in
            alternating rounds; a step's time is the gap between two progress callbacks, so it
            covers forward, loss, backward and the AdamW update (ATTEMPT: plus G's forward and
            backward and the per-example prompts). Prints one JSON line with the median step of
            each and their ratio. Example: swift run -c release pvec-bench attempt-step --data data/tweets
            """)

        @Option(help: "Task directory (task.json, train.jsonl).") var data = "fixtures/tasks/movie-small"
        @Option(help: "Steps per run.") var steps = 12
        @Option(help: "Alternating rounds of both trainers.") var rounds = 3
        @Option(help: "Batch size.") var batch = 8
        @Option(help: "Prompt length m.") var promptLen = 8
        @Option(help: "Number of source prompts.") var sources = 3
        @Option(help: "Bottleneck r of G.") var rank = 100
        @Option(help: "Longest input in tokens.") var maxLength = 64

        func run() throws {
            let model = try BertEncoder()
            let t = try TaskFolder(URL(fileURLWithPath: data)).training()
            let (spec, train) = (t.task, t.train)
            var config = TrainConfig()
            config.steps = steps
            config.batchSize = batch
            config.maxLength = maxLength
            config.seed = 1
            let table = model.wordEmbeddings(rows: 1000..<3000)
            var rng = SplitMix64(seed: 3)
            func prompt() -> Tensor {
                Tensor(shape: [promptLen, model.width], scalars: (0..<promptLen).flatMap { _ in
                    let r = Int(rng.nextBelow(2000))
                    return Array(table.scalars[(r * model.width)..<((r + 1) * model.width)])
                })
            }
            let initial = prompt()
            let sourcePrompts = (0..<sources).map { _ in prompt() }
            let scorer = try LabelScorer(task: spec, model: model, temperature: config.temperature, maxLength: maxLength)
            /// Median gap between progress callbacks (the first step, which warms caches, is dropped).
            func stepTimes(_ body: (@escaping (TrainProgress) -> Void) throws -> Void) rethrows -> [Double] {
                var marks: [Double] = [now()]
                try body { _ in marks.append(now()) }
                return Array(zip(marks.dropFirst(), marks).map { $0 - $1 }.dropFirst())
            }
            var plain: [Double] = [], attempt: [Double] = []
            for _ in 0..<rounds {
                plain += try stepTimes { p in
                    _ = try PromptTuner(model: model, scorer: scorer, config: config).train(initial: initial, train: train, progress: p)
                }
                attempt += try stepTimes { p in
                    _ = try AttemptTrainer(model: model, config: config, moduleLearningRate: 0.1)
                        .train(task: TaskData(task: spec, train: train), initial: initial, sources: sourcePrompts,
                               module: AttemptModule(width: model.width, rank: rank, seed: 1), progress: p)
                }
            }
            let mp = median(plain), ma = median(attempt)
            emit(["case": .string("attempt-step"), "batch": .int(Int64(batch)), "prompt_len": .int(Int64(promptLen)),
                  "sources": .int(Int64(sources)), "rank": .int(Int64(rank)), "max_length": .int(Int64(maxLength)),
                  "steps_timed": .int(Int64(plain.count)),
                  "plain_step_ms": .double(round1(mp * 1e3)), "attempt_step_ms": .double(round1(ma * 1e3)),
                  "ratio": .double(round3(ma / mp))])
        }

        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    }
}
