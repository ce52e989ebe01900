import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Attempt: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attempt",
            abstract: "Train an ATTEMPT mixture: a target prompt and an attention module over frozen source prompts.",
            discussion: """
            Asai et al. 2022. Each input gets P_t + Σ_j a_j P_j, with attention a from \
            the input's max-pooled embeddings (module G: W_down, SiLU, W_up, LayerNorm; \
            T = d·e). Stores NAME (mixture; run it with `pvec eval NAME`), NAME.target \
            (prompt), NAME.module (module) and NAME.init, with lineage to every source. \
            `pvec attention NAME` shows the mean attention. --tasks A,B,... trains the \
            paper's multi-task setting instead: one shared G (NAME.module) and per task \
            a target NAME.<task>.target and mixture NAME.<task>, batches mixed \
            examples-proportionally (--cap). --module starts G from a stored module, \
            e.g. one trained on the source tasks (the paper's pre-trained attention):
              pvec attempt --tasks movie,amazon,nyt --sources movie,amazon,nyt --name pre
              pvec attempt --task data/tweets/task.json --data data/tweets/train.jsonl \\
                  --sources movie,amazon,nyt --module pre.module --shots 16 --name tw-pre
            Example: pvec attempt --task data/tweets/task.json --data data/tweets/train.jsonl --sources movie,amazon --shots 16 --name tw-attempt
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var training: MixTrainOptions
        @Option(help: "Task file (one task).", completion: .file()) var task: String?
        @Option(help: "Training data, JSONL (one task).", completion: .file()) var data: String?
        @Option(help: "Several tasks trained together with one shared module: comma-separated task directories (task.json, train.jsonl) or names under --data-root.", completion: .directory)
        var tasks: String?
        @Option(help: "Where bare --tasks names are looked up.", completion: .directory) var dataRoot: String = "data"
        @Option(help: "Per-task cap of examples-proportional mixing with --tasks (0: none).") var cap: Int = 1000
        @Option(help: "Start the attention module from this stored ATTEMPT module (pre-trained G).", completion: NameCompletion.names) var module: String?
        @Option(help: "Comma-separated frozen source prompts, in attention order.", completion: NameCompletion.nameList) var sources: String
        @Option(help: "Name of the mixture.") var name: String
        @Option(name: .customLong("init"), help: "Start the target prompt from this registry init or prompt.", completion: NameCompletion.names) var initName: String?
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
            let taskData = if let task, let data {
                [try TaskData.load(task: URL(fileURLWithPath: task), data: URL(fileURLWithPath: data))]
            } else {
                try TaskFolder.load(commaList(tasks), dataRoot: URL(fileURLWithPath: dataRoot))
            }
            var req = AttemptRun(tasks: taskData, name: name, sources: commaList(sources))
            req.moduleSpec = module
            req.mixingCap = cap
            req.initSpec = initName
            req.initSeed = initSeed
            req.shots = training.shots
            req.rank = rank
            req.moduleLearningRate = moduleLr
            req.moduleSeed = moduleSeed
            req.config = training.config(learningRate: lr)
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
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
}
