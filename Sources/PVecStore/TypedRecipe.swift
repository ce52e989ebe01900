/// A recipe with typed parameters: one type per operation (`vector`, `merge`, `train`, …).
///
/// The manifest keeps the recipe as `{"op": …, "params": {…}}` in canonical JSON, and ids are
/// the hash of that JSON, so a typed recipe must encode to exactly the parameters the
/// untyped code wrote: `T(params: p).params` has the same canonical bytes as `p` for every
/// recorded `p`. Types live beside the code that runs them (PVecOps for arithmetic, merges,
/// inits and SPoT; PVecTrain for training runs); `RecipeDecoder` reads any of them.
///
/// ```swift
/// // PVecOps's ScaleRecipe, in short:
/// struct ScaleRecipe: TypedRecipe {
///     static let op = "scale"
///     var by: Double
///     var params: [String: JSONValue] { ["by": .double(by)] }
///     init(params p: [String: JSONValue]) throws { by = try RecipeField.double(p, "by", op: Self.op) }
/// }
/// let r = ScaleRecipe(by: 2).recipe        // Recipe(op: "scale", params: ["by": 2])
/// ```
public protocol TypedRecipe: Hashable, Sendable {
    /// The op name recorded in manifests.
    static var op: String { get }
    /// The parameters as recorded.
    var params: [String: JSONValue] { get }
    /// Reads recorded parameters.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the missing or malformed parameter.
    init(params: [String: JSONValue]) throws
}

extension TypedRecipe {
    /// The recipe as stored in a manifest.
    public var recipe: Recipe { Recipe(op: Self.op, params: params) }

    /// Reads a recorded recipe of this type's op.
    ///
    /// - Throws: `StoreError.malformedRecipe` for another op or bad parameters.
    public init(_ recipe: Recipe) throws {
        guard recipe.op == Self.op else {
            throw StoreError.malformedRecipe(op: recipe.op, reason: "expected a '\(Self.op)' recipe")
        }
        try self.init(params: recipe.params)
    }
}

/// Reads recorded recipes into their types.
public struct RecipeDecoder: Sendable {
    private let types: [String: any TypedRecipe.Type]

    /// A decoder for the given recipe types (each op once: two types for one op are a
    /// programming error, caught here rather than by one silently shadowing the other).
    public init(_ types: [any TypedRecipe.Type]) {
        var byOp: [String: any TypedRecipe.Type] = [:]
        for t in types {
            precondition(byOp[t.op] == nil, "two recipe types for op '\(t.op)'")
            byOp[t.op] = t
        }
        self.types = byOp
    }

    /// The ops this decoder knows, sorted.
    public var ops: [String] { types.keys.sorted() }

    /// The typed recipe of a recorded one.
    ///
    /// - Throws: `StoreError.malformedRecipe` for an unknown op or bad parameters.
    public func decode(_ recipe: Recipe) throws -> any TypedRecipe {
        guard let t = types[recipe.op] else {
            throw StoreError.malformedRecipe(op: recipe.op, reason: "no recipe type knows this op")
        }
        return try t.init(params: recipe.params)
    }
}

/// Typed reads of recorded parameters, with errors that name the op and the key.
public enum RecipeField {
    static func missing(_ key: String, _ what: String, op: String) -> StoreError {
        .malformedRecipe(op: op, reason: "parameter '\(key)' is missing or not \(what)")
    }

    /// A number parameter; an integer is read as a Double (exactly only within ±2^53).
    ///
    /// - Parameters:
    ///   - p: the recorded parameters.
    ///   - key: the parameter to read.
    ///   - op: the recipe's op, for the error message.
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing or not a number.
    public static func double(_ p: [String: JSONValue], _ key: String, op: String) throws -> Double {
        guard let v = p[key]?.doubleValue else { throw missing(key, "a number", op: op) }
        return v
    }

    /// An integer parameter; a Double holding an integer that fits Int64 is accepted too.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing or not an integer.
    public static func int(_ p: [String: JSONValue], _ key: String, op: String) throws -> Int64 {
        guard let v = p[key]?.intValue else { throw missing(key, "an integer", op: op) }
        return v
    }

    /// A string parameter.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing or not a string.
    public static func string(_ p: [String: JSONValue], _ key: String, op: String) throws -> String {
        guard let v = p[key]?.stringValue else { throw missing(key, "a string", op: op) }
        return v
    }

    /// A JSON `true` or `false` parameter (numbers are not read as booleans).
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing or not a boolean.
    public static func bool(_ p: [String: JSONValue], _ key: String, op: String) throws -> Bool {
        guard let v = p[key]?.boolValue else { throw missing(key, "true or false", op: op) }
        return v
    }

    /// An array-of-numbers parameter; integers are read as Doubles.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing, not an array, or
    ///   holds anything but numbers.
    public static func doubles(_ p: [String: JSONValue], _ key: String, op: String) throws -> [Double] {
        guard let a = p[key]?.arrayValue else { throw missing(key, "an array of numbers", op: op) }
        let v = a.compactMap(\.doubleValue)
        guard v.count == a.count else { throw missing(key, "an array of numbers", op: op) }
        return v
    }

    /// An object parameter, such as an import's `peft_config`.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing or not an object.
    public static func object(_ p: [String: JSONValue], _ key: String, op: String) throws -> [String: JSONValue] {
        guard let v = p[key]?.objectValue else { throw missing(key, "an object", op: op) }
        return v
    }

    /// A parameter that is recorded only sometimes: nil when absent, else read by `read`
    /// (one of the functions above), which throws when it is of the wrong kind.
    ///
    /// ```swift
    /// let tag = try RecipeField.optional(p, "among_tag", op: "spot", RecipeField.string)
    /// ```
    public static func optional<T>(_ p: [String: JSONValue], _ key: String, op: String,
                                   _ read: ([String: JSONValue], String, String) throws -> T) throws -> T? {
        guard p[key] != nil else { return nil }
        return try read(p, key, op)
    }

    /// An array-of-strings parameter.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `key` when it is missing, not an array, or
    ///   holds anything but strings.
    public static func strings(_ p: [String: JSONValue], _ key: String, op: String) throws -> [String] {
        guard let a = p[key]?.arrayValue else { throw missing(key, "an array of strings", op: op) }
        let v = a.compactMap(\.stringValue)
        guard v.count == a.count else { throw missing(key, "an array of strings", op: op) }
        return v
    }
}
