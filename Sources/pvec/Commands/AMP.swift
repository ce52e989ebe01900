import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct AMP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "amp",
            abstract: "Train AMP's attention between prompt matrices (DAM) over several tasks at once.",
            discussion: """
            One frozen source prompt per task; only W_Q, W_K, W_V learn, on all tasks \
            together (examples-proportional mixing, capped per task). Task t's target is \
            Σ_j A_tj (P_j W_V), A the softmax of block scores (mean of each l×l block of \
            QKᵀ, or --pooling max). Stores NAME.module and one prompt NAME.<task> per \
            task, with lineage to sources and module. To add a task later, retrain the \
            kept module with every task: --module NAME.module starts W_Q, W_K, W_V from \
            it (its key width and pooling).
            Example: pvec amp --tasks data/movie,data/amazon,data/tweets --sources movie,amazon,tw16 --shots 16 --name amp
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var taskOptions: TaskListOptions
        @OptionGroup var training: MixTrainOptions
        @Option(help: "Comma-separated source prompts, one per task, in task order.", completion: NameCompletion.nameList) var sources: String
        @Option(help: "Prefix of the stored names.") var name: String
        @Option(help: "Peak learning rate of W_Q, W_K, W_V.") var lr: Float = 0.01
        @Option(help: "Width k of queries and keys.") var keyWidth: Int = 64
        @Option(help: "Block score: mean (DAM) or max (max-pooled rows).") var pooling: DAMModule.Pooling = .mean
        @Option(help: "Per-task cap of examples-proportional mixing (0: none).") var cap: Int = 1000
        @Option(help: "Seed of the module's initial weights.") var moduleSeed: UInt64 = 0
        @Option(help: "Start from this stored AMP module instead of fresh weights.", completion: NameCompletion.names) var module: String?

        func validate() throws {
            guard keyWidth > 0 else { throw ValidationError("Please give --key-width of at least 1.") }
            guard lr > 0 else { throw ValidationError("Please give a positive --lr.") }
            guard cap >= 0 else { throw ValidationError("Please give --cap of 0 (none) or more.") }
        }

        func run() throws {
            let registry = try global.open()
            var req = AMPRun(tasks: try taskOptions.load(), sources: commaList(sources), name: name)
            req.moduleSpec = module
            req.shots = training.shots
            req.keyWidth = keyWidth
            req.pooling = pooling
            req.mixingCap = cap
            req.moduleSeed = moduleSeed
            req.config = training.config(learningRate: lr)
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
            if global.json {
                Output.json(["module": Output.stored(out.module), "targets": .array(out.targets.map(Output.stored)),
                             "attention": .array(out.result.attention.map { .double(Double($0)) }),
                             "losses": .array(out.result.losses.map { .double(Double($0)) }), "seconds": .double(out.result.seconds)])
            } else {
                print("module  \(Output.storedLine(out.module))")
                for t in out.targets { print("target  \(Output.storedLine(t))") }
                let n = out.targets.count
                for i in 0..<n {
                    print("attention \(req.tasks[i].task.name): " + (0..<n).map { String(format: "%.3f", out.result.attention[i * n + $0]) }.joined(separator: " "))
                }
                print(lossLine(out.result.losses, seconds: out.result.seconds))
            }
        }
    }
}
