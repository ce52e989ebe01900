import ArgumentParser
import Foundation
import PVecModel
import PVecStore
import PVecTrain

extension PVec {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Tune a soft prompt on the frozen backbone and record init, prompt and vector.",
            discussion: """
            Stores NAME (the tuned prompt), NAME.init (its seeded init, or the --init \
            you gave) and NAME.tau (the task prompt vector NAME - init), with lineage. \
            --init may name any registry prompt, e.g. the output of `pvec add A B --onto \
            INIT`.

            --placement prepend (the default) puts the prompt before [CLS], as PEFT does, so \
            `pvec export NAME --format peft` gives an adapter that scores in PEFT as it does \
            here; --placement after-cls puts it right after [CLS], as pvec did before. The \
            recipe records prepend; a recipe without a placement means after-cls.

            Example: pvec train --task data/movie/task.json --data data/movie/train.jsonl --shots 32 --steps 60 --name movie
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Task file (labels, verbalizers, metric).", completion: .file()) var task: String
        @Option(help: "Training data, JSONL.", completion: .file()) var data: String
        @Option(help: "Validation data, JSONL, for early stopping.", completion: .file()) var dev: String?
        @Option(help: "Name for the tuned prompt.") var name: String
        @Option(help: "Prompt length in tokens (rows).") var promptLen: Int = 20
        @Option(name: .customLong("init"), help: "Start from this registry init or prompt.", completion: NameCompletion.names) var initName: String?
        @Option(help: "Seed of the vocab-sample init (when no --init).") var initSeed: UInt64 = 0
        @Option(help: "Optimizer steps.") var steps: Int?
        @Option(help: "Passes over the data (when no --steps).") var epochs: Int = 1
        @Option(help: "Peak learning rate (AdamW), in units of the backbone's embedding RMS.") var lr: Float = 0.3
        @Option(help: "Batch size.") var batch: Int = 16
        @OptionGroup var training: TrainingFlags
        @OptionGroup var placementOption: PlacementOption
        @Option(help: "Evaluate on --dev every N steps.") var evalEvery: Int = 0
        @Option(help: "Stop after N dev evaluations without gain.") var patience: Int = 0
        @Option(help: "Write a checkpoint here as training goes.", completion: .file()) var checkpoint: String?
        @Option(help: "Resume from this checkpoint.", completion: .file()) var resume: String?

        func validate() throws {
            guard promptLen > 0 else { throw ValidationError("Please give --prompt-len of at least 1.") }
            guard batch > 0 else { throw ValidationError("Please give --batch of at least 1.") }
            if let steps, steps <= 0 { throw ValidationError("Please give --steps of at least 1.") }
            guard lr > 0, lr.isFinite else { throw ValidationError("Please give a positive --lr.") }
            if evalEvery > 0 && dev == nil { throw ValidationError("Please give --dev with --eval-every.") }
        }

        func run() throws {
            let registry = try global.open()
            let t = try TaskData.load(task: URL(fileURLWithPath: task), data: URL(fileURLWithPath: data))
            var req = PromptTuningRun(task: t.task, train: t.train, name: name)
            req.dev = try dev.map { try Dataset.load(URL(fileURLWithPath: $0), task: t.task) }
            req.promptLength = promptLen
            req.initSpec = initName
            req.initSeed = initSeed
            req.shots = training.shots
            req.config.steps = steps
            req.config.epochs = epochs
            req.config.learningRate = lr
            req.config.batchSize = batch
            training.apply(to: &req.config)
            req.config.placement = placementOption.placement ?? PromptPlacement.defaultForNewPrompts
            req.config.evalEvery = evalEvery
            req.config.patience = patience
            req.checkpoint = checkpoint.map { URL(fileURLWithPath: $0) }
            req.resume = resume.map { URL(fileURLWithPath: $0) }
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
            let r = out.result
            if global.json {
                Output.json([
                    "prompt": Output.stored(out.prompt), "init": Output.stored(out.initArtifact), "vector": Output.stored(out.vector),
                    "losses": .array(r.losses.map { .double(Double($0)) }), "steps": .int(Int64(r.stepsRun)),
                    "seconds": .double(r.seconds), "dev_accuracy": r.bestDevAccuracy.map { .double($0) } ?? .null,
                    "stopped_early": .bool(r.stoppedEarly),
                ])
            } else {
                print("init    \(Output.storedLine(out.initArtifact))")
                print("prompt  \(Output.storedLine(out.prompt))")
                print("vector  \(Output.storedLine(out.vector))")
                let first = r.losses.first.map { String(format: "%.4f", $0) } ?? "-"
                let last = r.losses.last.map { String(format: "%.4f", $0) } ?? "-"
                print("loss \(first) -> \(last) in \(r.stepsRun) steps, \(String(format: "%.1f", r.seconds))s"
                      + (r.bestDevAccuracy.map { String(format: ", best dev accuracy %.4f", $0) } ?? ""))
            }
        }
    }
}
