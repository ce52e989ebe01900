import ArgumentParser

/// Benchmarks of issue 2: set-ups for the process-level comparisons with the Python peers
/// (`Benchmarks/run.sh` times those), and the library-level suites, which time themselves.
@main
struct PVecBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvec-bench",
        abstract: "Benchmarks for pvec: set-ups for the CLI comparisons and library-level suites.",
        discussion: "Run everything with Benchmarks/run.sh; figures are in Benchmarks/README.md.",
        subcommands: [AddSetup.self, CosSetup.self, Ingest.self, Lookup.self, BLASInfo.self, MergeBench.self, DAMBench.self, ModelBench.self, AttemptStepBench.self]
    )
}
