import ArgumentParser
import PVecStore

extension PVec {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "Show the history of changes to names and tags, newest first.",
            discussion: "Example: pvec log --limit 20")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Show at most this many entries.") var limit: Int?

        func run() throws {
            let registry = try global.open(readonly: true)
            let entries = try registry.log(limit: limit)
            if global.json {
                Output.json(.array(entries.map { e in
                    [
                        "time": .string(Output.iso(e.time)), "action": .string(e.action),
                        "name": e.name.map { .string($0) } ?? .null,
                        "old": e.oldID.map { .string($0.hex) } ?? .null,
                        "new": e.newID.map { .string($0.hex) } ?? .null,
                        "command": .string(e.command),
                    ]
                }))
                return
            }
            var rows: [[String]] = []
            for e in entries {
                rows.append([Output.iso(e.time), e.action, e.name ?? "", "\(e.oldID?.short ?? "-") -> \(e.newID?.short ?? "-")", e.command])
            }
            Output.table(rows)
        }
    }
}
