import Foundation
import PVecStore
import PVecTensor

/// Seeded prompt-shaped data: values like a soft prompt sampled from an embedding table
/// (normal, std 0.05), so compression sees realistic float bit patterns.
struct PromptGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// A [rows, width] tensor of N(mean, std²) values (Box–Muller).
    mutating func tensor(rows: Int, width: Int, std: Float = 0.05, around base: Tensor? = nil) -> Tensor {
        let n = rows * width
        var x = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let u1 = 1 - rng.nextFloat01(), u2 = rng.nextFloat01()
            let r = (-2 * log(u1)).squareRoot() * std
            x[i] = r * cos(2 * .pi * u2)
            if i + 1 < n { x[i + 1] = r * sin(2 * .pi * u2) }
            i += 2
        }
        if let base {
            base.scalars.withUnsafeBufferPointer { b in
                for j in 0..<n { x[j] += b[j] }
            }
        }
        return Tensor(shape: [rows, width], scalars: x)
    }
}

/// Monotonic wall-clock time in seconds.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Runs `body` and returns its result and the seconds it took.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let t0 = now()
    let r = try body()
    return (r, now() - t0)
}

/// Latency percentiles of a sample, in microseconds.
struct Latency {
    var samples: [Double]

    func percentile(_ p: Double) -> Double {
        let s = samples.sorted()
        guard !s.isEmpty else { return .nan }
        let k = min(s.count - 1, max(0, Int((p / 100 * Double(s.count)).rounded(.up)) - 1))
        return s[k] * 1e6
    }

    var json: JSONValue {
        ["n": .int(Int64(samples.count)), "p50_us": .double(round1(percentile(50))),
         "p99_us": .double(round1(percentile(99))), "max_us": .double(round1(percentile(100)))]
    }
}

func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Prints one result object as a JSON line (sorted keys), for run.sh to read.
func emit(_ value: JSONValue) {
    print(value.canonicalString)
}

/// Removes and recreates a folder for generated data.
func freshFolder(_ url: URL) throws {
    try? FileManager.default.removeItem(at: url)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
}

/// Total size in bytes of the regular files under a folder (apparent size, not blocks).
func folderBytes(_ url: URL) -> Int64 {
    var total: Int64 = 0
    let e = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
    while let u = e?.nextObject() as? URL {
        let v = try? u.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
        if v?.isRegularFile == true { total += Int64(v?.fileSize ?? 0) }
    }
    return total
}

/// The backbone every benchmark artifact claims (no embedding table: nothing checks it).
func benchBackbone(width: Int) -> Backbone {
    Backbone(model: "bench/width-\(width)", width: width)
}
