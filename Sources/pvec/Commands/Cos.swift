import ArgumentParser
import Foundation
import PVecOps
import PVecReport
import PVecStore

extension PVec {
    struct Cos: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cos",
            abstract: "Cosine similarity of flattened vectors (or prompts).",
            discussion: """
            Prompts with a recorded init are compared as their task vectors unless \
            --raw. --svg writes the matrix as a labelled heat map.
            Examples: pvec cos mnli qnli    pvec cos --matrix mnli qnli sst2 --svg cos.svg
            """)

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the full matrix of all pairs.") var matrix = false
        @Flag(help: "Compare stored tensors as they are, without deriving vectors.") var raw = false
        @Option(help: ArgumentHelp("Also write the matrix as an SVG heat map.", valueName: "file"), completion: .file(extensions: ["svg"])) var svg: String?
        @Argument(help: "Artifacts to compare.", completion: NameCompletion.names) var names: [String]

        func validate() throws {
            if !matrix && names.count != 2 { throw ValidationError("Please name exactly two artifacts, or pass --matrix.") }
            if matrix && names.count < 2 { throw ValidationError("Please name at least two artifacts for --matrix.") }
            if svg != nil && !matrix { throw ValidationError("Please pass --matrix with --svg.") }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let m = try registry.cosineMatrix(names, asVectors: !raw, operation: matrix ? "cos --matrix" : "cos")
            let n = names.count
            if let svg {
                let map = HeatmapSVG(labels: names, values: m.scalars, title: raw ? "cosine (stored tensors)" : "cosine")
                try AtomicFile.write(Array(map.render().utf8), to: URL(fileURLWithPath: svg))
            }
            if !matrix {
                let c = m.scalars[1]
                if global.json { Output.json(["a": .string(names[0]), "b": .string(names[1]), "cosine": .double(Double(c))]) }
                else { print(String(format: "%.6f", c)) }
                return
            }
            if global.json {
                let rows: [JSONValue] = (0..<n).map { i in .array((0..<n).map { j in .double(Double(m.scalars[i * n + j])) }) }
                Output.json(["names": .array(names.map { .string($0) }), "cosine": .array(rows)])
            } else {
                var rows = [[""] + names]
                for i in 0..<n {
                    rows.append([names[i]] + (0..<n).map { j in FixedPoint.format4(m.scalars[i * n + j]) })
                }
                Output.table(rows)
            }
        }
    }
}
