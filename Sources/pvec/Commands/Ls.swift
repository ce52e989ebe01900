import ArgumentParser
import PVecStore

extension PVec {
    struct Ls: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List artifacts, filtered by kind, backbone or tag.",
            discussion: "Example: pvec ls --kind vector --tag stable")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this kind.") var kind: ArtifactKind?
        @Option(help: "Only artifacts of this backbone model id.") var backbone: String?
        @Option(help: "Only artifacts with this tag.") var tag: String?
        @Flag(help: "Only artifacts that have a name.") var named = false

        func run() throws {
            let registry = try global.open(readonly: true)
            var items = try registry.list(kind: kind, backbone: backbone, tag: tag)
            if named { items = items.filter { !$0.names.isEmpty } }
            if global.json {
                Output.json(.array(items.map { s in
                    [
                        "id": .string(s.id.hex), "kind": .string(s.kind.rawValue), "shape": Output.dims(s.shape),
                        "backbone": s.backbone.map { .string($0.model) } ?? .null, "op": .string(s.op),
                        "names": .array(s.names.map { .string($0) }), "tags": .array(s.tags.map { .string($0) }),
                        "created": .string(Output.iso(s.createdAt)),
                    ]
                }))
                return
            }
            var rows = [["ID", "KIND", "SHAPE", "OP", "NAMES", "TAGS"]]
            for s in items {
                rows.append([s.id.short, s.kind.rawValue, s.shape?.description ?? "-", s.op,
                             s.names.joined(separator: ","), s.tags.joined(separator: ",")])
            }
            Output.table(rows)
        }
    }
}
