import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Attempt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train an ATTEMPT mixture: a target prompt and an attention module over frozen source prompts.",
            discussion: """
            Asai et al. 2022. Each input gets P_t + Σ_j a_j P_j, with attention a from
            the input's max-pooled embeddings (module G: W_down, SiLU, W_up, LayerNorm;
            T = d·e). Stores NAME (mixture; run it with `pvec eval NAME`), NAME.target
            (prompt), NAME.module (module) and NAME.init, with lineage to every source.
            `pvec attention NAME` shows the mean attention. --tasks A,B,... trains the
            paper's multi-task setting instead: one shared G (NAME.module) and per task
            a target NAME.<task>.target and mixture NAME.<task>, batches mixed
            examples-proportionally (--cap). --module starts G from a stored module,
            e.g. one trained on the source tasks (the paper's pre-trained attention):
              pvec attempt --tasks movie,amazon,nyt --sources movie,amazon,nyt --name pre
              pvec attempt --task data/tweets/task.json --data data/tweets/train.jsonl \\
                  --sources movie,amazon,nyt --module pre.module --shots 16 --name tw-pre
            Example: pvec attempt --task data/tweets/task.json --data data/tweets/train.jsonl --sources movie,amazon --shots 16 --name tw-attempt
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var training: MixTrainOptions
        @Option(help: "Task file (one task).") var task: String?
        @Option(help: "Training data, JSONL (one task).") var data: String?
        @Option(help: "Several tasks trained together with one shared module: comma-separated task directories (task.json, train.jsonl) or names under --data-root.")
        var tasks: String?
        @Option(help: "Where bare --tasks names are looked up.") var dataRoot: String = "data"
        @Option(help: "Per-task cap of examples-proportional mixing with --tasks (0: none).") var cap: Int = 1000
        @Option(help: "Start the attention module from this stored ATTEMPT module (pre-trained G).") var module: String?
        @Option(help: "Comma-separated frozen source prompts, in attention order.") var sources: String
        @Option(help: "Name of the mixture.") var name: String
        @Option(name: .customLong("init"), help: "Start the target prompt from this registry init or prompt.") var initName: String?
        @Option(help: "Seed of the target's vocab-sample init (when no --init).") var initSeed: UInt64 = 0
        @Option(help: "Peak learning rate of the target prompt, in units of the backbone's embedding RMS (as `pvec train --lr`).") var lr: Float = 0.3
        @Option(help: "Peak learning rate of the attention module's weights (plain units).") var moduleLr: Float = 0.1
        @Option(help: "Bottleneck width r of a fresh attention module.") var rank: Int = 100
        @Option(help: "Seed of the attention module's initial weights.") var moduleSeed: UInt64 = 0

        func validate() throws {
            guard !commaList(sources).isEmpty else { throw ValidationError("Please give --sources as a comma-separated list of prompts.") }
            guard rank > 0 else { throw ValidationError("Please give --rank of at least 1.") }
            guard lr > 0, moduleLr > 0 else { throw ValidationError("Please give positive --lr and --module-lr.") }
            guard cap >= 0 else { throw ValidationError("Please give --cap of 0 (none) or more.") }
            switch (task, data, tasks) {
            case (_?, _?, nil), (nil, nil, _?): break
            default: throw ValidationError("Please give either --task and --data (one task) or --tasks A,B,... (several).")
            }
        }

        func run() throws {
            let registry = try global.open()
            var taskData: [TaskData]
            if let task, let data {
                let spec = try TaskSpec.load(URL(fileURLWithPath: task))
                taskData = [TaskData(task: spec, train: try Dataset.load(URL(fileURLWithPath: data), task: spec))]
            } else {
                taskData = try loadTaskDirectories(commaList(tasks), dataRoot: dataRoot)
            }
            var req = AttemptRequest(tasks: taskData, name: name, sources: commaList(sources))
            // Fail on a bad name before loading the model.
            for s in req.sources + (module.map { [$0] } ?? []) { _ = try registry.resolve(s) }
            req.moduleSpec = module
            req.mixingCap = cap
            req.initSpec = initName
            req.initSeed = initSeed
            req.shots = training.shots
            req.rank = rank
            req.moduleLearningRate = moduleLr
            req.moduleSeed = moduleSeed
            req.config = training.config(learningRate: lr)
            let model = try modelOptions.load()
            let reporter = ProgressReporter()
            let out = try registry.trainAttempt(req, model: model, command: GlobalOptions.commandLine,
                                                progress: global.json ? nil : { reporter.training($0) })
            if global.json {
                var o: [String: JSONValue] = ["module": Output.stored(out.module),
                                              "losses": .array(out.result.losses.map { .double(Double($0)) }),
                                              "seconds": .double(out.result.seconds)]
                if out.tasks.count == 1 {
                    o["mixture"] = Output.stored(out.mixture)
                    o["target"] = Output.stored(out.target)
                    o["init"] = Output.stored(out.initArtifact)
                } else {
                    o["tasks"] = .array(zip(req.tasks, out.tasks).map { t, s in
                        ["task": .string(t.task.name), "mixture": Output.stored(s.mixture), "target": Output.stored(s.target),
                         "init": Output.stored(s.initArtifact)]
                    })
                }
                Output.json(.object(o))
            } else {
                for t in out.tasks {
                    print("mixture \(Output.storedLine(t.mixture))")
                    print("target  \(Output.storedLine(t.target))")
                    print("init    \(Output.storedLine(t.initArtifact))")
                }
                print("module  \(Output.storedLine(out.module))")
                print(lossLine(out.result.losses, seconds: out.result.seconds))
            }
        }
    }

    struct Attention: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an ATTEMPT mixture's mean attention per source prompt on a dataset.",
            discussion: """
            Runs the mixture over the data (nothing is stored) and prints the mean
            attention weight of each source and of the target prompt, with the accuracy.
            `pvec show NAME --attention` prints the same after the manifest.
            Example: pvec attention tw-attempt --task data/tweets/task.json --data data/tweets/dev.jsonl --limit 100
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Argument(help: "The ATTEMPT mixture.") var name: String
        @OptionGroup var on: AttentionDataOptions

        func validate() throws {
            guard on.task != nil, on.data != nil else { throw ValidationError("Please give --task and --data to run the mixture on.") }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let a = try on.measure(name, registry: registry, model: modelOptions)
            if global.json { Output.json(a.json(name: name)) } else { a.print() }
        }
    }
}

