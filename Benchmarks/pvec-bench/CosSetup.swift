import ArgumentParser
import Foundation
import PVecOps
import PVecStore
import PVecTensor

extension PVecBench {
    struct CosSetup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cos-matrix-setup",
            abstract: "Store N task vectors in a fresh registry and as safetensors files.",
            discussion: """
            Writes DIR/files/vNNN.safetensors, DIR/registry with vectors named vNNN, and
            DIR/names.txt (one name a line) for `pvec cos --matrix $(cat DIR/names.txt)`.
            """)

        @Argument(help: "Folder for the data (replaced).") var dir: String
        @Option(help: "How many vectors.") var count = 200
        @Option(help: "Prompt rows.") var rows = 100
        @Option(help: "Prompt width.") var width = 768

        func run() throws {
            let root = URL(fileURLWithPath: dir, isDirectory: true)
            let files = root.appendingPathComponent("files", isDirectory: true)
            try freshFolder(root)
            try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
            let reg = try Registry.create(at: root.appendingPathComponent("registry", isDirectory: true))
            var gen = PromptGenerator(seed: 3)
            var names: [String] = []
            for k in 0..<count {
                let name = String(format: "v%03d", k)
                let url = files.appendingPathComponent("\(name).safetensors")
                try Data(Safetensors.canonical(gen.tensor(rows: rows, width: width, std: 0.01))).write(to: url)
                var req = ImportRequest(url: url, name: name)
                req.kind = .vector
                req.backbone = benchBackbone(width: width).model
                _ = try reg.importTensor(req, command: "pvec-bench cos-matrix-setup")
                names.append(name)
            }
            try (names.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("names.txt"), atomically: true, encoding: .utf8)
            print("cos-matrix-setup: \(count) vectors [\(rows), \(width)] in \(root.path)")
        }
    }
}
