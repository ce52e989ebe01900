import ArgumentParser
import PVecRemote
import PVecStore

extension PVec {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show an artifact's manifest, names, tags, children and evaluations.",
            discussion: """
            --attention (with --task and --data) also runs an ATTEMPT mixture over the \
            data and prints the mean attention per source prompt, as `pvec attention` \
            does.
            Example: pvec show mnli    pvec show mnli@1 --json
                     pvec show tw-attempt --attention --task data/tweets/task.json --data data/tweets/test.jsonl --limit 200
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name, name@N, tag or id prefix.", completion: NameCompletion.names) var name: String
        @Flag(help: "Also print an ATTEMPT mixture's mean attention per source on --task/--data.") var attention = false
        @OptionGroup var on: AttentionDataOptions
        @OptionGroup var modelOptions: ModelOptions

        func validate() throws {
            if attention, on.task == nil || on.data == nil {
                throw ValidationError("Please give --task and --data with --attention.")
            }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let id = try registry.resolve(name)
            let m = try registry.manifest(id)
            let names = try registry.names(of: id)
            let tags = try registry.tags(of: id)
            let children = try registry.children(of: id)
            let evaluations = try children.filter { $0.role == .evaluated }.map { try ($0.id, registry.manifest($0.id)) }
            let signatures = try SignatureCheck.statuses(registry, id)
            let meanAttention = attention ? try on.measure(name, registry: registry, model: modelOptions) : nil
            if global.json {
                var o: [String: JSONValue] = [
                    "id": .string(id.hex),
                    "manifest": m.json,
                    "names": .array(names.map { .string($0) }),
                    "tags": .array(tags.map { .string($0) }),
                    "children": .array(children.map { ["role": .string($0.role.rawValue), "id": .string($0.id.hex)] }),
                    "evaluations": .array(evaluations.map { ["id": .string($0.0.hex), "metrics": .object($0.1.metrics), "params": .object($0.1.recipe.params)] }),
                    "signatures": .array(signatures.map {
                        ["key": .string($0.signature.key), "signer": $0.signature.signer.map { .string($0) } ?? .null,
                         "valid": .bool($0.valid), "team": $0.team.map { .string($0) } ?? .null]
                    }),
                ]
                if let meanAttention { o["attention"] = meanAttention.json(name: name) }
                Output.json(.object(o))
                return
            }
            print("id        \(id.hex)")
            print("kind      \(m.kind.rawValue)")
            if let shape = m.shape { print("shape     \(shape) \(m.dtype?.rawValue ?? "")") }
            if let b = m.backbone { print("backbone  \(b)") }
            if let blob = m.blob { print("blob      \(blob.hex)") }
            if !names.isEmpty { print("names     \(names.joined(separator: ", "))") }
            if !tags.isEmpty { print("tags      \(tags.joined(separator: ", "))") }
            for sig in signatures {
                print("signed    \(ArtifactSignature.fingerprint(sig.signature.key)) \(sig.summary)")
            }
            print("recipe    \(m.recipe.op) \(JSONValue.object(m.recipe.params).canonicalString)")
            for p in m.parents {
                let pn = (try? registry.names(of: p.id).first) ?? nil
                print("parent    \(p.role.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(p.id.short)\(pn.map { " (\($0))" } ?? "")")
            }
            if !m.metrics.isEmpty { print("metrics   \(JSONValue.object(m.metrics).canonicalString)") }
            for c in children where c.role != .evaluated {
                print("child     \(c.role.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(c.id.short)")
            }
            for (eid, e) in evaluations {
                let data = e.recipe.params["data"]?.stringValue ?? "?"
                print("eval      \(eid.short) on \(data): \(JSONValue.object(e.metrics).canonicalString)")
            }
            if let meanAttention {
                print("attention on \(on.data!):")
                meanAttention.print()
            }
        }
    }
}
