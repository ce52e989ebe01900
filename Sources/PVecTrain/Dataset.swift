import Foundation
import PVecStore
import PVecTensor

/// One labelled example: a text or a text pair and the index of its label in the task.
public struct Example: Sendable, Equatable {
    public var textA: String
    public var textB: String?
    public var label: Int

    init(textA: String, textB: String? = nil, label: Int) {
        self.textA = textA
        self.textB = textB
        self.label = label
    }
}

/// A labelled JSONL file read against a task.
///
/// Each line is an object with `text` (or `text_a` and optionally `text_b`) and `label`
/// (a label name from the task, or its index). Blank lines are skipped; anything else that
/// is wrong stops the load with the file and line number.
public struct Dataset: Sendable {
    public var examples: [Example]
    /// SHA-256 of the file's bytes, recorded in recipes and evaluations.
    var sha256: String
    public var source: String

    init(examples: [Example], sha256: String, source: String) {
        self.examples = examples
        self.sha256 = sha256
        self.source = source
    }

    public static func load(_ url: URL, task: TaskSpec) throws -> Dataset {
        let file = url.lastPathComponent
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainError.notEnoughData("cannot read \(url.path) (\(error.localizedDescription))")
        }
        var examples: [Example] = []
        var lineNo = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let obj = try? JSONValue.parse(Data(line)), case .object = obj else {
                throw TrainError.badRow(file: file, line: lineNo, reason: "not a JSON object")
            }
            guard let a = obj["text"]?.stringValue ?? obj["text_a"]?.stringValue else {
                throw TrainError.badRow(file: file, line: lineNo, reason: "needs \"text\" or \"text_a\" (a string)")
            }
            let b = obj["text_b"]?.stringValue
            if obj["text_b"] != nil && b == nil {
                throw TrainError.badRow(file: file, line: lineNo, reason: "\"text_b\" must be a string")
            }
            guard let labelValue = obj["label"] else {
                throw TrainError.badRow(file: file, line: lineNo, reason: "missing \"label\"")
            }
            let label: Int
            if let s = labelValue.stringValue, let i = task.labelIndex(s) {
                label = i
            } else if let i = labelValue.intValue, i >= 0, i < task.labels.count {
                label = Int(i)
            } else {
                let known = task.labels.map(\.name).joined(separator: ", ")
                throw TrainError.badRow(file: file, line: lineNo, reason: "label \(labelValue.canonicalString) is not one of the task's labels (\(known))")
            }
            examples.append(Example(textA: a, textB: b, label: label))
        }
        guard !examples.isEmpty else { throw TrainError.notEnoughData("\(file) has no examples") }
        return Dataset(examples: examples, sha256: Digest.sha256Hex(data), source: file)
    }

    /// Class-balanced few-shot sample: `k` examples per label, drawn without replacement by a
    /// seeded Fisher–Yates shuffle of each label's examples (file order kept among the chosen).
    ///
    /// - Throws: `TrainError.notEnoughData` when a label has fewer than `k` examples.
    func fewShot(_ k: Int, labels: Int, seed: UInt64) throws -> Dataset {
        var rng = SplitMix64(seed: seed)
        var chosen: [Int] = []
        for l in 0..<labels {
            var idx = examples.indices.filter { examples[$0].label == l }
            guard idx.count >= k else {
                throw TrainError.notEnoughData("label \(l) has \(idx.count) examples, fewer than --shots \(k)")
            }
            for i in stride(from: idx.count - 1, to: 0, by: -1) {
                idx.swapAt(i, Int(rng.nextBelow(UInt64(i + 1))))
            }
            chosen += idx.prefix(k)
        }
        chosen.sort()
        return Dataset(examples: chosen.map { examples[$0] }, sha256: sha256, source: source)
    }

    /// The first `n` examples.
    public func prefix(_ n: Int) -> Dataset {
        Dataset(examples: Array(examples.prefix(n)), sha256: sha256, source: source)
    }
}
