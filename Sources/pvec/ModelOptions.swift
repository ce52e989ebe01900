import ArgumentParser
import Foundation
import PVecModel
import PVecStore
import PVecTrain

/// Where the frozen backbone lives.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (default: $PVEC_MODEL, else ~/.cache/pvec/models/all-MiniLM-L6-v2).", valueName: "dir"), completion: .directory)
    var model: String?

    func load() throws -> BertEncoder {
        try BertEncoder(directory: model.map { URL(fileURLWithPath: $0) })
    }

    /// A session recording into `registry` that loads this model once a run has been checked;
    /// training progress goes to standard error unless `quiet`.
    func session(_ registry: Registry, quiet: Bool, reporter: ProgressReporter = ProgressReporter()) -> TrainingSession {
        TrainingSession(registry: registry, command: GlobalOptions.commandLine,
                        progress: quiet ? nil : { reporter.training($0) }, model: load)
    }

    /// Runs `body` in a session (see `session`) and closes its progress with a summary line
    /// when the body returns or throws, also when training stopped early.
    ///
    /// ```swift
    /// let out = try modelOptions.withSession(registry, quiet: global.json) { try $0.run(req) }
    /// ```
    func withSession<T>(_ registry: Registry, quiet: Bool, _ body: (TrainingSession) throws -> T) rethrows -> T {
        let reporter = ProgressReporter()
        defer { reporter.finish() }
        return try body(session(registry, quiet: quiet, reporter: reporter))
    }
}

/// The model cache lives in PVecModel; commands that do not import it (verify) use this name.
typealias EmbeddingTables = PVecModel.EmbeddingTables

extension PromptPlacement: ExpressibleByArgument {}

/// Where the soft prompt goes in the input (`pvec train`, `pvec eval`).
struct PlacementOption: ParsableArguments {
    @Option(help: ArgumentHelp("Prompt placement: prepend (before [CLS], as PEFT) or after-cls (default: prepend for train; for eval, what the prompt was trained with).",
                               valueName: "prepend|after-cls"))
    var placement: PromptPlacement?
}
