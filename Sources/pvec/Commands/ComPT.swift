import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct ComPT: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compt",
            abstract: "Train ComPT: shared source prompts, private prompts and a router over several tasks.",
            discussion: """
            Pouramini & Faili. Prompts pass through MLP prompt encoders; the router's \
            weights are Relaxed Bernoulli samples in training (τ from 5 to 1e-3) and a \
            softmax at inference. --composition ssum (P_u + Σ w P_s), msum (P_u ⊙ Σ w \
            P_s) or mcat (P_u ⊙ concat w P_s). Stores NAME.src<i>, NAME.<task>.private, \
            NAME.router (module) and the composed prompt NAME.<task> per task, with \
            lineage.
            Example: pvec compt --tasks data/movie,data/amazon --num-sources 2 --composition ssum --shots 16 --name cp
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var taskOptions: TaskListOptions
        @OptionGroup var training: MixTrainOptions
        @Option(help: "Prefix of the stored names.") var name: String
        @Option(help: "How sources and the private prompt combine.") var composition: ComPTComposition = .ssum
        @Option(help: "Start the shared sources from these registry prompts (comma-separated).", completion: NameCompletion.nameList) var sources: String?
        @Option(help: "Number of shared sources (when no --sources).") var numSources: Int = 2
        @Option(help: "Rows of each source prompt (when no --sources).") var promptLen: Int = 8
        @Option(help: "Router learning rate (plain units).") var routerLr: Float = 0.1
        @Option(help: "Source prompts' learning rate in embedding-RMS units; their encoder uses it unscaled.") var sourceLr: Float = 0.05
        @Option(help: "Private prompts' learning rate in embedding-RMS units; their encoder uses it unscaled.") var privateLr: Float = 0.02
        @Option(help: "Per-task cap of examples-proportional mixing (0: none).") var cap: Int = 1000
        @Option(help: "Seed of the vocab-sample inits.") var initSeed: UInt64 = 0
        @Option(help: "Seed of the encoders' initial weights.") var moduleSeed: UInt64 = 0

        func validate() throws {
            guard numSources > 0, promptLen > 0 else { throw ValidationError("Please give --num-sources and --prompt-len of at least 1.") }
            guard routerLr > 0, sourceLr > 0, privateLr > 0 else { throw ValidationError("Please give positive learning rates.") }
            guard cap >= 0 else { throw ValidationError("Please give --cap of 0 (none) or more.") }
        }

        func run() throws {
            let registry = try global.open()
            var req = ComPTRun(tasks: try taskOptions.load(), name: name)
            req.sources = commaList(sources)
            req.sourceCount = numSources
            req.promptLength = promptLen
            req.composition = composition
            req.rates.router = routerLr
            req.rates.sources = sourceLr
            req.rates.privates = privateLr
            req.shots = training.shots
            req.mixingCap = cap
            req.initSeed = initSeed
            req.moduleSeed = moduleSeed
            // The schedule's peak is 1: each group scales it by its own rate.
            req.config = training.config(learningRate: 1)
            let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
            if global.json {
                Output.json(["router": Output.stored(out.router), "sources": .array(out.sources.map(Output.stored)),
                             "privates": .array(out.privates.map(Output.stored)), "targets": .array(out.targets.map(Output.stored)),
                             "losses": .array(out.result.losses.map { .double(Double($0)) }), "seconds": .double(out.result.seconds)])
            } else {
                for s in out.sources { print("source  \(Output.storedLine(s))") }
                for p in out.privates { print("private \(Output.storedLine(p))") }
                print("router  \(Output.storedLine(out.router))")
                for t in out.targets { print("target  \(Output.storedLine(t))") }
                print(lossLine(out.result.losses, seconds: out.result.seconds))
            }
        }
    }
}
