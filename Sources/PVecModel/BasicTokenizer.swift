import Foundation

/// BERT's text pre-tokenizer for uncased vocabularies: cleans, lower-cases, strips accents,
/// and splits text into words and punctuation marks.
///
/// Steps, as in Hugging Face's `BertNormalizer` + `BertPreTokenizer` (the Rust tokenizer that
/// sentence-transformers runs):
/// 1. drop U+0000, U+FFFD and control characters (categories C*, except tab, CR, LF);
///    map whitespace (space, tab, CR, LF, Zs, Zl, Zp) to a space;
/// 2. put spaces around CJK ideographs, so each is a word of its own;
/// 3. strip accents: NFD, then drop nonspacing marks (Mn);
/// 4. lower-case each scalar on its own (full mapping, no final-sigma context, like Rust's
///    per-character lowercasing);
/// 5. split on whitespace, and split each punctuation mark (ASCII punctuation or P*) off as
///    its own word.
///
/// Everything works on Unicode scalars, never on Swift `Character`s: a combining mark after a
/// space must not glue itself to the space.
///
/// ```swift
/// BasicTokenizer.words(in: "Café, naïve!")   // ["cafe", ",", "naive", "!"]
/// ```
enum BasicTokenizer {
    /// The words of `text`, each an array of scalars.
    static func words(in text: String) -> [[Unicode.Scalar]] {
        var cleaned = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if u.value == 0 || u.value == 0xFFFD || isControl(u) { continue }
            if isWhitespace(u) {
                cleaned.append(" ")
            } else if isCJK(u.value) {
                cleaned.append(" ")
                cleaned.append(u)
                cleaned.append(" ")
            } else {
                cleaned.append(u)
            }
        }
        let decomposed = String(cleaned).decomposedStringWithCanonicalMapping
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
        }
        for u in decomposed.unicodeScalars {
            if u.properties.generalCategory == .nonspacingMark { continue }
            if u == " " { flush(); continue }
            for l in lowercase(u) {
                if isPunctuation(l) {
                    flush()
                    words.append([l])
                } else {
                    current.append(l)
                }
            }
        }
        flush()
        return words
    }

    /// The full lower-case mapping of one scalar (one or more scalars).
    static func lowercase(_ u: Unicode.Scalar) -> [Unicode.Scalar] {
        if u.isASCII {
            let v = u.value
            return [(v >= 65 && v <= 90) ? Unicode.Scalar(v + 32)! : u]
        }
        if !u.properties.changesWhenLowercased { return [u] }
        return Array(u.properties.lowercaseMapping.unicodeScalars)
    }

    static func isWhitespace(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case " ", "\t", "\n", "\r": return true
        default:
            switch u.properties.generalCategory {
            case .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
            default: return false
            }
        }
    }

    static func isControl(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case "\t", "\n", "\r": return false
        default:
            switch u.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned: return true
            default: return false
            }
        }
    }

    static func isPunctuation(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        switch u.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// CJK Unified Ideographs and their extensions and compatibility blocks (not kana or hangul).
    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v)
            || (0x2B820...0x2CEAF).contains(v) || (0xF900...0xFAFF).contains(v)
            || (0x2F800...0x2FA1F).contains(v)
    }
}
