import ArgumentParser
import Foundation
import PVecOps
import PVecStore
import PVecTensor
import PVecTrain

extension TensorFileFormat: ExpressibleByArgument {}

/// The element types pvec writes; `--dtype` takes them in either case (`bf16`, `BF16`).
enum WrittenDType: String, CaseIterable, ExpressibleByArgument {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"

    init?(argument: String) { self.init(rawValue: argument.uppercased()) }

    var dtype: DType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .f64: return .f64
        }
    }
}

extension PVec {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write an artifact's tensor as safetensors, .npy or a PEFT adapter directory.",
            discussion: """
            A PEFT export (a directory) is what PeftModel.from_pretrained loads: the \
            adapter config the prompt was imported with, or carried through arithmetic \
            (task type, submodules, virtual tokens), its other tensors (a SEQ_CLS \
            classifier head) bit for bit, and base_model_name_or_path from the backbone \
            (null when unknown). The element type is the one the prompt was imported in \
            unless --dtype says otherwise. A task vector is not a prompt: add it onto an \
            init first (pvec add V --onto INIT), or pass --allow-vector.

            Example: pvec export nli --out nli.safetensors    pvec export nli --out nli-adapter --format peft
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N, tag or id prefix.", completion: NameCompletion.names) var name: String
        @Option(help: "Output file (or directory for peft).", completion: .file()) var out: String
        @Option(help: "safetensors, npy or peft (default: from the file extension; none means peft).") var format: TensorFileFormat?
        @Option(help: "Element type: F32, F16, BF16 or F64 (default: the type it was imported in).") var dtype: WrittenDType?
        @Option(help: "The tensor's key in a safetensors file.") var key: String = PEFTAdapter.tensorKey
        @Flag(help: "Export a task vector as a PEFT adapter anyway.") var allowVector = false

        func run() throws {
            let registry = try global.open(readonly: true)
            let url = URL(fileURLWithPath: out)
            let fmt = format
                ?? (url.pathExtension.lowercased() == "npy" ? .npy : url.pathExtension.isEmpty ? .peft : .safetensors)
            let (id, warning) = try PromptExport.run(registry, name, to: url, format: fmt, dtype: dtype?.dtype, key: key,
                                                     allowVector: allowVector)
            if let warning { printErr(warning) }
            if global.json {
                Output.json(["id": .string(id.hex), "out": .string(url.path), "format": .string(fmt.rawValue)])
            } else {
                print("wrote \(id.short) to \(url.path) (\(fmt.rawValue))")
            }
        }
    }
}
