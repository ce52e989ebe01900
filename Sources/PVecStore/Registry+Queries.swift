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

    /// The DAG of `id` and all its ancestors, walked by a recursive query over the edges.
    ///
    /// Ancestors missing from the catalog appear in `edges` but not in `nodes`.
    /// - Throws: `StoreError.unknownName` if `id` is not in the catalog.
    public func lineage(of id: ArtifactID) throws -> LineageGraph {
        let (rows, nameRows, edgeRows, depth) = try catalogRead { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)", arguments: [id.hex]) == true else {
                throw StoreError.unknownName(id.hex)
            }
            let ancestry = """
                WITH RECURSIVE ancestry(id, depth) AS (
                    SELECT ?, 0
                    UNION
                    SELECT e.parent, a.depth + 1 FROM edges e JOIN ancestry a ON e.child = a.id
                )
                """
            let depthRows = try Row.fetchAll(db, sql: ancestry + " SELECT id, min(depth) AS depth FROM ancestry GROUP BY id",
                                             arguments: [id.hex])
            var depth: [String: Int] = [:]
            for r in depthRows { depth[r["id"]] = r["depth"] }
            // The ancestry again in each query (no list of ids as parameters: a graph may be
            // larger than SQLite's parameter limit).
            let nodes = try Row.fetchAll(db, sql: ancestry + " SELECT id, kind, recipe_op FROM artifacts WHERE id IN (SELECT id FROM ancestry)",
                                         arguments: [id.hex])
            let names = try Row.fetchAll(db, sql: ancestry + " SELECT id, name FROM refs WHERE id IN (SELECT id FROM ancestry) ORDER BY name",
                                         arguments: [id.hex])
            let edges = try Row.fetchAll(db, sql: ancestry + """
                 SELECT child, parent, role, position FROM edges WHERE child IN (SELECT id FROM ancestry)
                """, arguments: [id.hex])
            return (nodes, names, edges, depth)
        }
        var names: [String: [String]] = [:]
        for r in nameRows { names[r["id"], default: []].append(r["name"]) }
        var nodes: [ArtifactID: LineageGraph.Node] = [:]
        for r in rows {
            let hex: String = r["id"]
            guard let kind = ArtifactKind(rawValue: r["kind"]) else { continue }
            nodes[ArtifactID(unchecked: hex)] = LineageGraph.Node(kind: kind, op: r["recipe_op"], names: names[hex] ?? [])
        }
        let sorted = edgeRows.sorted { a, b in
            let da = depth[a["child"] as String] ?? 0, dbb = depth[b["child"] as String] ?? 0
            if da != dbb { return da < dbb }
            if (a["child"] as String) != (b["child"] as String) { return (a["child"] as String) < (b["child"] as String) }
            return (a["position"] as Int) < (b["position"] as Int)
        }
        let edges = sorted.compactMap { r -> (child: ArtifactID, parent: ArtifactID, role: ParentRole)? in
            guard let role = ParentRole(rawValue: r["role"]) else { return nil }
            return (child: ArtifactID(unchecked: r["child"]), parent: ArtifactID(unchecked: r["parent"]), role: role)
        }
        return LineageGraph(root: id, nodes: nodes, edges: edges)
    }
}
