import ArgumentParser
import Foundation
import PVecStore
import PVecTensor
#if canImport(Glibc)
import Glibc
#endif

extension PVecBench {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time library-level ingest of distinct prompts next to raw SHA-256 and file writes.",
            discussion: """
            For each prompt, untimed: generate it and its canonical bytes. Timed separately:
            SHA-256 of those bytes; writing them to a file (temp, write, fsync, rename, fsync
            folder, as the store does); and the ingest itself (putBlob, writeManifest, updateRef).
            Every Nth prompt is also encoded plain and byte-shuffled (deflate level 6) and with
            the store's own encoder, to compare sizes and speeds.
            """)

        @Argument(help: "Folder for the registry and the raw files (replaced).") var dir: String
        @Option(help: "How many prompts.") var count = 10_000
        @Option(help: "Prompts encoded both ways to compare sizes.") var sizeSample = 500
        @Option(help: "Prompt rows.") var rows = 100
        @Option(help: "Prompt width.") var width = 768
        @Flag(help: "Skip updateRef (name each prompt) in the timed ingest.") var noRefs = false
        @Flag(help: "Keep the data when done (default: removed, it is large).") var keep = false

        func run() throws {
            let root = URL(fileURLWithPath: dir, isDirectory: true)
            try freshFolder(root)
            let rawDir = root.appendingPathComponent("raw", isDirectory: true)
            try FileManager.default.createDirectory(at: rawDir, withIntermediateDirectories: true)
            let reg = try Registry.create(at: root.appendingPathComponent("registry", isDirectory: true))
            let backbone = benchBackbone(width: width)
            var gen = PromptGenerator(seed: 4)
            let base = gen.tensor(rows: rows, width: width)
            let every = max(1, count / max(1, sizeSample))

            var tSHA = 0.0, tWrite = 0.0, tBlob = 0.0, tManifest = 0.0, tRef = 0.0
            var rawBytes: Int64 = 0
            var sampleRaw: Int64 = 0, samplePlain: Int64 = 0, sampleShuffled: Int64 = 0
            var sampleStored: Int64 = 0
            var tPlain = 0.0, tShuffled = 0.0, tStored = 0.0, sampled = 0
            var perPrompt: [Double] = []
            perPrompt.reserveCapacity(count)
            let wall0 = now()
            for k in 0..<count {
                let t = gen.tensor(rows: rows, width: width, std: 0.01, around: base)
                let raw = Safetensors.canonical(t)
                rawBytes += Int64(raw.count)

                let (hex, dSHA) = timed { Digest.sha256Hex(raw) }
                tSHA += dSHA
                let (_, dWrite) = try timed { try RawFileWriter.write(raw, under: rawDir, name: hex) }
                tWrite += dWrite

                let t0 = now()
                let blob = try reg.putBlob(t)
                let t1 = now()
                let m = Manifest(kind: .prompt, blob: blob, shape: t.shape, backbone: backbone,
                                 recipe: Recipe(op: "import", params: ["bench_seed": .int(Int64(k))]))
                let id = try reg.writeManifest(m)
                let t2 = now()
                if !noRefs { try reg.updateRef(String(format: "p%05d", k), to: id, command: "pvec-bench ingest") }
                let t3 = now()
                tBlob += t1 - t0
                tManifest += t2 - t1
                tRef += t3 - t2
                perPrompt.append(t3 - t0)

                if k % every == 0 {
                    let (p, dp) = timed { BlobEncodingProbe.encodedSize(raw, shuffle: false) }
                    let (s, ds) = timed { BlobEncodingProbe.encodedSize(raw, shuffle: true) }
                    let (f, df) = timed { BlobEncodingProbe.fastCompressedSize(raw) }
                    sampleStored += Int64(f)
                    tStored += df
                    sampleRaw += Int64(raw.count)
                    samplePlain += Int64(p)
                    sampleShuffled += Int64(s)
                    tPlain += dp
                    tShuffled += ds
                    sampled += 1
                }
            }
            let wall = now() - wall0
            let ingest = tBlob + tManifest + tRef
            let mb = Double(rawBytes) / 1e6
            let stored = folderBytes(reg.root.appendingPathComponent("objects", isDirectory: true))
            let manifests = folderBytes(reg.root.appendingPathComponent("manifests", isDirectory: true))
            let catalog = folderBytes(reg.root) - stored - manifests
            let plainRatio = Double(samplePlain) / Double(sampleRaw)
            let shuffledRatio = Double(sampleShuffled) / Double(sampleRaw)
            emit([
                "bench": "ingest",
                "prompts": .int(Int64(count)),
                "shape": .array([.int(Int64(rows)), .int(Int64(width))]),
                "refs": .bool(!noRefs),
                "raw_mb": .double(round1(mb)),
                "ingest_s": .double(round3(ingest)),
                "ingest_prompts_per_s": .double(round1(Double(count) / ingest)),
                "ingest_mb_per_s": .double(round1(mb / ingest)),
                "ingest_per_prompt": Latency(samples: perPrompt).json,
                "phase_s": ["put_blob": .double(round3(tBlob)), "write_manifest": .double(round3(tManifest)),
                            "update_ref": .double(round3(tRef))],
                "sha256_mb_per_s": .double(round1(mb / tSHA)),
                "file_write_fsync_rename_mb_per_s": .double(round1(mb / tWrite)),
                "file_write_prompts_per_s": .double(round1(Double(count) / tWrite)),
                "deflate_plain_mb_per_s": .double(round1(Double(sampleRaw) / 1e6 / tPlain)),
                "deflate_shuffled_mb_per_s": .double(round1(Double(sampleRaw) / 1e6 / tShuffled)),
                "store_encoder_mb_per_s": .double(round1(Double(sampleRaw) / 1e6 / tStored)),
                "ratio_store_encoder": .double(round3(Double(sampleStored) / Double(sampleRaw))),
                "size_sample": .int(Int64(sampled)),
                "ratio_plain": .double(round3(plainRatio)),
                "ratio_shuffled": .double(round3(shuffledRatio)),
                "disk_objects_mb": .double(round1(Double(stored) / 1e6)),
                "disk_plain_est_mb": .double(round1(plainRatio * mb)),
                "disk_shuffled_est_mb": .double(round1(shuffledRatio * mb)),
                "disk_manifests_mb": .double(round1(Double(manifests) / 1e6)),
                "disk_catalog_and_logs_mb": .double(round1(Double(catalog) / 1e6)),
                "wall_s_including_generation": .double(round1(wall)),
            ])
            if !keep { try? FileManager.default.removeItem(at: root) }
        }
    }
}

