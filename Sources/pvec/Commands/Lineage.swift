import ArgumentParser
import Foundation
import PVecReport
import PVecStore

extension PVec {
    struct Lineage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lineage",
            abstract: "Print where an artifact came from: its parents down to the roots.",
            discussion: "Example: pvec lineage nli    pvec lineage nli --dot | dot -Tsvg > nli.svg")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N, tag or id prefix.", completion: NameCompletion.names) var name: String
        @Flag(help: "Print Graphviz dot instead of a tree.") var dot = false

        func run() throws {
            let registry = try global.open(readonly: true)
            let id = try registry.resolve(name)
            let graph = try registry.lineage(of: id)
            var labels: [ArtifactID: String] = [:]
            for (nid, node) in graph.nodes {
                labels[nid] = node.names.isEmpty ? nid.short : node.names.joined(separator: ", ")
            }
            if global.json {
                Output.json([
                    "root": .string(id.hex),
                    "nodes": .array(graph.nodes.sorted { $0.key < $1.key }.map { nid, node in
                        ["id": .string(nid.hex), "kind": .string(node.kind.rawValue), "op": .string(node.op),
                         "label": .string(labels[nid] ?? nid.short)]
                    }),
                    "edges": .array(graph.edges.map { ["child": .string($0.child.hex), "parent": .string($0.parent.hex), "role": .string($0.role.rawValue)] }),
                ])
            } else if dot {
                let nodes = graph.nodes.sorted { $0.key < $1.key }.map { nid, node in
                    LineageDOT.Node(id: nid.short, names: node.names, kind: node.kind.rawValue, op: node.op)
                }
                let edges = graph.edges.map { LineageDOT.Edge(child: $0.child.short, parent: $0.parent.short, role: $0.role.rawValue) }
                // Quoted for DOT there; each line still goes through `print`, which escapes what
                // could act on a terminal (a bidi override in a name from a bundle).
                for line in LineageDOT(nodes: nodes, edges: edges).render().split(separator: "\n") { print(line) }
            } else {
                var seen = Set<ArtifactID>()
                func walk(_ nid: ArtifactID, role: ParentRole?, prefix: String, last: Bool, top: Bool) {
                    let node = graph.nodes[nid]
                    let branch = top ? "" : (last ? "└─ " : "├─ ")
                    let roleText = role.map { "\($0.rawValue): " } ?? ""
                    let desc = node.map { "\($0.kind.rawValue) \($0.op)" } ?? "?"
                    let repeated = seen.contains(nid)
                    print("\(prefix)\(branch)\(roleText)\(labels[nid] ?? nid.short) [\(nid.short)] \(desc)\(repeated ? " (see above)" : "")")
                    if repeated { return }
                    seen.insert(nid)
                    let parents = node == nil ? [] : graph.parents(of: nid)
                    let childPrefix = top ? "" : prefix + (last ? "   " : "│  ")
                    for (i, p) in parents.enumerated() {
                        walk(p.id, role: p.role, prefix: childPrefix, last: i == parents.count - 1, top: false)
                    }
                }
                walk(id, role: nil, prefix: "", last: true, top: true)
            }
        }
    }
}
