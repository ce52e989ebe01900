import Foundation
import PVecTrain

/// Progress on standard error: a redrawn bar on a terminal, plain lines otherwise.
struct ProgressReporter {
    let isTerminal = isatty(STDERR_FILENO) != 0
    /// Plain-line mode prints every this many steps.
    var every = 10

    func training(_ p: TrainProgress) {
        let eta = Self.duration(p.secondsLeft)
        let dev = p.devAccuracy.map { String(format: "  dev %.3f", $0) } ?? ""
        if isTerminal {
            let width = 28
            let filled = Int(Double(width) * Double(p.step) / Double(max(p.totalSteps, 1)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "\r%@ %d/%d  loss %.4f  %.1f ex/s  ETA %@%@", bar, p.step, p.totalSteps, p.loss, p.examplesPerSecond, eta, dev)
            FileHandle.standardError.write(Data(line.utf8))
            if p.step == p.totalSteps { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if p.step % every == 0 || p.step == p.totalSteps || p.devAccuracy != nil {
            printErr(String(format: "step %d/%d loss %.4f lr %.4g %.1f ex/s eta %@%@", p.step, p.totalSteps, p.loss, p.learningRate, p.examplesPerSecond, eta, dev))
        }
    }

    func counting(_ done: Int, of total: Int, _ what: String) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\(what) \(done)/\(total)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
