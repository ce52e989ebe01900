import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Debian's `docker-registry` (CNCF distribution 2.8) as a child process on 127.0.0.1 with a
/// free port and filesystem storage in a temporary folder, stopped by PID.
final class OCIRegistryProcess {
    static let binary = "/usr/bin/docker-registry"
    private(set) var process = Process()
    let dir: URL
    let htpasswd: String?
    let authenticated: Bool
    let port: Int
    var storage: URL { dir.appendingPathComponent("storage") }
    var host: String { "127.0.0.1:\(port)" }
    var base: String { "http://\(host)" }

    /// Starts the registry; `htpasswd` (a `user:bcrypt-hash` line) turns on basic auth, `token`
    /// the bearer-token flow (its realm, and the certificate whose key signs the tokens).
    /// Skips the test when the binary is missing (scripts/bootstrap installs it).
    init(dir: URL, htpasswd: String? = nil, token: (realm: String, certificate: URL)? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("\(Self.binary) is missing; run scripts/bootstrap (apt-get install docker-registry)")
        }
        self.dir = dir
        self.htpasswd = htpasswd
        self.authenticated = htpasswd != nil || token != nil
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
        if let token {
            auth = """
            auth:
              token:
                realm: \(token.realm)
                service: pvec-registry
                issuer: pvec-test-issuer
                rootcertbundle: \(token.certificate.path)

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
        try Data(config.utf8).write(to: configFile)
        try start()
    }

    var configFile: URL { dir.appendingPathComponent("config.yml") }

    /// Runs the registry on the config file and waits (at most 60 s) for it to answer.
    private func start() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", configFile.path]
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("REGISTRY_") { env.removeValue(forKey: k) }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for /v2/ to answer: 200 without auth; with auth, for the port to accept
        // connections (URLSession on Linux hides a bare 401 with a Basic challenge).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            if !authenticated ? HTTP.send("GET", "\(base)/v2/", token: nil).status == 200 : Self.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw XCTSkip("docker-registry did not start on \(host)")
    }

    /// Kills the registry at once (SIGKILL, by PID), as a crash or a power cut would.
    func crash() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Starts the registry again on the same storage and port (after `crash` or `stop`).
    func restart() throws {
        crash()
        try start()
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

    /// A bcrypt `user:hash` htpasswd line (distribution takes only bcrypt), made by Apache's
    /// `htpasswd -nbB` (apt apache2-utils, which scripts/bootstrap installs), else by python3's
    /// `crypt` module; nil when neither is available (the auth tests then skip).
    static func htpasswdLine(user: String, password: String) -> String? {
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/htpasswd") {
            let h = Process()
            h.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
            h.arguments = ["-nbB", user, password]
            let out = Pipe()
            h.standardOutput = out
            h.standardError = FileHandle.nullDevice
            if (try? h.run()) != nil {
                let data = out.fileHandleForReading.readDataToEndOfFile()
                h.waitUntilExit()
                let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if h.terminationStatus == 0, line.hasPrefix("\(user):$2") { return line }
            }
        }
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

/// scripts/testing/oci_proxy.py in front of a registry: records every request, and can cut a
/// chunk mid-transfer or win a tag race (see the script). Stopped by PID.
final class OCIProxyProcess {
    let process = Process()
    let port: Int
    let log: URL
    var host: String { "127.0.0.1:\(port)" }

    static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/testing/oci_proxy.py")
    }

    init(upstream: OCIRegistryProcess, dir: URL, options: [String] = []) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        log = dir.appendingPathComponent("requests.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script.path, "--upstream", upstream.host, "--log", log.path] + options
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is the port (the script binds before printing it).
        var line = Data()
        while let b = try out.fileHandleForReading.read(upToCount: 1), !b.isEmpty, b != Data([0x0A]) { line += b }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw XCTSkip("the OCI proxy (python3 \(Self.script.path)) did not start")
        }
        port = p
    }

    /// The recorded requests, one `METHOD PATH content-range=…` line each.
    var requests: [String] {
        (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension CLITestCase {
    /// Runs `pvec ARGS` with `input` on standard input and the test's Docker config (and keys).
    func pvecWithInput(_ input: String, _ args: [String], env: [String: String] = [:]) throws -> CLIResult {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        e.removeValue(forKey: "PVEC_REGISTRY")
        e["DOCKER_CONFIG"] = dockerConfig.path
        e["PVEC_KEYS"] = keys
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.currentDirectoryURL = workDir
        let inp = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = inp
        p.standardOutput = out
        p.standardError = err
        try p.run()
        inp.fileHandleForWriting.write(Data(input.utf8))
        try inp.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: r, as: UTF8.self))
    }
}

/// Helpers of the OCI CLI tests (a base class without tests of its own).
class OCITestCase: CLITestCase {
    /// A registry with an init and `count` prompts tuned from it (rows × width, seeds from `seed`).
    func makeTeam(_ reg: URL, prefix: String, count: Int = 1, seed: UInt64 = 1) throws {
        try on(reg, "init")
        try on(reg, "import", try write(TestData.npy(TestData.tensor(rows: 4, width: 8, seed: seed)), "init-\(seed).npy"),
               "--name", "\(prefix)init", "--kind", "init", "--backbone", "toy")
        for i in 0..<count {
            let f = try write(TestData.npy(TestData.tensor(rows: 4, width: 8, seed: seed * 1000 + UInt64(i) + 1)), "p-\(seed)-\(i).npy")
            try on(reg, "import", f, "--name", "\(prefix)p\(i)", "--init", "\(prefix)init")
        }
    }

    func names(_ reg: URL) throws -> [String: String] {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        var out: [String: String] = [:]
        for a in list { for n in a["names"] as? [String] ?? [] { out[n] = a["id"] as? String } }
        return out
    }

    func ids(_ reg: URL) throws -> Set<String> {
        let list = try JSONSerialization.jsonObject(with: Data(try on(reg, "ls", "--json").stdout.utf8)) as! [[String: Any]]
        return Set(list.map { $0["id"] as! String })
    }

    func pushJSON(_ reg: URL, _ args: String...) throws -> [String: Any] {
        let r = try pvec(["push"] + args + ["--json", "--registry", reg.path], registry: false,
                         env: ["PVEC_KEYS": keys, "DOCKER_CONFIG": dockerConfig.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    func tags(_ oci: OCIRegistryProcess, repo: String) throws -> [String] {
        let r = OCIHTTP.get("\(oci.base)/v2/\(repo)/tags/list")
        XCTAssertEqual(r.status, 200)
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["tags"] as? [String] ?? []
    }
}

/// scripts/testing/oci_token_service.py: issues ES256 tokens for docker-registry's `auth: token:`
/// mode, signed with a key whose self-signed certificate `openssl` makes here. Stopped by PID.
final class OCITokenService {
    let process = Process()
    let port: Int
    let log: URL
    let certificate: URL
    var realm: String { "http://127.0.0.1:\(port)/token" }

    init(dir: URL, user: String, password: String) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("token-key.pem")
        certificate = dir.appendingPathComponent("token-cert.pem")
        log = dir.appendingPathComponent("tokens.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let ssl = Process()
        ssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        ssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", key.path, "-out", certificate.path, "-days", "2", "-subj", "/CN=pvec-test-token"]
        ssl.standardOutput = FileHandle.nullDevice
        ssl.standardError = FileHandle.nullDevice
        guard (try? ssl.run()) != nil else { throw XCTSkip("openssl is not available to make the token signing key") }
        ssl.waitUntilExit()
        guard ssl.terminationStatus == 0 else { throw XCTSkip("openssl could not make an EC P-256 key and certificate") }
        let script = OCIProxyProcess.script.deletingLastPathComponent().appendingPathComponent("oci_token_service.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--key", key.path, "--issuer", "pvec-test-issuer",
                             "--user", user, "--password", password, "--log", log.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let b = try out.fileHandleForReading.read(upToCount: 1), !b.isEmpty, b != Data([0x0A]) { line += b }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw XCTSkip("the token service did not start (python3 needs the cryptography package; scripts/bootstrap checks it)")
        }
        port = p
    }

    /// One `scope=… user=…` line per token request.
    var requests: [String] {
        (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
