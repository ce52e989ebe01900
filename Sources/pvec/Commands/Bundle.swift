import ArgumentParser
import Foundation
import PVecRemote
import PVecStore

extension PVec {
    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle",
            abstract: "Write artifacts with their lineage to one file, or import such a file.",
            discussion: "Example: pvec bundle create mnli.pvb mnli    pvec bundle import mnli.pvb --prefix team-a/",
            subcommands: [Create.self, Import.self])
    }
}

extension PVec.Bundle {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Write the named artifacts, their lineage, blobs, signatures and names to a bundle file.",
            discussion: "Example: pvec bundle create out.pvb mnli qnli")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The bundle file to write.", completion: .file()) var out: String
        @Argument(help: "Names (or ids) to put in it.", completion: NameCompletion.names) var names: [String]

        func validate() throws {
            if names.isEmpty { throw ValidationError("Please name at least one artifact, as in: pvec bundle create out.pvb mnli") }
        }

        func run() throws {
            let registry = try global.open(readonly: true)
            let s = try PromptBundle.create(from: registry, names: names, to: URL(fileURLWithPath: out))
            if global.json {
                Output.json(["file": .string(out), "artifacts": .int(Int64(s.artifacts)), "blobs": .int(Int64(s.blobs)),
                             "bytes": .int(Int64(s.bytes)), "names": .array(s.names.map { .string($0) })])
            } else {
                print("wrote \(out): \(s.artifacts) artifacts, \(s.blobs) blobs, \(s.names.count) names (\(s.bytes) bytes)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Check every entry and signature of a bundle, then import it all at once.",
            discussion: "Nothing is imported when any entry is bad. Example: pvec bundle import mnli.pvb --prefix team-a/")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The bundle file.", completion: .file()) var file: String
        @Option(help: "Put this before every imported name, e.g. team-a/.") var prefix: String = ""
        @Flag(help: "Move names that already point elsewhere here.") var force = false

        func run() throws {
            let registry = try global.open()
            let s = try PromptBundle.importBundle(URL(fileURLWithPath: file), into: registry, prefix: prefix, force: force,
                                                  command: GlobalOptions.commandLine)
            if global.json {
                Output.json(["new_artifacts": .int(Int64(s.newArtifacts)), "blobs_written": .int(Int64(s.blobsWritten)),
                             "blobs_present": .int(Int64(s.blobsPresent)), "signatures": .int(Int64(s.signatures)),
                             "names": .array(s.names.map { ["name": .string($0.name), "id": .string($0.id.hex)] })])
            } else {
                print("imported \(s.newArtifacts) new artifacts, \(s.blobsWritten) blobs (\(s.blobsPresent) already here), \(s.signatures) signatures")
                for n in s.names { print("  \(n.name) -> \(n.id.short)") }
            }
        }
    }
}
