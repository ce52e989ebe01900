import Foundation
import PVecStore
import PVecTensor

/// A classification task: its labels, the text that stands for each label, and the metric.
///
/// ```json
/// {"name": "movie", "metric": "accuracy",
///  "labels": [{"name": "negative", "verbalizer": "This is negative."}, {"name": "positive"}]}
/// ```
/// A label without a verbalizer is represented by its name. `labels` may also be a list of
/// plain strings.
public struct TaskSpec: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var name: String
        var verbalizer: String
    }

    public var name: String
    public var labels: [Label]
    var metric: String
    /// SHA-256 of the task file, recorded in recipes.
    var sha256: String

    init(name: String, labels: [Label], metric: String = "accuracy", sha256: String = "") {
        self.name = name
        self.labels = labels
        self.metric = metric
        self.sha256 = sha256
    }

    /// Reads and checks a task file.
    public static func load(_ url: URL) throws -> TaskSpec {
        let file = url.lastPathComponent
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw TrainError.badTask(file: url.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        guard let json = try? JSONValue.parse(bytes), case .object = json else {
            throw TrainError.badTask(file: file, reason: "not a JSON object")
        }
        guard let items = json["labels"]?.arrayValue, items.count >= 2 else {
            throw TrainError.badTask(file: file, reason: "needs \"labels\" with at least two entries")
        }
        let labels: [Label] = try items.map { item in
            if let s = item.stringValue { return Label(name: s, verbalizer: s) }
            guard let n = item["name"]?.stringValue, !n.isEmpty else {
                throw TrainError.badTask(file: file, reason: "each label needs a \"name\"")
            }
            return Label(name: n, verbalizer: item["verbalizer"]?.stringValue ?? n)
        }
        guard Set(labels.map(\.name)).count == labels.count else {
            throw TrainError.badTask(file: file, reason: "label names must be distinct")
        }
        let metric = json["metric"]?.stringValue ?? "accuracy"
        guard ["accuracy", "macro-f1"].contains(metric) else {
            throw TrainError.badTask(file: file, reason: "metric must be \"accuracy\" or \"macro-f1\"")
        }
        let name = json["name"]?.stringValue ?? url.deletingPathExtension().lastPathComponent
        return TaskSpec(name: name, labels: labels, metric: metric, sha256: Digest.sha256Hex(bytes))
    }

    func labelIndex(_ name: String) -> Int? { labels.firstIndex { $0.name == name } }
}
