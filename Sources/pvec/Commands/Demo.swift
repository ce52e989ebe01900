import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Train source prompts, add their task vectors, and start a new task from the registry.",
            discussion: """
            Uses the real sentiment tasks that scripts/fetch-data builds (movie, amazon \
            -> tweets) and a throwaway registry unless --registry is given. The new task \
            starts from a random init, from the sum of the source vectors, and from \
            weights of the source vectors fitted on its few shots (pvec compose); the \
            table at the end compares them. Takes a few minutes on 2 cores.
            Example: pvec demo    pvec demo --target nyt --target-shots 16
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Folder of tasks written by scripts/fetch-data.", completion: .directory) var dataDir: String = "data"
        @Option(help: "Source tasks, comma-separated.") var sources: String = "movie,amazon"
        @Option(help: "The new task.") var target: String = "tweets"
        @Option(help: "Prompt length in tokens.") var promptLen: Int = 8
        @Option(help: "Shots per label for source tasks.") var sourceShots: Int = 64
        @Option(help: "Training steps per source task.") var sourceSteps: Int = 40
        @Option(help: "Shots per label for the new task.") var targetShots: Int = 8
        @Option(help: "Training steps on the new task.") var targetSteps: Int = 20
        @Option(help: "Peak learning rate.") var lr: Float = 0.3
        @Option(help: "Test examples per evaluation.") var evalLimit: Int = 300

        func run() throws {
            let root: URL
            if global.registry != nil || ProcessInfo.processInfo.environment["PVEC_REGISTRY"] != nil {
                root = global.registryURL
            } else {
                root = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-demo-\(getpid())")
            }
            let registry = try Registry.create(at: root)
            printErr("registry: \(root.path)")
            var plan = DemoPlan(dataDirectory: URL(fileURLWithPath: dataDir))
            plan.sources = sources.split(separator: ",").map(String.init)
            plan.target = target
            plan.promptLength = promptLen
            plan.sourceShots = sourceShots
            plan.sourceSteps = sourceSteps
            plan.targetShots = targetShots
            plan.targetSteps = targetSteps
            plan.learningRate = lr
            plan.evalLimit = evalLimit
            let model = try modelOptions.load()
            let reporter = ProgressReporter(every: 10)
            defer { reporter.finish() }
            let runner = DemoRunner(registry: registry, model: model, plan: plan, command: GlobalOptions.commandLine)
            let rows = try runner.run(log: { printErr($0) }, progress: global.json ? nil : { reporter.training($0) })
            if global.json {
                Output.json(["registry": .string(root.path), "rows": .array(rows.map { r in
                    ["task": .string(r.task), "method": .string(r.method), "artifact": .string(r.artifact),
                     "accuracy": .double(r.accuracy), "macro_f1": .double(r.macroF1)]
                })])
                return
            }
            print("")
            var table = [["task", "method", "artifact", "accuracy", "macro-F1"]]
            for r in rows {
                table.append([r.task, r.method, r.artifact, String(format: "%.3f", r.accuracy), String(format: "%.3f", r.macroF1)])
            }
            Output.table(table)
            print("")
            print("lineage of \(runner.composedName):")
            _ = try? PVec.Lineage.parse([runner.composedName, "--registry", root.path]).run()
            print("")
            print("explore: pvec --help; pvec ls --registry \(root.path)")
        }
    }
}
