import Foundation
import PVecOps
import PVecStore
import PVecTensor

/// Printing helpers shared by the commands: JSON for scripts, aligned text for people.
enum Output {
    /// Canonical JSON, with C1 controls and bidi overrides (which JSON allows raw) written as
    /// `\uXXXX` escapes, so no string in it can act on a terminal.
    static func json(_ value: JSONValue) {
        Swift.print(TerminalText.jsonSafe(value.canonicalString))
    }

    /// Left-aligned columns separated by two spaces.
    /// Cells are escaped (`TerminalText.escape`): each is one line of data, often from outside.
    static func table(_ rows: [[String]]) {
        let rows = rows.map { $0.map(TerminalText.escape) }
        guard let first = rows.first else { return }
        var widths = [Int](repeating: 0, count: first.count)
        let counts = rows.map { $0.map(\.count) }
        for r in counts { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c) } }
        var out = ""
        for (r, row) in rows.enumerated() {
            for (i, c) in row.enumerated() {
                out += c
                if i < row.count - 1 {
                    let pad = (i < widths.count ? widths[i] : 0) - counts[r][i] + 2
                    out += String(repeating: " ", count: max(pad, 2))
                }
            }
            out += "\n"
        }
        Swift.print(out, terminator: "")
    }


    static func stored(_ s: Stored) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(s.id.hex),
            "kind": .string(s.manifest.kind.rawValue),
            "op": .string(s.manifest.recipe.op),
        ]
        if let shape = s.manifest.shape { o["shape"] = .array(shape.dims.map { .int(Int64($0)) }) }
        if let n = s.name { o["name"] = .string(n) }
        if let v = s.version { o["version"] = .int(Int64(v)) }
        return .object(o)
    }

    /// "created vector 1a2b3c4d5e6f [100, 768] as mnli-tau@1".
    static func storedLine(_ s: Stored) -> String {
        var line = "\(s.manifest.kind.rawValue) \(s.id.short)"
        if let shape = s.manifest.shape { line += " \(shape)" }
        if let n = s.name, let v = s.version { line += " -> \(n)@\(v)" }
        return line
    }

    static func report(_ s: Stored, json: Bool) {
        if json { Output.json(stored(s)) } else { print(storedLine(s)) }
    }

    static func dims(_ shape: Shape?) -> JSONValue {
        shape.map { .array($0.dims.map { .int(Int64($0)) }) } ?? .null
    }

    static func iso(_ d: Date) -> String {
        ISO8601DateFormatter().string(from: d)
    }
}

/// Writes to standard error (progress and warnings, never results), one line made safe.
func printErr(_ s: String) {
    FileHandle.standardError.write(Data((TerminalText.safeLine(s) + "\n").utf8))
}

/// Every `print` of the CLI writes one line: control characters in it (a newline or an ANSI
/// escape in a name, signer label or recipe string from a bundle or server) are escaped, so
/// text from outside can never start a line of its own. `Output.table` and `Output.json`
/// print through `Swift.print` with their own escaping.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(TerminalText.safeLine(text), terminator: terminator)
}
