import ArgumentParser
import Foundation
import PVecStore

/// `--peft-config FILE`, shared by every command that derives an artifact (add, sub, neg,
/// scale, merge, vector, init-from): the PEFT adapter config the result exports with, for when
/// its parents came from adapters that disagree (or from none).
struct PEFTOptions: ParsableArguments {
    @Option(name: .customLong("peft-config"),
            help: ArgumentHelp("A PEFT adapter_config.json the result exports with, instead of its parents'.",
                               discussion: "Results carry their parents' PEFT config; parents whose configs differ (task type, virtual tokens, submodules, base model) are refused unless this names one. Example: --peft-config ./mnli-adapter/adapter_config.json",
                               valueName: "file"),
            completion: .file(extensions: ["json"]))
    var file: String?

    /// The config read from `file`, or nil when none was given.
    func config() throws -> [String: JSONValue]? {
        try file.map { try PEFTAdapter.readConfig(URL(fileURLWithPath: $0)) }
    }
}
