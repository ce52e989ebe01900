import ArgumentParser
import Foundation
import PVecStore

extension PVec {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Show the hash-chained audit log, or verify the chain.",
            discussion: "Example: pvec audit mnli    pvec audit verify",
            subcommands: [History.self, Check.self], defaultSubcommand: History.self)
    }
}

extension PVec.Audit {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the audit history (of one name or tag), newest first.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Only entries about this name or tag (and signatures and imports of what it pointed at).",
                  completion: NameCompletion.names)
        var name: String?

        func run() throws {
            let registry = try global.open(readonly: true)
            let entries = try name.map { try registry.audit(name: $0) } ?? registry.log()
            if global.json {
                Output.json(.array(entries.map { e in
                    [
                        "seq": .int(e.sequence), "time": .string(Output.iso(e.time)), "action": .string(e.action),
                        "name": e.name.map { .string($0) } ?? .null, "old": e.oldID.map { .string($0.hex) } ?? .null,
                        "new": e.newID.map { .string($0.hex) } ?? .null, "command": .string(e.command),
                        "actor": e.actor.map { .string($0) } ?? .null, "hash": e.hash.map { .string($0) } ?? .null,
                    ]
                }))
                return
            }
            Output.table(entries.map { e in
                ["\(e.sequence)", Output.iso(e.time), e.actor ?? "-", e.action, e.name ?? "",
                 "\(e.oldID?.short ?? "-") -> \(e.newID?.short ?? "-")", e.command]
            })
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the audit chain; report edited, removed, reordered or unchained entries.",
            discussion: """
                Also compares the chain with the heads logs/refs recorded at each commit (a cut-off end \
                or a rewritten chain) and the trust store with the chain's trust changes. \
                Exits non-zero on any problem.
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let registry = try global.open(readonly: true)
            let r = try registry.verifyAuditLog()
            func head(_ h: AuditHead?) -> JSONValue {
                h.map { ["seq": .int($0.sequence), "hash": .string($0.hash)] } ?? .null
            }
            if global.json {
                Output.json(["entries": .int(Int64(r.entries)), "head": r.head.map { .string($0) } ?? .null,
                             "intact": .bool(r.isIntact), "anchor": head(r.anchor),
                             "previous_chains": .array(r.previousChains.map(head)),
                             "problems": .array(r.problems.map { ["seq": .int($0.sequence), "kind": .string($0.kind.rawValue),
                                                                  "message": .string($0.message)] })])
            } else {
                for old in r.previousChains {
                    print("restart  a repair started this chain; the previous one ended at "
                          + (old.map { "seq \($0.sequence) head \($0.hash.prefix(16))" } ?? "an unknown head"))
                }
                for p in r.problems {
                    print("\(p.kind.rawValue)  \(p.kind == .trustMismatch ? "trusted_keys" : "seq \(p.sequence)")  \(p.message)")
                }
                let anchor = r.anchor.map { ", anchored at seq \($0.sequence) in logs/refs" } ?? ""
                let n = r.problems.count
                print("\(r.entries) entries, head \(r.head.map { String($0.prefix(16)) } ?? "-")\(anchor), \(n == 0 ? "chain intact" : "\(n) problem\(n == 1 ? "" : "s")")")
            }
            if let first = r.problems.first {
                if first.kind == .trustMismatch {
                    throw AuditBroken(message: "trusted_keys disagrees with the audit chain: \(first.message)")
                }
                throw AuditBroken(message: "the audit log is broken at seq \(first.sequence): \(first.kind.rawValue) (\(first.message))")
            }
        }
    }
}

/// A broken chain: the first problem, as the one-line error.
struct AuditBroken: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
