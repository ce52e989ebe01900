/// The rule for seeds recorded in recipes.
///
/// Seeds are stored as JSON integers. Many JSON readers (JavaScript, Python's `json` with
/// floats, jq) hold numbers as doubles, which are exact only below 2^53; a larger seed would
/// read back as another seed and the recipe could not be reproduced from its manifest.
public enum RecipeSeed {
    /// One more than the largest seed accepted: 2^53.
    public static let limit: UInt64 = 1 << 53

    /// Refuses a seed a JSON reader could not hold exactly.
    ///
    /// - Throws: `StoreError.malformedRecipe` saying to pick a smaller seed.
    public static func check(_ seed: UInt64, op: String) throws {
        guard seed < limit else {
            throw StoreError.malformedRecipe(op: op, reason: "seed \(seed) is not below 2^53, so JSON readers could not hold it exactly; pick a smaller seed")
        }
    }
}
