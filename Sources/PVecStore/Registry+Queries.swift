import Foundation
import GRDB
import PVecTensor

extension Registry {
    // MARK: - Listing

    /// Artifacts in the catalog, oldest first, optionally filtered.
    ///
    /// - Parameters:
    ///   - backbone: a backbone model id (exact match) or a prefix of the embedding hash.
    ///   - tag: only artifacts carrying this tag.
    public func list(kind: ArtifactKind? = nil, backbone: String? = nil, tag: String? = nil) throws -> [ArtifactSummary] {
        try catalogRead { db in
            var sql = "SELECT a.* FROM artifacts a WHERE 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let kind { sql += " AND a.kind = ?"; args.append(kind.rawValue) }
            if let backbone {
                sql += " AND (a.backbone_model = ? OR (length(?) >= 4 AND a.backbone_embedding >= ? AND a.backbone_embedding < ?))"
                args += [backbone, backbone, backbone, backbone + "g"]
            }
            if let tag { sql += " AND EXISTS (SELECT 1 FROM tags t WHERE t.id = a.id AND t.tag = ?)"; args.append(tag) }
            sql += " ORDER BY a.created_at, a.id"
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            var names: [String: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, name FROM refs ORDER BY name") {
                names[r["id"], default: []].append(r["name"])
            }
            var tags: [String: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, tag FROM tags ORDER BY tag") {
                tags[r["id"], default: []].append(r["tag"])
            }
            return rows.map { r in
                let hex: String = r["id"]
                return ArtifactSummary(
                    id: ArtifactID(unchecked: hex),
                    kind: ArtifactKind(rawValue: r["kind"]) ?? .prompt,
                    shape: Self.shape(r["shape"]),
                    backbone: (r["backbone_model"] as String?).map {
                        Backbone(model: $0, width: r["backbone_width"] ?? 0, embedding: r["backbone_embedding"])
                    },
                    names: names[hex] ?? [], tags: tags[hex] ?? [],
                    createdAt: Date(timeIntervalSince1970: r["created_at"]), op: r["recipe_op"])
            }
        }
    }

    static func shape(_ text: String?) -> Shape? {
        guard let text, let dims = (try? JSONValue.parse(Array(text.utf8)))?.arrayValue?.compactMap(\.intValue) else { return nil }
        return Shape(dims.map { Int($0) })
    }

    // MARK: - Lineage

    /// Artifacts that name `id` as a parent, with the role, ordered by child id.
    public func children(of id: ArtifactID) throws -> [(role: ParentRole, id: ArtifactID)] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT child, role FROM edges WHERE parent = ? ORDER BY child, position", arguments: [id.hex])
                .compactMap { r in
                    ParentRole(rawValue: r["role"]).map { (role: $0, id: ArtifactID(unchecked: r["child"])) }
                }
        }
    }

    /// The DAG of `id` and all its ancestors, from one recursive walk over the edges.
    ///
    /// One statement returns a row per (artifact, parent edge), nearest the root first, each
    /// with the artifact's kind, op and names: no manifest is decoded and the ancestry is
    /// walked once. Ancestors missing from the catalog appear in `edges` but not in `nodes`.
    /// - Throws: `StoreError.unknownName` if `id` is not in the catalog.
    public func lineage(of id: ArtifactID) throws -> LineageGraph {
        try catalogRead { db in
            // Names hold no newline (RefName), so one joined column carries them all.
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                WITH RECURSIVE ancestry(id, depth) AS (
                    SELECT ?, 0
                    UNION
                    SELECT e.parent, a.depth + 1 FROM edges e JOIN ancestry a ON e.child = a.id
                ),
                nodes(id, depth) AS (SELECT id, min(depth) FROM ancestry GROUP BY id)
                SELECT n.id, a.kind, a.recipe_op, e.parent, e.role,
                       (SELECT group_concat(r.name, char(10)) FROM refs r WHERE r.id = n.id) AS names
                FROM nodes n
                LEFT JOIN artifacts a ON a.id = n.id
                LEFT JOIN edges e ON e.child = n.id
                ORDER BY n.depth, n.id, e.position
                """), arguments: [id.hex])
            var nodes: [ArtifactID: LineageGraph.Node] = [:]
            var edges: [(child: ArtifactID, parent: ArtifactID, role: ParentRole)] = []
            var previous: String?
            var rootInCatalog = false
            while let r = try rows.next() {
                let hex: String = r[0]
                let child = ArtifactID(unchecked: hex)
                if hex == id.hex, (r[1] as String?) != nil { rootInCatalog = true }
                if hex != previous, let kindText: String = r[1], let kind = ArtifactKind(rawValue: kindText) {
                    let names = (r[5] as String?)?.split(separator: "\n").map(String.init).sorted() ?? []
                    nodes[child] = LineageGraph.Node(kind: kind, op: r[2] ?? "", names: names)
                }
                previous = hex
                if let parent: String = r[3], let role = ParentRole(rawValue: r[4]) {
                    edges.append((child: child, parent: ArtifactID(unchecked: parent), role: role))
                }
            }
            guard rootInCatalog else { throw StoreError.unknownName(id.hex) }
            return LineageGraph(root: id, nodes: nodes, edges: edges)
        }
    }
}
