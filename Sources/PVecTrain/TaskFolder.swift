import Foundation

/// A task on disk as `scripts/fetch-data` writes it: a folder holding `task.json` (labels,
/// verbalizers, metric), `train.jsonl` and, for evaluation, `test.jsonl`.
public struct TaskFolder: Sendable {
    var directory: URL

    public init(_ directory: URL) { self.directory = directory }

    var taskFile: URL { directory.appendingPathComponent("task.json") }
    var trainFile: URL { directory.appendingPathComponent("train.jsonl") }
    var testFile: URL { directory.appendingPathComponent("test.jsonl") }

    /// `item` itself when it is a task folder, else the folder `item` under `dataRoot`.
    ///
    /// - Throws: `TrainError.noTaskFolder` when neither holds a task.json.
    static func find(_ item: String, dataRoot: URL) throws -> TaskFolder {
        let direct = TaskFolder(URL(fileURLWithPath: item))
        if FileManager.default.fileExists(atPath: direct.taskFile.path) { return direct }
        let under = TaskFolder(dataRoot.appendingPathComponent(item))
        guard FileManager.default.fileExists(atPath: under.taskFile.path) else {
            throw TrainError.noTaskFolder(item: item, tried: under.directory.path)
        }
        return under
    }

    /// Each item's spec and training data (see `find`), in order.
    public static func load(_ items: [String], dataRoot: URL) throws -> [TaskData] {
        try items.map { try find($0, dataRoot: dataRoot).training() }
    }

    /// The task and its training data.
    public func training() throws -> TaskData { try TaskData.load(task: taskFile, data: trainFile) }

    /// The task, its training data and the first `limit` test examples.
    func withTest(limit: Int) throws -> (TaskData, test: Dataset) {
        let t = try training()
        return (t, try Dataset.load(testFile, task: t.task).prefix(limit))
    }
}

extension TaskData {
    /// A task file and a labelled JSONL file read against it.
    public static func load(task: URL, data: URL) throws -> TaskData {
        let spec = try TaskSpec.load(task)
        return TaskData(task: spec, train: try Dataset.load(data, task: spec))
    }
}
