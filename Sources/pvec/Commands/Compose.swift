import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Compose: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compose",
            abstract: "Fit one weight per task vector on a few target examples: P = init + sum(w_i * tau_i).",
            discussion: """
            The backbone, the init and the vectors stay frozen; only the weights learn, by \
            gradient steps (--method gradient: dL/dw_i = <dL/dP, tau_i>) or by a gradient-free \
            (1+1) evolution strategy on the few-shot loss (--method search). --per-row fits \
            one weight per vector and prompt row. Every weight starts at --start-weight \
            (default 1/n: the mean of the vectors, as `pvec add --lambda 1/n`).

            The weights are the recipe (op compose), so `pvec verify` recomputes the prompt \
            bit for bit, and `pvec lineage NAME` names every source. Stores NAME (and \
            NAME.init, the seeded init, when no --init is given); with --then-steps S, the \
            composition is NAME.composed and NAME is tuned from it for S plain steps (with \
            NAME.tau). Sources are vectors or prompts with a recorded init (their vector is \
            derived and stored on first use); the prompt placement is the one the sources \
            were trained with.

            Example: pvec compose --task data/tweets/task.json --data data/tweets/train.jsonl --shots 8 movie amazon nyt --name tweets-c
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Argument(help: "Task vectors (or prompts with a recorded init) to compose.", completion: NameCompletion.names)
        var sources: [String]
        @Option(help: "Task file of the target (labels, verbalizers, metric).", completion: .file()) var task: String
        @Option(help: "Target training data, JSONL (sampled by --shots).", completion: .file()) var data: String
        @Option(help: "Name for the result.") var name: String
        @Flag(help: "One weight per vector and prompt row.") var perRow = false
        @Option(help: "How to fit the weights: gradient or search.") var method: CompositionFitMethod = .gradient
        @Option(name: .customLong("init"), help: "Compose onto this registry init or prompt.", completion: NameCompletion.names)
        var initName: String?
        @Option(help: "Seed of the vocab-sample init (when no --init).") var initSeed: UInt64 = 0
        @Option(help: "Fitting steps (gradient steps, or search trials).") var steps: Int = 40
        @Option(help: "Peak learning rate of the weights (gradient method).") var lr: Float = 0.05
        @Option(help: "Batch size of the fit.") var batch: Int = 8
        @Option(help: "Start value of every weight (default 1/n).") var startWeight: Float?
        @Option(help: "Initial step size of the search.") var sigma: Float = 0.1
        @Option(help: "Plain prompt-tuning steps from the composed prompt (0: none).") var thenSteps: Int = 0
        @Option(help: "Peak learning rate of those steps, in embedding-RMS units.") var thenLr: Float = 0.3
        @OptionGroup var training: TrainingFlags

        func validate() throws {
            guard !sources.isEmpty else { throw ValidationError("Please name at least one task vector to compose.") }
            guard steps > 0 else { throw ValidationError("Please give --steps of at least 1.") }
            guard batch > 0 else { throw ValidationError("Please give --batch of at least 1.") }
            guard lr > 0, lr.isFinite else { throw ValidationError("Please give a positive --lr.") }
            guard sigma > 0, sigma.isFinite else { throw ValidationError("Please give a positive --sigma.") }
            guard thenSteps >= 0 else { throw ValidationError("Please give --then-steps of 0 or more.") }
            guard thenLr > 0, thenLr.isFinite else { throw ValidationError("Please give a positive --then-lr.") }
            if let startWeight, !startWeight.isFinite { throw ValidationError("Please give a finite --start-weight.") }
        }

        func run() throws {
            let registry = try global.open()
            let t = try TaskData.load(task: URL(fileURLWithPath: task), data: URL(fileURLWithPath: data))
            var req = ComposeRun(task: t.task, train: t.train, sources: sources, name: name)
            req.initSpec = initName
            req.initSeed = initSeed
            req.shots = training.shots
            req.perRow = perRow
            req.method = method
            req.startWeight = startWeight
            req.sigma = sigma
            req.thenSteps = thenSteps
            req.thenLearningRate = thenLr
            training.apply(to: &req.config)
            req.thenWeightDecay = req.config.weightDecay
            req.config.weightDecay = 0
            req.config.steps = steps
            req.config.learningRate = lr
            req.config.batchSize = batch
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
            if global.json {
                var o: [String: JSONValue] = [
                    "init": Output.stored(out.initArtifact), "composed": Output.stored(out.composed),
                    "sources": .array(out.sources.map { .string($0.hex) }),
                    "weights": .array(out.weights.map { .double(Double($0)) }), "per_row": .bool(perRow),
                    "loss_start": .double(Double(out.startLoss)), "loss_end": .double(Double(out.endLoss)),
                    "losses": .array(out.losses.map { .double(Double($0)) }), "seconds": .double(out.seconds),
                ]
                if let tuned = out.tuned {
                    o["prompt"] = Output.stored(tuned.prompt)
                    o["vector"] = Output.stored(tuned.vector)
                }
                Output.json(.object(o))
            } else {
                print("init      \(Output.storedLine(out.initArtifact))")
                print("composed  \(Output.storedLine(out.composed))")
                let n = sources.count, per = out.weights.count / max(n, 1)
                for (i, s) in sources.enumerated() {
                    let w = out.weights[(i * per)..<((i + 1) * per)].map { String(format: "%.4f", $0) }.joined(separator: " ")
                    print("weight    \(TerminalText.safeLine(s)): \(w)")
                }
                print(String(format: "few-shot loss %.4f -> %.4f", out.startLoss, out.endLoss)
                      + " (\(method.rawValue), \(out.losses.count) steps, \(String(format: "%.1f", out.seconds))s)")
                if let tuned = out.tuned {
                    print("prompt    \(Output.storedLine(tuned.prompt))")
                    print("vector    \(Output.storedLine(tuned.vector))")
                    print(lossLine(tuned.result.losses, seconds: tuned.result.seconds))
                }
            }
        }
    }
}
