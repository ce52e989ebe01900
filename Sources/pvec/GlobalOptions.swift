import ArgumentParser
import Foundation
import PVecStore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Registry directory (default: $PVEC_REGISTRY, else ~/.pvec).", valueName: "path"), completion: .directory)
    var registry: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    var registryURL: URL { Registry.location(explicit: registry) }

    /// Opens the registry; read commands open it read-only so they can never write.
    /// `longLived` (the server) keeps glibc's default of returning freed memory to the system.
    func open(readonly: Bool = false, longLived: Bool = false) throws -> Registry {
        if !longLived { ProcessMemory.keepFreedMemoryForReuse() }
        return try Registry.open(at: registryURL, configuration: RegistryConfiguration(readonly: readonly))
    }

    /// The command line as typed, recorded in ref history and the audit log.
    static var commandLine: String {
        (["pvec"] + CommandLine.arguments.dropFirst()).map { arg in
            arg.contains(" ") ? "'\(arg)'" : arg
        }.joined(separator: " ")
    }
}
