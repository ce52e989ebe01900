import PVecStore

/// Typed reads of one recipe's recorded parameters (errors name the op and the key).
struct RecipeParams {
    let p: [String: JSONValue]
    let op: String

    init(_ p: [String: JSONValue], op: String) {
        self.p = p
        self.op = op
    }

    func has(_ key: String) -> Bool { p[key] != nil }

    func double(_ key: String) throws -> Double { try RecipeField.double(p, key, op: op) }
    func string(_ key: String) throws -> String { try RecipeField.string(p, key, op: op) }
    func bool(_ key: String) throws -> Bool { try RecipeField.bool(p, key, op: op) }
    func strings(_ key: String) throws -> [String] { try RecipeField.strings(p, key, op: op) }

    func int(_ key: String) throws -> Int {
        guard let v = Int(exactly: try RecipeField.int(p, key, op: op)) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' is out of range")
        }
        return v
    }

    /// A seed, recorded as the Int64 with the same bits.
    func seed(_ key: String) throws -> UInt64 { UInt64(bitPattern: try RecipeField.int(p, key, op: op)) }

    func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }
    func optionalDouble(_ key: String) throws -> Double? { has(key) ? try double(key) : nil }
    func optionalSeed(_ key: String) throws -> UInt64? { has(key) ? try seed(key) : nil }
    func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }
    func optionalStrings(_ key: String) throws -> [String]? { has(key) ? try strings(key) : nil }

    /// One of a closed set of recorded words.
    func word<W: RawRepresentable>(_ key: String, as: W.Type) throws -> W where W.RawValue == String {
        guard let w = W(rawValue: try string(key)) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' has an unknown value")
        }
        return w
    }

    /// A parameter every recipe of this op records with the same value.
    func constant(_ key: String, _ value: JSONValue) throws {
        guard let v = p[key], v.canonicalBytes == value.canonicalBytes else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' must be \(value.canonicalString)")
        }
    }

    /// An array of objects, each read by `read`.
    func objects<T>(_ key: String, _ read: (RecipeParams) throws -> T) throws -> [T] {
        guard let a = p[key]?.arrayValue else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' is missing or not an array")
        }
        return try a.map { item in
            guard let o = item.objectValue else {
                throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' holds a non-object")
            }
            return try read(RecipeParams(o, op: op))
        }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Adds the entries of `other`; keys already here win (as recipes have always merged).
    func adding(_ other: [String: JSONValue]) -> [String: JSONValue] { merging(other) { a, _ in a } }
}

extension JSONValue {
    static func count(_ n: Int) -> JSONValue { .int(Int64(n)) }
    static func seed(_ s: UInt64) -> JSONValue { .int(Int64(bitPattern: s)) }
}
