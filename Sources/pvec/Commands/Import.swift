import ArgumentParser
import Foundation
import PVecOps
import PVecStore

extension PVec {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import a prompt from safetensors, .npy or a PEFT prompt-tuning adapter.",
            discussion: """
            A directory is read as a PEFT adapter (adapter_config.json + \
            adapter_model.safetensors); its base model becomes the backbone unless \
            --backbone names another. pvec keeps its config, the element type it was saved \
            in and its other tensors (a SEQ_CLS classifier head, stored as a module linked \
            to the prompt), so an export writes the adapter back as it came. F64 values are \
            rounded to F32, with a note on stderr. Give --init to record the init a prompt \
            was tuned from, so it can be used as a task vector.

            Example: pvec import ./mnli-adapter --name mnli --init mnli-init
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "A .safetensors or .npy file, or a PEFT adapter directory.", completion: .file()) var path: String
        @Option(help: "Name for the imported artifact.") var name: String
        @Option(help: "What the tensor is.") var kind: ImportKind = .prompt
        @Option(name: .customLong("init"), help: "The init this prompt was tuned from.", completion: NameCompletion.names) var initName: String?
        @Option(help: "Backbone model id (PEFT adapters name theirs).") var backbone: String?
        @Option(help: "Tensor key in a safetensors file holding several.") var tensor: String?
        @Option(help: "Read the path as safetensors, npy or peft (default: guessed from it).") var format: TensorFileFormat?
        @Flag(help: "Keep NaN or Inf values instead of refusing the file.") var allowNonfinite = false

        func run() throws {
            let registry = try global.open()
            var req = ImportRequest(url: URL(fileURLWithPath: path), name: name)
            req.kind = kind.artifactKind
            req.initSpec = initName
            req.backbone = backbone
            req.key = tensor
            req.allowNonfinite = allowNonfinite
            req.format = format
            let stored = try registry.importTensor(req, command: GlobalOptions.commandLine)
            Output.report(stored, json: global.json)
            for note in stored.notes { printErr(note) }
        }
    }
}
