import ArgumentParser
import Foundation
import PVecOps
import PVecStore

extension PVec {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a prompt from safetensors, .npy or a PEFT prompt-tuning adapter.",
            discussion: """
            A directory is read as a PEFT adapter (adapter_config.json +
            adapter_model.safetensors); its base model becomes the backbone. Give --init
            to record the init a prompt was tuned from, so it can be used as a task
            vector.
            Example: pvec import ./mnli-adapter --name mnli --init mnli-init
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A .safetensors or .npy file, or a PEFT adapter directory.", completion: .file()) var path: String
        @Option(help: "Name for the imported artifact.") var name: String
        @Option(help: "What the tensor is.") var kind: ImportKind = .prompt
        @Option(name: .customLong("init"), help: "The init this prompt was tuned from.", completion: NameCompletion.names) var initName: String?
        @Option(help: "Backbone model id (PEFT adapters name theirs).") var backbone: String?
        @Option(help: "Tensor key in a safetensors file holding several.") var tensor: String?
        @Flag(help: "Keep NaN or Inf values instead of refusing the file.") var allowNonfinite = false

        func run() throws {
            let registry = try global.open()
            var req = ImportRequest(url: URL(fileURLWithPath: path), name: name)
            req.kind = kind.artifactKind
            req.initSpec = initName
            req.backbone = backbone
            req.key = tensor
            req.allowNonfinite = allowNonfinite
            Output.report(try registry.importTensor(req, command: GlobalOptions.commandLine), json: global.json)
        }
    }
}
