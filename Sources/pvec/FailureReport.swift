import ArgumentParser
import Foundation
import PVecStore

/// How a failed command tells its user: exactly one line on standard error and a non-zero exit.
///
/// - A usage error (a bad value, a missing argument, a check in `validate()`) says what is
///   wrong and where to read more, in one line: `Error: The value 'x' is invalid for
///   '<method>'. Please provide one of 'linear', … (see 'pvec merge --help')`. Its exit status
///   is 64 (EX_USAGE), as argument-parser's.
/// - Any other failure prints the library's message, escaped (`TerminalText.safeLine`: the
///   message may carry a name or a server's text from outside); exit status 1.
/// - With `--json` the same message goes to standard error as one JSON object,
///   `{"error":"…"}` (plus `"hint"` for a usage error), so a script can parse it.
///
/// Help, `--version` and completion answers are not failures and print as argument-parser
/// prints them.
struct FailureReport {
    var message: String
    var hint: String?
    var code: ExitCode

    init(_ error: Error) {
        code = PVec.exitCode(for: error)
        guard String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") else {
            message = PrintableError.rawMessage(error)
            code = .failure
            return
        }
        message = Self.oneLine(PVec.message(for: error))
        if code == .validationFailure { hint = "see '\(Self.helpCommand(PVec.fullMessage(for: error)))'" }
    }

    /// Prints the report (or, for help and completions, what argument-parser prints) and exits.
    static func exit(with error: Error, arguments: [String]) -> Never {
        let report = FailureReport(error)
        // Help and completions print as argument-parser prints them; a bare exit code (verify
        // found problems and said so) prints nothing more.
        if report.code == .success || (error is ExitCode && report.message.isEmpty) { PVec.exit(withError: error) }
        FileHandle.standardError.write(Data((report.rendered(json: wantsJSON(arguments)) + "\n").utf8))
        Foundation.exit(report.code.rawValue)
    }

    /// The one line: text for people, or a JSON object.
    func rendered(json: Bool) -> String {
        if json {
            var o: [String: JSONValue] = ["error": .string(message)]
            if let hint { o["hint"] = .string(hint) }
            return TerminalText.jsonSafe(JSONValue.object(o).canonicalString)
        }
        return TerminalText.safeLine("Error: \(message)" + (hint.map { " (\($0))" } ?? ""))
    }

    /// Whether `--json` was given before any `--` terminator.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        arguments.dropFirst().prefix { $0 != "--" }.contains("--json")
    }

    /// argument-parser's message on one line: a list of values (`- linear` lines) becomes
    /// `linear, ties, …`, other lines are joined with spaces.
    static func oneLine(_ s: String) -> String {
        var out = ""
        var inList = false
        for line in s.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("- ") {
                out += (inList ? ", " : " ") + line.dropFirst(2)
                inList = true
            } else {
                out += (out.isEmpty ? "" : inList ? ". " : " ") + line
                inList = false
            }
        }
        return out + (inList ? "." : "")
    }

    /// `pvec merge --help`, read from the "See '…' for more information." line of
    /// argument-parser's full message, which names the failing subcommand.
    static func helpCommand(_ fullMessage: String) -> String {
        guard let start = fullMessage.range(of: "See '"),
              let end = fullMessage[start.upperBound...].firstIndex(of: "'") else { return "pvec --help" }
        return String(fullMessage[start.upperBound..<end])
    }
}
