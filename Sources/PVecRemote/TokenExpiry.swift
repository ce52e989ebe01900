import Foundation

/// The `--expires` of `pvec token create`: a duration from now or a date.
public enum TokenExpiry {
    /// Longest duration accepted (100 years), so the arithmetic cannot overflow.
    static let maxSeconds: Double = 100 * 365 * 86_400

    /// `30d`, `12h`, `90m`, `2w`, `3600s`, or an ISO 8601 date: `2027-01-31` (midnight UTC),
    /// `2027-01-31T12:00:00Z`, `2027-01-31T12:00:00+02:00`. It must lie after `now`.
    ///
    /// - Throws: `RemoteError.invalidExpiry`.
    public static func parse(_ text: String, now: Date = Date()) throws -> Date {
        let date = duration(text).map { now.addingTimeInterval($0) } ?? isoDate(text)
        guard let date, date > now else { throw RemoteError.invalidExpiry(text) }
        return date
    }

    static func duration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0, text.dropLast().allSatisfy(\.isASCII) else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        default: return nil
        }
        let total = Double(n) * seconds
        return total <= maxSeconds ? total : nil
    }

    static func isoDate(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let d = full.date(from: text) { return d }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = full.date(from: text) { return d }
        guard text.count == 10 else { return nil }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        return day.date(from: text)
    }
}
