import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Debian's `docker-registry` (CNCF distribution 2.8) as a child process on 127.0.0.1 with a
/// free port and filesystem storage in a temporary folder, stopped by PID.
final class OCIRegistryProcess {
    static let binary = "/usr/bin/docker-registry"
    let process = Process()
    let dir: URL
    let port: Int
    var storage: URL { dir.appendingPathComponent("storage") }
    var host: String { "127.0.0.1:\(port)" }
    var base: String { "http://\(host)" }

    /// Starts the registry; `htpasswd` (a `user:bcrypt-hash` line) turns on basic auth.
    /// Skips the test when the binary is missing (scripts/bootstrap installs it).
    init(dir: URL, htpasswd: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("\(Self.binary) is missing; run scripts/bootstrap (apt-get install docker-registry)")
        }
        self.dir = dir
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("storage"), withIntermediateDirectories: true)
        port = try Self.freePort()
        var auth = ""
        if let htpasswd {
            let file = dir.appendingPathComponent("htpasswd")
            try Data((htpasswd + "\n").utf8).write(to: file)
            auth = """
            auth:
              htpasswd:
                realm: pvec-test
                path: \(file.path)

            """
        }
        let config = """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(storage.path)
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
        \(auth)
        """
        let file = dir.appendingPathComponent("config.yml")
        try Data(config.utf8).write(to: file)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", file.path]
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("REGISTRY_") { env.removeValue(forKey: k) }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait (at most 60 s) for /v2/ to answer: 200 without auth; with auth, for the port to
        // accept connections (URLSession on Linux hides a bare 401 with a Basic challenge).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            if htpasswd == nil ? HTTP.send("GET", "\(base)/v2/", token: nil).status == 200 : Self.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw XCTSkip("docker-registry did not start on \(host)")
    }

    /// A port nothing listens on now (bound to 0, read back, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw XCTSkip("cannot bind a port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// The file holding a blob's bytes in the filesystem storage driver.
    func blobFile(_ digest: String) -> URL {
        let hex = String(digest.dropFirst("sha256:".count))
        return storage.appendingPathComponent("docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data")
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A bcrypt `user:hash` htpasswd line made by python3's `crypt` module, nil when that is
    /// not available (python3.13 removed it; the auth test then skips).
    static func htpasswdLine(user: String, password: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-W", "ignore", "-c",
                       "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let hash = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0, hash.hasPrefix("$2") else { return nil }
        return "\(user):\(hash)"
    }
}

/// Plain HTTP against a registry with headers, for what no pvec command does.
enum OCIHTTP {
    static func get(_ url: String, accept: String? = nil) -> (status: Int, body: [UInt8]) {
        var req = URLRequest(url: URL(string: url)!)
        if let accept { req.setValue(accept, forHTTPHeaderField: "Accept") }
        final class Box: @unchecked Sendable { var value: (Int, [UInt8]) = (0, []) }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: req) { data, response, _ in
            box.value = ((response as? HTTPURLResponse)?.statusCode ?? 0, [UInt8](data ?? Data()))
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 30)
        return box.value
    }
}
