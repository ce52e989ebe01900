import ArgumentParser
import Foundation
import PVecStore
import PVecTensor

extension PVecBench {
    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time resolve and lineage in a catalog of many artifacts.",
            discussion: """
            Set-up (not timed): 100 small base prompts, a chain of vectors DEPTH deep on top of
            one of them (tip named `tip`), and evaluations of the bases up to ARTIFACTS in all;
            every base and every 100th evaluation is named. Then times, one call each:
            resolve(name), resolve(12-digit id prefix), lineage(of: tip).
            """)

        @Argument(help: "Folder for the registry.") var dir: String
        @Option(help: "Artifacts in the catalog.") var artifacts = 100_000
        @Option(help: "Ancestors of the chain's tip.") var depth = 50
        @Option(help: "Timed calls per query kind.") var queries = 5_000
        @Option(help: "Threads writing the set-up.") var workers = 2
        @Flag(help: "Reuse the registry in DIR if a previous run finished its set-up.") var reuse = false

        static let bases = 100
        static let width = 8

        func run() throws {
            let root = URL(fileURLWithPath: dir, isDirectory: true)
            let regURL = root.appendingPathComponent("registry", isDirectory: true)
            let done = root.appendingPathComponent("setup-done")
            let spec = "\(artifacts) \(depth)"
            var setupSeconds: Double?
            if !(reuse && (try? String(contentsOf: done, encoding: .utf8)) == spec) {
                try freshFolder(root)
                let (_, s) = try timed { try setUp(Registry.create(at: regURL)) }
                setupSeconds = s
                try spec.write(to: done, atomically: true, encoding: .utf8)
            }

            let (reg, openRW) = try timed { try Registry.open(at: regURL) }
            let (_, openRO) = try timed { try Registry.open(at: regURL, configuration: .init(readonly: true)) }
            let refs = try reg.refs()
            let ids = try reg.list(kind: .evaluation).map(\.id)
            let tip = try reg.resolve("tip")
            let graph = try reg.lineage(of: tip)
            precondition(graph.nodes.count == depth + 1, "lineage has \(graph.nodes.count) nodes, expected \(depth + 1)")

            var rng = SplitMix64(seed: 5)
            var byName: [Double] = [], byPrefix: [Double] = [], lineage: [Double] = [], nameThenLineage: [Double] = []
            for _ in 0..<queries {
                let r = refs[Int(rng.nextBelow(UInt64(refs.count)))]
                let (got, d) = try timed { try reg.resolve(r.name) }
                precondition(got == r.id)
                byName.append(d)
                let id = ids[Int(rng.nextBelow(UInt64(ids.count)))]
                let (got2, d2) = try timed { try reg.resolve(String(id.hex.prefix(12))) }
                precondition(got2 == id)
                byPrefix.append(d2)
            }
            for _ in 0..<max(1, queries / 10) {
                let (g, d) = try timed { try reg.lineage(of: tip) }
                precondition(g.edges.count == depth)
                lineage.append(d)
                let (_, d2) = try timed { try reg.lineage(of: reg.resolve("tip")) }
                nameThenLineage.append(d2)
            }
            var out: [String: JSONValue] = [
                "bench": "lookup",
                "artifacts": .int(Int64(ids.count + Self.bases + depth + 1)),
                "names": .int(Int64(refs.count)),
                "depth": .int(Int64(depth)),
                "resolve_name": Latency(samples: byName).json,
                "resolve_prefix12": Latency(samples: byPrefix).json,
                "lineage_tip": Latency(samples: lineage).json,
                "resolve_and_lineage_tip": Latency(samples: nameThenLineage).json,
                "open_readwrite_ms": .double(round1(openRW * 1000)),
                "open_readonly_ms": .double(round1(openRO * 1000)),
                "catalog_mb": .double(round1(Double(folderBytes(regURL) - folderBytes(regURL.appendingPathComponent("manifests")) - folderBytes(regURL.appendingPathComponent("objects"))) / 1e6)),
            ]
            if let setupSeconds { out["setup_s"] = .double(round1(setupSeconds)) }
            emit(.object(out))
        }

        /// Writes bases, the chain and the evaluations; the evaluations on `workers` threads.
        func setUp(_ reg: Registry) throws {
            let backbone = benchBackbone(width: Self.width)
            var gen = PromptGenerator(seed: 6)
            var baseIDs: [ArtifactID] = []
            for b in 0..<Self.bases {
                let t = gen.tensor(rows: 1, width: Self.width)
                let m = Manifest(kind: .prompt, blob: try reg.putBlob(t), shape: t.shape, backbone: backbone,
                                 recipe: Recipe(op: "import", params: ["bench_base": .int(Int64(b))]))
                let id = try reg.writeManifest(m)
                try reg.updateRef(String(format: "base%03d", b), to: id, command: "pvec-bench lookup")
                baseIDs.append(id)
            }
            var prev = baseIDs[0]
            for k in 0..<depth {
                let t = gen.tensor(rows: 1, width: Self.width)
                let m = Manifest(kind: .vector, blob: try reg.putBlob(t), shape: t.shape, backbone: backbone,
                                 parents: [Parent(.operand, prev)],
                                 recipe: Recipe(op: "scale", params: ["by": .int(Int64(k + 2))]))
                prev = try reg.writeManifest(m)
            }
            try reg.updateRef("tip", to: prev, command: "pvec-bench lookup")

            // The evaluations go straight into the git-style layout (no fsync: set-up only)
            // and are indexed in one transaction by rebuildCatalog; writeManifest one by one
            // would spend minutes in fsync for 100,000 artifacts.
            let evaluations = max(0, artifacts - Self.bases - depth - 1)
            let bases = baseIDs
            let manifests = reg.root.appendingPathComponent("manifests", isDirectory: true)
            let failures = FailureBox()
            let workers = max(1, self.workers)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                do {
                    for k in stride(from: w, to: evaluations, by: workers) {
                        let m = Self.evaluation(k, of: bases[k % Self.bases])
                        let hex = m.id.hex
                        let folder = manifests.appendingPathComponent(String(hex.prefix(2)), isDirectory: true)
                        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                        try Data(m.canonicalBytes).write(to: folder.appendingPathComponent(String(hex.dropFirst(2))))
                    }
                } catch {
                    failures.record(error)
                }
            }
            if let e = failures.first { throw e }
            try reg.rebuildCatalog()
            for k in stride(from: 0, to: evaluations, by: 100) {
                try reg.updateRef(String(format: "eval%06d", k), to: Self.evaluation(k, of: bases[k % Self.bases]).id,
                                  command: "pvec-bench lookup")
            }
        }

        static func evaluation(_ k: Int, of base: ArtifactID) -> Manifest {
            Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: nil, parents: [Parent(.evaluated, base)],
                     recipe: Recipe(op: "eval", params: ["dataset": "bench", "n": .int(Int64(k))]),
                     metrics: ["accuracy": .double(Double(k % 1000) / 1000)])
        }
    }
}

/// The first error thrown by any set-up thread.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    func record(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }

    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
