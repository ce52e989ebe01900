/// Text from outside (names, signer labels, actors, commands, manifest strings, server
/// messages) made safe to print on a terminal.
///
/// A string from a bundle, a server or a hand-edited catalog may hold newlines, carriage
/// returns, ANSI escape sequences or bidirectional overrides. Printed verbatim, one of them
/// can draw a fake line (`trusted as team-a`) or hide part of another. Every such string
/// goes through `escape` (or `quoted`) on its way to the terminal, and entry points refuse
/// it outright with `firstUnsafe`.
///
/// ```swift
/// TerminalText.escape("a\nb\u{1B}[2J")    // a\nb\u{1b}[2J  (one line, inert)
/// TerminalText.quoted(String(repeating: "x", count: 10_000))   // 'xxx…' (+9936 bytes)
/// ```
public enum TerminalText {
    /// The most bytes of an outside string that an error message echoes.
    public static let echoLimit = 64

    /// Whether printing `c` could move the cursor, change colours or reorder text.
    public static func isUnsafe(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x00...0x1F, 0x7F...0x9F: return true          // C0, DEL, C1 (CSI is 0x9B)
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true   // bidi marks and overrides
        case 0x2028, 0x2029: return true                     // line and paragraph separators
        default: return false
        }
    }

    /// The first scalar of `s` that is unsafe on a terminal, if any.
    public static func firstUnsafe(_ s: String) -> Unicode.Scalar? {
        s.unicodeScalars.first(where: isUnsafe)
    }

    /// `s` with every unsafe scalar written as an escape (`\n`, `\t`, `\r`, `\u{1b}`), and
    /// backslashes doubled so an escape cannot be faked.
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { isUnsafe($0) || $0 == "\\" }) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                if isUnsafe(c) {
                    out.append(contentsOf: "\\u{\(String(c.value, radix: 16))}".unicodeScalars)
                } else {
                    out.append(c)
                }
            }
        }
        return String(out)
    }

    /// `'s'`, escaped, and cut after `limit` bytes with a note of how much was left out.
    public static func quoted(_ s: String, limit: Int = echoLimit) -> String {
        "'" + clipped(s, limit: limit) + "'"
    }

    /// `s` escaped, and cut after about `limit` bytes (on a character boundary).
    public static func clipped(_ s: String, limit: Int = echoLimit) -> String {
        let total = s.utf8.count
        guard total > limit else { return escape(s) }
        var kept = ""
        var used = 0
        for ch in s {
            let n = ch.utf8.count
            if used + n > limit { break }
            kept.append(ch)
            used += n
        }
        return escape(kept) + "… (+\(total - used) bytes)"
    }

    /// One scalar as a user can read it: `'ü' (U+00FC)`, or `U+000A` for an unsafe one.
    public static func describe(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if isUnsafe(c) { return code }
        return "'\(Character(c))' (\(code))"
    }

    /// One line of output with every unsafe scalar escaped as `\u{..}`; backslashes are kept
    /// as they are (the line is the program's own text with outside values in it).
    public static func safeLine(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isUnsafe) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if isUnsafe(c) {
                out.append(contentsOf: "\\u{\(String(c.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    /// JSON text with raw C1 controls, bidi marks and separators inside strings written as
    /// `\uXXXX` (same value; C0 controls are escaped by the canonical writer already).
    public static func jsonSafe(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: isUnsafe) else { return json }
        var out = String.UnicodeScalarView()
        for c in json.unicodeScalars {
            if isUnsafe(c) {
                let hex = String(c.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    /// Where a JSON value holds a string (key or value) with an unsafe scalar: a path such as
    /// `peft_config.base_model_name_or_path`, or nil when every string is safe.
    public static func firstUnsafeString(in value: JSONValue, path: String = "") -> String? {
        switch value {
        case .string(let s):
            return firstUnsafe(s) == nil ? nil : (path.isEmpty ? "(value)" : path)
        case .array(let a):
            for (i, v) in a.enumerated() {
                if let p = firstUnsafeString(in: v, path: path + "[\(i)]") { return p }
            }
            return nil
        case .object(let o):
            for k in o.keys.sorted() {
                let here = path.isEmpty ? k : path + "." + k
                if firstUnsafe(k) != nil { return escape(here) }
                if let v = o[k], let p = firstUnsafeString(in: v, path: here) { return p }
            }
            return nil
        default:
            return nil
        }
    }
}
