/// A lineage graph as Graphviz DOT (`pvec lineage N --dot | dot -Tsvg > n.svg`).
///
/// One font for everything: the graph, its nodes and its edge labels are all set to
/// `fontname`, since Graphviz gives each of them its own default (Times) otherwise. A node's
/// label is its names, then `kind · op`, then its short id; a node with no name shows its id
/// once, as its first line. Every string is escaped for a DOT quoted string: names and ops may
/// come from a bundle or a server.
///
/// ```swift
/// let dot = LineageDOT(nodes: [.init(id: "1a2b3c4d5e6f", names: ["mnli"], kind: "prompt", op: "import")],
///                      edges: []).render()
/// ```
public struct LineageDOT: Sendable {
    public struct Node: Sendable {
        /// The short id (unique within the graph).
        public var id: String
        public var names: [String]
        public var kind: String
        public var op: String

        public init(id: String, names: [String], kind: String, op: String) {
            self.id = id
            self.names = names
            self.kind = kind
            self.op = op
        }
    }

    public struct Edge: Sendable {
        public var child: String
        public var parent: String
        public var role: String

        public init(child: String, parent: String, role: String) {
            self.child = child
            self.parent = parent
            self.role = role
        }
    }

    public var nodes: [Node]
    public var edges: [Edge]
    public var fontname: String

    public init(nodes: [Node], edges: [Edge], fontname: String = "Helvetica") {
        self.nodes = nodes
        self.edges = edges
        self.fontname = fontname
    }

    /// The DOT text, one statement per line.
    public func render() -> String {
        let font = Self.quoted(fontname)
        var lines = [
            "digraph lineage {",
            "  rankdir=BT;",
            "  graph [fontname=\(font)];",
            "  node [shape=box, fontname=\(font)];",
            "  edge [fontname=\(font)];",
        ]
        for n in nodes {
            let label = n.names.isEmpty
                ? [n.id, "\(n.kind) · \(n.op)"]
                : [n.names.joined(separator: ", "), "\(n.kind) · \(n.op)", n.id]
            lines.append("  \(Self.quoted(n.id)) [label=\(Self.quoted(label.joined(separator: "\n")))];")
        }
        for e in edges {
            lines.append("  \(Self.quoted(e.child)) -> \(Self.quoted(e.parent)) [label=\(Self.quoted(e.role))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `s` as a DOT quoted string: backslashes and quotes escaped, a newline as DOT's `\n`
    /// (a centred line break), other control characters dropped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 || (0x7F...0x9F).contains(u.value) { continue }
                out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
