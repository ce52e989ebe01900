import ArgumentParser
import Foundation
import PVecStore
import PVecTrain

extension PVec {
    struct Attention: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attention",
            abstract: "Show an ATTEMPT mixture's mean attention per source prompt on a dataset.",
            discussion: """
            Runs the mixture over the data (nothing is stored) and prints the mean \
            attention weight of each source and of the target prompt, with the accuracy. \
            `pvec show NAME --attention` prints the same after the manifest.
            Example: pvec attention tw-attempt --task data/tweets/task.json --data data/tweets/dev.jsonl --limit 100
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Argument(help: "The ATTEMPT mixture.", completion: NameCompletion.names) var name: String
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
    @Option(help: "Task file (for the attention).", completion: .file()) var task: String?
    @Option(help: "Labelled data, JSONL (for the attention).", completion: .file()) var data: String?
    @Option(help: "Use only the first N examples.") var limit: Int?
    @Option(help: "Longest input in tokens.") var maxLength: Int = 128

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("Please give --limit of at least 1.") }
    }

    /// The mean attention per source (and the target, last) and the accuracy on the data.
    func measure(_ name: String, registry: Registry, model: ModelOptions) throws -> MeanAttention {
        guard let task, let data else { throw ValidationError("Please give --task and --data to run the mixture on.") }
        let t = try TaskData.load(task: URL(fileURLWithPath: task), data: URL(fileURLWithPath: data))
        var run = AttentionRun(name, task: t.task, data: limit.map { t.train.prefix($0) } ?? t.train)
        run.maxLength = maxLength
        let (labels, mean, metrics) = try model.session(registry, quiet: true).run(run)
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
