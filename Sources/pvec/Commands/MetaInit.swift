import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct MetaInit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "meta-init",
            abstract: "Meta-learn a prompt init over source tasks (Reptile or first-order MAML).",
            discussion: """
            Qin et al. 2023 (MPT). Each task's data is split into support and query \
            halves; each outer step adapts the init to one task with --inner-steps SGD \
            steps, then moves it (Reptile: towards the adapted prompt by --outer-lr; \
            FOMAML: by the query gradient, AdamW at --outer-lr). Stores an init NAME \
            whose recipe names the method and the source datasets (task names and \
            hashes); train a new task from it with `pvec train --init NAME`.
            Example: pvec meta-init --tasks data/movie,data/amazon,data/nyt --method reptile --prompt-len 8 --name meta
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var taskOptions: TaskListOptions
        @Option(help: "Name of the init.") var name: String
        @Option(help: "The meta-learning method.") var method: MetaMethod = .reptile
        @Option(help: "Outer (meta) steps.") var outerSteps: Int = 20
        @Option(help: "Inner SGD steps per outer step.") var innerSteps: Int = 4
        @Option(help: "Inner SGD learning rate (L2 length of a step on the clipped gradient).") var innerLr: Float = 0.3
        @Option(help: "Outer rate: reptile's interpolation (default 0.5), or fomaml's AdamW rate in embedding-RMS units (default 0.3).") var outerLr: Float?
        @Option(help: "Prompt length in rows (when no --init).") var promptLen: Int = 8
        @Option(name: .customLong("init"), help: "Start from this registry init or prompt.", completion: NameCompletion.names) var initName: String?
        @Option(help: "Seed of the starting vocab-sample init.") var initSeed: UInt64 = 0
        @Option(help: "Class-balanced examples per label of each task.") var shots: Int?
        @Option(help: "Batch size.") var batch: Int = 8
        @Option(help: "Seed of the splits, task order and batches.") var seed: UInt64 = 0
        @Option(help: "Softmax temperature of the cosine logits.") var temperature: Float = 0.05
        @Option(help: "Longest input in tokens.") var maxLength: Int = 128

        func validate() throws {
            guard outerSteps > 0, innerSteps > 0, batch > 0, promptLen > 0 else {
                throw ValidationError("Please give --outer-steps, --inner-steps, --batch and --prompt-len of at least 1.")
            }
            guard innerLr > 0 else { throw ValidationError("Please give a positive --inner-lr.") }
            if let outerLr, outerLr <= 0 { throw ValidationError("Please give a positive --outer-lr.") }
            if let shots, shots < 1 { throw ValidationError("Please give --shots of at least 1.") }
        }

        func run() throws {
            let registry = try global.open()
            var req = MetaInitRun(tasks: try taskOptions.load(), name: name)
            req.promptLength = promptLen
            req.initSpec = initName
            req.initSeed = initSeed
            req.shots = shots
            req.config.method = method
            req.config.outerSteps = outerSteps
            req.config.innerSteps = innerSteps
            req.config.innerLearningRate = innerLr
            req.config.outerLearningRate = outerLr
            req.config.batchSize = batch
            req.config.seed = seed
            req.config.temperature = temperature
            req.config.maxLength = maxLength
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
            if global.json {
                Output.json(["init": Output.stored(out.initArtifact), "start": Output.stored(out.start),
                             "query_losses": .array(out.result.queryLosses.map { .double(Double($0)) }), "seconds": .double(out.result.seconds)])
            } else {
                print("init    \(Output.storedLine(out.initArtifact))")
                print("start   \(Output.storedLine(out.start))")
                print("query " + lossLine(out.result.queryLosses, seconds: out.result.seconds))
            }
        }
    }
}
