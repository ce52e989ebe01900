import Foundation

/// JSON text as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it, which is how
/// PEFT's `save_pretrained` writes `adapter_config.json`: so an adapter pvec exports has the
/// bytes PEFT would have written for the same config.
///
/// Keys are sorted, nesting is indented by two spaces, items end with `,` and keys with `: `,
/// empty containers are `[]` and `{}`, non-ASCII text is escaped as `\uXXXX` (`ensure_ascii`),
/// and numbers are Python's: integers as integers, floats in their shortest round-trip form
/// with `.0` on integral values. There is no trailing newline.
///
/// ```swift
/// PEFTConfigText.dumps(["b": 1, "a": [true, .null]])   // "{\n  \"a\": [\n    true,\n    null\n  ],\n  \"b\": 1\n}"
/// ```
public enum PEFTConfigText {
    /// The text of `value`, as bytes.
    public static func dumps(_ value: JSONValue) -> [UInt8] {
        var out = ""
        write(value, indent: 0, to: &out)
        return Array(out.utf8)
    }

    private static func write(_ value: JSONValue, indent: Int, to out: inout String) {
        let pad = String(repeating: " ", count: indent + 2), end = String(repeating: " ", count: indent)
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += number(d)
        case .string(let s): out += quote(s)
        case .array(let a):
            guard !a.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (k, v) in a.enumerated() {
                out += pad
                write(v, indent: indent + 2, to: &out)
                out += k == a.count - 1 ? "\n" : ",\n"
            }
            out += end + "]"
        case .object(let o):
            guard !o.isEmpty else { out += "{}"; return }
            out += "{\n"
            // Python sorts str keys by code point.
            let keys = o.keys.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
            for (k, key) in keys.enumerated() {
                out += pad + quote(key) + ": "
                if let v = o[key] { write(v, indent: indent + 2, to: &out) }
                out += k == keys.count - 1 ? "\n" : ",\n"
            }
            out += end + "}"
        }
    }

    /// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from
    /// 1e16 on, `.0` on integral values; non-finite values as `NaN`, `Infinity`, `-Infinity`.
    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        let a = abs(d)
        if a != 0 && (a < 1e-4 || a >= 1e16) {
            // Swift writes "1e-05" and "1.5e+16", as Python does.
            return "\(d)"
        }
        if d == d.rounded() { return String(format: "%.1f", d) }
        let s = "\(d)"
        if !s.contains("e") { return s }
        // Swift switches to exponent form earlier than Python (from 2^53); spell it out.
        return String(format: "%.17g", d)
    }

    /// A JSON string with `ensure_ascii` escapes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value >= 0x20 && u.value < 0x7F {
                    out.unicodeScalars.append(u)
                } else if u.value <= 0xFFFF {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    let v = u.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                }
            }
        }
        return out + "\""
    }
}
