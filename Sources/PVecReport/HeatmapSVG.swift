import Foundation
import PVecTensor

/// A labelled heat map of a square matrix (e.g. pairwise cosines, Belanec et al. 2024, Fig. 2)
/// as a standalone SVG document: pure string generation, no fonts or scripts.
///
/// Layout: column labels along the top (rotated), row labels on the left, one `<rect>` per
/// cell (class `cell`, with `data-row`, `data-col`, `data-value`) holding its value as text, and
/// a vertical colour-scale legend on the right with ticks at the range's ends and middle.
/// A label longer than `labelLimit` characters is shortened with an ellipsis (`…`) so it fits
/// the space kept for labels; the whole label stays in the text's `<title>` (a tooltip).
/// Colours follow a diverging blue–white–red scale over `range`; within each half the red and
/// blue channels each move one way, so R − B never falls as the value rises.
///
/// ```swift
/// let svg = HeatmapSVG(labels: ["mnli", "qnli"], values: [1, 0.4, 0.4, 1], title: "cosine").render()
/// ```
public struct HeatmapSVG: Sendable {
    public var labels: [String]
    /// Row-major, labels.count² values.
    public var values: [Float]
    public var title: String?
    /// Values mapped to the ends of the colour scale (clamped outside).
    public var range: ClosedRange<Float>

    /// - Precondition: `values.count == labels.count * labels.count`.
    public init(labels: [String], values: [Float], title: String? = nil, range: ClosedRange<Float> = -1...1) {
        precondition(values.count == labels.count * labels.count, "a heat map needs labels.count² values")
        self.labels = labels
        self.values = values
        self.title = title
        self.range = range
    }

    // Geometry, in SVG user units.
    private let cell = 56
    private let charWidth = 7
    /// The most characters of a label drawn; the label space is sized for this many.
    public static let labelLimit = 32

    /// The SVG document.
    public func render() -> String {
        let n = labels.count
        let shown = labels.map(Self.shortened)
        let labelSpace = 16 + charWidth * (shown.map(\.count).max() ?? 0)
        let titleSpace = title == nil ? 0 : 28
        let left = labelSpace, top = labelSpace + titleSpace
        let grid = n * cell
        let legendX = left + grid + 24, legendWidth = 16
        // Column labels run up and to the right at 45°: the last one must fit in the width too.
        let lastLabelEnd = left + max(n - 1, 0) * cell + cell / 2 + (labelSpace - 16) * 71 / 100 + 8
        let width = max(legendX + legendWidth + 56, lastLabelEnd)
        let height = top + max(grid, 160) + 16
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">

        """
        s += "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for k in 0...4 {
            let f = Float(k) / 4
            s += "<stop offset=\"\(Int(f * 100))%\" stop-color=\"\(Self.hex(Self.colour(f)))\"/>"
        }
        s += "</linearGradient></defs>\n"
        if let title {
            s += "<text class=\"title\" x=\"\(left)\" y=\"20\" font-size=\"14\">\(Self.escape(title))</text>\n"
        }
        s += "<g class=\"col-labels\">\n"
        for (j, l) in labels.enumerated() {
            let x = left + j * cell + cell / 2, y = top - 6
            s += "<text x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-45 \(x) \(y))\">\(Self.labelText(l))</text>\n"
        }
        s += "</g>\n<g class=\"row-labels\" text-anchor=\"end\">\n"
        for (i, l) in labels.enumerated() {
            s += "<text x=\"\(left - 6)\" y=\"\(top + i * cell + cell / 2 + 4)\">\(Self.labelText(l))</text>\n"
        }
        s += "</g>\n<g class=\"cells\">\n"
        for i in 0..<n {
            for j in 0..<n {
                let v = values[i * n + j]
                let f = fraction(v)
                let c = Self.colour(f)
                let x = left + j * cell, y = top + i * cell
                let ink = Self.luminance(c) < 0.5 ? "#ffffff" : "#000000"
                s += "<rect class=\"cell\" data-row=\"\(i)\" data-col=\"\(j)\" data-value=\"\(v)\" x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(Self.hex(c))\"/>"
                s += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\" fill=\"\(ink)\">\(Self.number(v))</text>\n"
            }
        }
        s += "</g>\n<g class=\"legend\">\n"
        let legendHeight = max(grid, 160)
        s += "<rect x=\"\(legendX)\" y=\"\(top)\" width=\"\(legendWidth)\" height=\"\(legendHeight)\" fill=\"url(#scale)\" stroke=\"#888888\"/>\n"
        for (k, v) in [range.upperBound, (range.lowerBound + range.upperBound) / 2, range.lowerBound].enumerated() {
            let y = top + k * legendHeight / 2
            s += "<line x1=\"\(legendX + legendWidth)\" y1=\"\(y)\" x2=\"\(legendX + legendWidth + 4)\" y2=\"\(y)\" stroke=\"#000000\"/>"
            s += "<text x=\"\(legendX + legendWidth + 7)\" y=\"\(y + 4)\">\(Self.number(v))</text>\n"
        }
        s += "</g>\n</svg>\n"
        return s
    }

    /// Where v falls in `range`, clamped to [0, 1]; NaN sits in the middle.
    private func fraction(_ v: Float) -> Float {
        let span = range.upperBound - range.lowerBound
        guard v.isFinite, span > 0 else { return 0.5 }
        return min(1, max(0, (v - range.lowerBound) / span))
    }

    /// Blue (0) → white (0.5) → red (1), linear in each half (Moreland's cool–warm ends).
    static func colour(_ f: Float) -> (r: Int, g: Int, b: Int) {
        let blue: (Float, Float, Float) = (59, 76, 192), white: (Float, Float, Float) = (247, 247, 247)
        let red: (Float, Float, Float) = (180, 4, 38)
        let (a, b, t) = f < 0.5 ? (blue, white, f * 2) : (white, red, (f - 0.5) * 2)
        func mix(_ x: Float, _ y: Float) -> Int { Int((x + (y - x) * t).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    static func hex(_ c: (r: Int, g: Int, b: Int)) -> String {
        String(format: "#%02x%02x%02x", c.r, c.g, c.b)
    }

    static func luminance(_ c: (r: Int, g: Int, b: Int)) -> Double {
        (0.299 * Double(c.r) + 0.587 * Double(c.g) + 0.114 * Double(c.b)) / 255
    }

    static func number(_ v: Float) -> String {
        v.isFinite ? String(format: "%.2f", v) : "nan"
    }

    /// `label` cut to `labelLimit` characters, its last one an ellipsis, when it is longer.
    static func shortened(_ label: String) -> String {
        label.count <= labelLimit ? label : String(label.prefix(labelLimit - 1)) + "…"
    }

    /// A label's text element content: the shown text, and the whole label as a tooltip when
    /// it was shortened.
    static func labelText(_ label: String) -> String {
        let shown = shortened(label)
        return shown == label ? escape(label) : "<title>\(escape(label))</title>\(escape(shown))"
    }

    /// Text safe inside an XML element or attribute.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}
