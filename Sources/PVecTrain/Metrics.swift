import PVecStore

/// Classification metrics of predictions against gold labels.
public struct ClassificationMetrics: Sendable, Equatable {
    public var count: Int
    public var accuracy: Double
    /// Unweighted mean of per-label F1 (a label never predicted nor present scores 0).
    public var macroF1: Double
    /// Per label: gold count, predicted count, correct count.
    public var perLabel: [(gold: Int, predicted: Int, correct: Int)]

    public static func == (a: Self, b: Self) -> Bool {
        a.count == b.count && a.accuracy == b.accuracy && a.macroF1 == b.macroF1
            && a.perLabel.map { [$0.gold, $0.predicted, $0.correct] } == b.perLabel.map { [$0.gold, $0.predicted, $0.correct] }
    }

    init(predictions: [Int], gold: [Int], labels: Int) {
        precondition(predictions.count == gold.count)
        var per = [(gold: Int, predicted: Int, correct: Int)](repeating: (0, 0, 0), count: labels)
        var correct = 0
        for (p, g) in zip(predictions, gold) {
            per[g].gold += 1
            per[p].predicted += 1
            if p == g { per[g].correct += 1; correct += 1 }
        }
        count = gold.count
        accuracy = gold.isEmpty ? 0 : Double(correct) / Double(gold.count)
        var f1sum = 0.0
        for c in per {
            let prec = c.predicted == 0 ? 0 : Double(c.correct) / Double(c.predicted)
            let rec = c.gold == 0 ? 0 : Double(c.correct) / Double(c.gold)
            f1sum += prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec)
        }
        macroF1 = labels == 0 ? 0 : f1sum / Double(labels)
        perLabel = per
    }

    /// The metrics as recorded in an evaluation manifest.
    public func json(labelNames: [String]) -> [String: JSONValue] {
        var classes: [String: JSONValue] = [:]
        for (i, c) in perLabel.enumerated() {
            classes[labelNames[i]] = ["gold": .int(Int64(c.gold)), "predicted": .int(Int64(c.predicted)), "correct": .int(Int64(c.correct))]
        }
        return [
            "n": .int(Int64(count)),
            "accuracy": .double(Self.rounded(accuracy)),
            "macro_f1": .double(Self.rounded(macroF1)),
            "per_class": .object(classes),
        ]
    }

    /// Six decimals: enough for any test set, and prints the same everywhere.
    static func rounded(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }
}