/// Writes a file the way the store writes an object, for the raw baseline: into
/// `<dir>/ab/<rest>` via a temp file that is written, fsynced and renamed, then the folder fsynced.
enum RawFileWriter {
    static func write(_ bytes: [UInt8], under dir: URL, name: String) throws {
        let folder = dir.appendingPathComponent(String(name.prefix(2)), isDirectory: true)
        if access(folder.path, F_OK) != 0 {
            guard mkdir(folder.path, 0o755) == 0 || errno == EEXIST else { throw failure("mkdir", folder) }
            try syncFolder(dir)
        }
        let final = folder.appendingPathComponent(String(name.dropFirst(2)))
        let temp = folder.appendingPathComponent("tmp_\(getpid())_\(UInt64.random(in: 0...UInt64.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw failure("create", temp) }
        var done = 0
        let ok = bytes.withUnsafeBytes { buf -> Bool in
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else { close(fd); throw failure("write", temp) }
        close(fd)
        guard rename(temp.path, final.path) == 0 else { throw failure("rename", final) }
        try syncFolder(folder)
    }

    static func syncFolder(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", url) }
        defer { close(fd) }
        _ = fsync(fd)
    }

    static func failure(_ op: String, _ url: URL) -> ValidationError {
        ValidationError("\(op) \(url.path): \(String(cString: strerror(errno)))")
    }
}
