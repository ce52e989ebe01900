import ArgumentParser
import Foundation
import PVecOps
import PVecStore
import PVecTensor

extension PVecBench {
    struct AddSetup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-setup",
            abstract: "Make an init and two tuned prompts, as files and in a fresh registry.",
            discussion: """
            Writes DIR/files/{init,a,b}.safetensors and DIR/registry, where `i` is the init and
            `a`, `b` are prompts tuned from it (so `pvec add a b` derives their task vectors).
            """)

        @Argument(help: "Folder for the data (replaced).") var dir: String
        @Option(help: "Prompt rows.") var rows = 100
        @Option(help: "Prompt width.") var width = 768

        func run() throws {
            let root = URL(fileURLWithPath: dir, isDirectory: true)
            let files = root.appendingPathComponent("files", isDirectory: true)
            try freshFolder(root)
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            var gen = PromptGenerator(seed: 2)
            let initTensor = gen.tensor(rows: rows, width: width)
            let a = gen.tensor(rows: rows, width: width, std: 0.01, around: initTensor)
            let b = gen.tensor(rows: rows, width: width, std: 0.01, around: initTensor)
            for (name, t) in [("init", initTensor), ("a", a), ("b", b)] {
                try Data(Safetensors.canonical(t)).write(to: files.appendingPathComponent("\(name).safetensors"))
            }
            let reg = try Registry.create(at: root.appendingPathComponent("registry", isDirectory: true))
            var req = ImportRequest(url: files.appendingPathComponent("init.safetensors"), name: "i")
            req.kind = .`init`
            req.backbone = benchBackbone(width: width).model
            _ = try reg.importTensor(req, command: "pvec-bench add-setup")
            for name in ["a", "b"] {
                var r = ImportRequest(url: files.appendingPathComponent("\(name).safetensors"), name: name)
                r.initSpec = "i"
                _ = try reg.importTensor(r, command: "pvec-bench add-setup")
            }
            print("add-setup: \(root.path) (prompts [\(rows), \(width)])")
        }
    }
}
