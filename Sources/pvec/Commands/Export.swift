import ArgumentParser
import Foundation
import PVecOps
import PVecStore
import PVecTensor

extension PVec {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an artifact's tensor as safetensors, .npy or a PEFT adapter directory.",
            discussion: "Example: pvec export nli --out nli.safetensors    pvec export nli --out nli-adapter --format peft")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N, tag or id prefix.", completion: NameCompletion.names) var name: String
        @Option(help: "Output file (or directory for peft).", completion: .file()) var out: String
        @Option(help: "safetensors, npy or peft (default: from the file extension).") var format: String?
        @Option(help: "Element type: F32, F16, BF16 or F64.") var dtype: String = "F32"

        func validate() throws {
            if let format, TensorFileFormat(rawValue: format) == nil {
                throw ValidationError("Please use --format safetensors, npy or peft.")
            }
            guard let d = DType(rawValue: dtype.uppercased()), [.f32, .f16, .bf16, .f64].contains(d) else {
                throw ValidationError("Please use --dtype F32, F16, BF16 or F64.")
            }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let url = URL(fileURLWithPath: out)
            let fmt = format.flatMap(TensorFileFormat.init(rawValue:))
                ?? (url.pathExtension.lowercased() == "npy" ? .npy : url.pathExtension.isEmpty ? .peft : .safetensors)
            let id = try registry.export(name, to: url, format: fmt, dtype: DType(rawValue: dtype.uppercased())!)
            if global.json {
                Output.json(["id": .string(id.hex), "out": .string(url.path), "format": .string(fmt.rawValue)])
            } else {
                print("wrote \(id.short) to \(url.path) (\(fmt.rawValue))")
            }
        }
    }
}
