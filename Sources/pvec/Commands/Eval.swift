import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score a prompt on a labelled dataset and store the evaluation.",
            discussion: """
            Reports accuracy, macro-F1 and per-class counts; the evaluation is stored \
            linked to the prompt and the data hash (see `pvec show NAME`). --no-prompt \
            gives the zero-shot baseline.

            The prompt goes where it was trained to go (the placement its training recipe \
            records; prepend for an imported PEFT adapter) unless --placement says otherwise, \
            e.g. --placement prepend to score an after-cls prompt the way PEFT would run it.

            Example: pvec eval movie --task data/movie/task.json --data data/movie/test.jsonl
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Argument(help: "The prompt to evaluate.", completion: NameCompletion.names) var name: String?
        @Option(help: "Task file.", completion: .file()) var task: String
        @Option(help: "Labelled data, JSONL.", completion: .file()) var data: String
        @Flag(help: "Evaluate the backbone without a prompt (zero-shot baseline).") var noPrompt = false
        @Option(help: "Use only the first N examples.") var limit: Int?
        @Option(help: "Softmax temperature (as in training).") var temperature: Float = 0.05
        @Option(help: "Longest input in tokens.") var maxLength: Int = 128
        @OptionGroup var placementOption: PlacementOption

        func validate() throws {
            if name == nil && !noPrompt { throw ValidationError("Please name a prompt, or pass --no-prompt.") }
            if name != nil && noPrompt { throw ValidationError("Please give either a prompt or --no-prompt, not both.") }
            if let limit, limit <= 0 { throw ValidationError("Please give --limit of at least 1.") }
        }

        func run() throws {
            let registry = try global.open()
            let t = try TaskData.load(task: URL(fileURLWithPath: task), data: URL(fileURLWithPath: data))
            let (spec, dataset) = (t.task, limit.map { t.train.prefix($0) } ?? t.train)
            let reporter = ProgressReporter()
            defer { reporter.finish() }
            var run = EvaluationRun(name, task: spec, data: dataset)
            run.temperature = temperature
            run.maxLength = maxLength
            run.placement = placementOption.placement
            run.progress = global.json ? nil : { [total = dataset.examples.count] in reporter.counting($0, of: total, "eval") }
            let (stored, m) = try modelOptions.session(registry, quiet: true).run(run)
            if global.json {
                Output.json(.object(["id": .string(stored.id.hex), "name": name.map { .string($0) } ?? .null]
                    .merging(m.json(labelNames: spec.labels.map(\.name))) { a, _ in a }))
                return
            }
            print(String(format: "%@ on %@ (%d examples): accuracy %.4f  macro-F1 %.4f", name ?? "no prompt", dataset.source, m.count, m.accuracy, m.macroF1))
            var rows = [["label", "gold", "predicted", "correct"]]
            for (i, c) in m.perLabel.enumerated() {
                rows.append([spec.labels[i].name, String(c.gold), String(c.predicted), String(c.correct)])
            }
            Output.table(rows)
            print("evaluation \(stored.id.short)")
        }
    }
}