/// `--task`, `--data`, `--limit`, `--max-length`: the dataset an ATTEMPT mixture's attention is
/// measured on (`pvec attention`, `pvec show --attention`).
struct AttentionDataOptions: ParsableArguments {
    @Option(help: "Task file (for the attention).") var task: String?
    @Option(help: "Labelled data, JSONL (for the attention).") var data: String?
    @Option(help: "Use only the first N examples.") var limit: Int?
    @Option(help: "Longest input in tokens.") var maxLength: Int = 128

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("Please give --limit of at least 1.") }
    }

    /// The mean attention per source (and the target, last) and the accuracy on the data.
    func measure(_ name: String, registry: Registry, model: ModelOptions) throws -> MeanAttention {
        let spec = try TaskSpec.load(URL(fileURLWithPath: task!))
        var dataset = try Dataset.load(URL(fileURLWithPath: data!), task: spec)
        if let limit { dataset = dataset.prefix(limit) }
        _ = try registry.resolve(name)   // a bad name fails before the model loads
        let (labels, mean, metrics) = try registry.attention(name, task: spec, data: dataset, model: try model.load(), maxLength: maxLength)
        return MeanAttention(labels: labels, mean: mean, count: metrics.count, accuracy: metrics.accuracy)
    }
}

struct MeanAttention {
    var labels: [String]
    var mean: [Double]
    var count: Int
    var accuracy: Double

    func json(name: String) -> JSONValue {
        ["name": .string(name), "n": .int(Int64(count)), "accuracy": .double(accuracy),
         "attention": .array(zip(labels, mean).map { ["prompt": .string($0), "mean": .double($1)] })]
    }

    func print() {
        var rows = [["prompt", "mean attention"]]
        for (l, a) in zip(labels, mean) { rows.append([l, String(format: "%.4f", a)]) }
        Output.table(rows)
        Swift.print(String(format: "%d examples, accuracy %.4f", count, accuracy))
    }
}
