import Foundation
import PVecStore
import PVecTrain

/// Progress on standard error, never on standard output.
///
/// On a terminal, one line redrawn in place: a carriage return and erase-line (`ESC [2K`)
/// before each redraw, so a shorter line leaves nothing of a longer one behind (`ETA 10s`
/// then `ETA 9s`), and the text is cut to the terminal's width so it never wraps onto a
/// line the next redraw cannot reach. When a run ends the bar is erased and a summary line
/// takes its place. Anywhere else (a pipe, a file) plain lines every `every` steps and the
/// same summary, with no escape codes at all.
///
/// ```swift
/// let reporter = ProgressReporter()
/// defer { reporter.finish() }       // the summary, also after early stopping
/// run.progress = { reporter.training($0) }
/// ```
final class ProgressReporter {
    let isTerminal: Bool
    /// Plain-line mode prints every this many steps.
    let every: Int
    private let columns: Int
    private var firstLoss: Float?
    private var bestDev: Double?
    private var last: TrainProgress?
    private var count: (done: Int, total: Int, what: String)?

    init(every: Int = 10) {
        self.every = every
        isTerminal = isatty(STDERR_FILENO) != 0
        columns = Self.terminalColumns()
    }

    /// One training step.
    func training(_ p: TrainProgress) {
        // A step that does not follow the last one starts a new run (`pvec demo` trains several).
        if let last, p.step <= last.step { finish() }
        if last == nil { firstLoss = p.loss }
        last = p
        if let d = p.devAccuracy { bestDev = max(bestDev ?? d, d) }
        let eta = Self.duration(p.secondsLeft)
        let dev = p.devAccuracy.map { String(format: "  dev %.3f", $0) } ?? ""
        if isTerminal {
            let width = 28
            let filled = min(width, Int(Double(width) * Double(p.step) / Double(max(p.totalSteps, 1))))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            redraw(String(format: "%@ %d/%d  loss %.4f  %.1f ex/s  ETA %@%@", bar, p.step, p.totalSteps, p.loss, p.examplesPerSecond, eta, dev))
        } else if p.step % every == 0 || p.step == p.totalSteps || p.devAccuracy != nil {
            printErr(String(format: "step %d/%d loss %.4f lr %.4g %.1f ex/s eta %@%@", p.step, p.totalSteps, p.loss, p.learningRate, p.examplesPerSecond, eta, dev))
        }
        if p.step >= p.totalSteps { finish() }
    }

    /// `done` of `total` items (`what`: "eval") processed.
    func counting(_ done: Int, of total: Int, _ what: String) {
        if let c = count, done < c.done || what != c.what { finish() }
        count = (done, total, what)
        if isTerminal { redraw("\(what) \(done)/\(total)") }
        if done >= total { finish() }
    }

    /// Ends the current run: erases the bar and prints its summary line. Does nothing when no
    /// step was reported since the last summary, so calling it twice is harmless.
    func finish() {
        var summary: String?
        if let p = last {
            var s = String(format: "trained %d/%d steps: loss %.4f -> %.4f, %.1f ex/s",
                           p.step, p.totalSteps, firstLoss ?? p.loss, p.loss, p.examplesPerSecond)
            if let bestDev { s += String(format: ", best dev %.3f", bestDev) }
            summary = s
        } else if let c = count {
            summary = "\(c.what): \(c.done)/\(c.total) done"
        }
        last = nil
        firstLoss = nil
        bestDev = nil
        count = nil
        guard let summary else { return }
        if isTerminal {
            write("\r\u{1B}[2K" + TerminalText.safeLine(summary) + "\n")
        } else {
            printErr(summary)
        }
    }

    /// Replaces the line under the cursor with `text`, cut to the terminal's width.
    private func redraw(_ text: String) {
        let line = TerminalText.safeLine(text)
        write("\r\u{1B}[2K" + String(line.prefix(max(columns - 1, 1))))
    }

    private func write(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }

    /// The width of the terminal on standard error: `$COLUMNS`, else the window size, else 80.
    static func terminalColumns() -> Int {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// "9s", "1m05s"; "?" when unknown.
    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0, s < 1e9 else { return "?" }
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
