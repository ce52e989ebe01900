import Foundation

/// `logs/refs`: every ref update and tag, one canonical JSON object per line, appended and
/// fsynced inside the catalog transaction that makes the change (as git keeps reflogs).
///
/// The catalog is the live index; this file lets `rebuildCatalog` restore names, their
/// history and tags when the catalog itself is lost.
///
/// ```
/// {"action":"ref","command":"pvec import ...","name":"mnli","new":"<id>","old":null,"time":1717171717.5,"version":1}
/// {"action":"tag","command":"pvec tag mnli best","id":"<id>","tag":"best","time":1717171720.25}
/// ```
enum RefLog {
    enum Entry: Equatable {
        case ref(name: String, version: Int, old: ArtifactID?, new: ArtifactID, time: Double, command: String)
        case tag(tag: String, id: ArtifactID, time: Double, command: String)

        var json: JSONValue {
            switch self {
            case .ref(let name, let version, let old, let new, let time, let command):
                return ["action": "ref", "name": .string(name), "version": .int(Int64(version)),
                        "old": old.map { .string($0.hex) } ?? .null, "new": .string(new.hex),
                        "time": .double(time), "command": .string(command)]
            case .tag(let tag, let id, let time, let command):
                return ["action": "tag", "tag": .string(tag), "id": .string(id.hex), "time": .double(time),
                        "command": .string(command)]
            }
        }

        init?(json v: JSONValue) {
            guard let time = v["time"]?.doubleValue, let command = v["command"]?.stringValue else { return nil }
            switch v["action"]?.stringValue {
            case "ref":
                guard let name = v["name"]?.stringValue, let version = v["version"]?.intValue,
                      let new = v["new"]?.stringValue.flatMap(ArtifactID.init) else { return nil }
                self = .ref(name: name, version: Int(version), old: v["old"]?.stringValue.flatMap(ArtifactID.init),
                            new: new, time: time, command: command)
            case "tag":
                guard let tag = v["tag"]?.stringValue, let id = v["id"]?.stringValue.flatMap(ArtifactID.init) else { return nil }
                self = .tag(tag: tag, id: id, time: time, command: command)
            default:
                return nil
            }
        }
    }

    static func append(_ entry: Entry, to url: URL) throws {
        try FileIO.makeDirectory(url.deletingLastPathComponent(), syncParent: true)
        try FileIO.appendLine(entry.json.canonicalBytes, to: url)
    }

    /// Entries in file order; lines that do not parse (a torn last line after a crash) are skipped.
    static func read(_ url: URL) throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let bytes = try FileIO.readFile(url)
        return bytes.split(separator: 0x0A).compactMap { line in
            (try? JSONValue.parse(line)).flatMap(Entry.init(json:))
        }
    }
}
