import ArgumentParser
import PVecStore

extension PVec {
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove artifacts and blobs that no name, tag or history entry reaches.",
            discussion: "Example: pvec gc --dry-run")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only report what would be removed.") var dryRun = false

        func run() throws {
            let registry = try global.open(readonly: dryRun)
            let r = try registry.gc(dryRun: dryRun)
            if global.json {
                Output.json([
                    "dry_run": .bool(dryRun),
                    "artifacts": .array(r.removedArtifacts.map { .string($0.hex) }),
                    "blobs": .array(r.removedBlobs.map { .string($0.hex) }),
                    "bytes": .int(r.bytesFreed),
                ])
            } else {
                let verb = dryRun ? "would remove" : "removed"
                print("\(verb) \(r.removedArtifacts.count) artifacts and \(r.removedBlobs.count) blobs (\(r.bytesFreed) bytes)")
                for a in r.removedArtifacts { print("  artifact \(a.short)") }
            }
        }
    }
}
