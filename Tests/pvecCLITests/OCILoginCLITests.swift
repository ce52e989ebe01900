import Foundation
import XCTest

/// `pvec login` / `pvec logout` and basic auth against an htpasswd-protected docker-registry.
///
/// distribution 2.8 serves htpasswd auth over plain HTTP (it does not insist on TLS; checked
/// with curl against /usr/bin/docker-registry), so the registry runs with --plain-http here.
final class OCILoginCLITests: OCITestCase {
    var configFile: URL { dockerConfig.appendingPathComponent("config.json") }

    func protectedRegistry() throws -> OCIRegistryProcess {
        guard let line = OCIRegistryProcess.htpasswdLine(user: "alice", password: "s3cret") else {
            throw XCTSkip("neither /usr/bin/htpasswd (apt apache2-utils) nor python3's crypt can make a bcrypt line")
        }
        return try OCIRegistryProcess(dir: dir("oci"), htpasswd: line)
    }

    func login(_ host: String, password: String, _ extra: String...) throws -> CLIResult {
        try pvecWithInput(password + "\n", ["login", host, "--username", "alice", "--password-stdin", "--plain-http"] + extra)
    }

    func auths() throws -> [String: Any] {
        let top = try JSONSerialization.jsonObject(with: Data(contentsOf: configFile)) as! [String: Any]
        return top["auths"] as? [String: Any] ?? [:]
    }

    func testLoginChecksThePasswordThenPushAndPullWorkAndLogoutForgetsIt() throws {
        let oci = try protectedRegistry()
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/")
        try on(a, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")

        // No credentials: a clear one-line refusal that says what to run.
        let none = try on(a, "push", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(none.status, 0)
        XCTAssertEqual(none.stderr.split(separator: "\n").count, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("needs credentials and none are configured"), none.stderr)
        XCTAssertTrue(none.stderr.contains("pvec login \(oci.host)"), none.stderr)

        // A config file with other keys and another registry's login, which must survive.
        try FileManager.default.createDirectory(at: dockerConfig, withIntermediateDirectories: true)
        let other = Data("bob:pw".utf8).base64EncodedString()
        let original = "{\"auths\": {\"other.example\": {\"auth\": \"\(other)\"}}, \"psFormat\": \"table {{.ID}}\", \"experimental\": \"enabled\"}"
        try Data(original.utf8).write(to: configFile)

        // The wrong password: one line, non-zero, and the file is untouched.
        let wrong = try login(oci.host, password: "not-it")
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertEqual(wrong.stderr.split(separator: "\n").count, 1, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("wrong username or password"), wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("nothing was saved"), wrong.stderr)
        XCTAssertEqual(String(decoding: try Data(contentsOf: configFile), as: UTF8.self), original)

        // The right one: saved as Docker saves it, the rest kept, mode 0600.
        let right = try login(oci.host, password: "s3cret")
        XCTAssertEqual(right.status, 0, right.stderr)
        XCTAssertTrue(right.stdout.contains("logged in to \(oci.host) as alice"), right.stdout)
        let saved = try auths()
        XCTAssertEqual((saved[oci.host] as? [String: Any])?["auth"] as? String, Data("alice:s3cret".utf8).base64EncodedString())
        XCTAssertEqual((saved["other.example"] as? [String: Any])?["auth"] as? String, other)
        let top = try JSONSerialization.jsonObject(with: Data(contentsOf: configFile)) as! [String: Any]
        XCTAssertEqual(top["psFormat"] as? String, "table {{.ID}}")
        XCTAssertEqual(top["experimental"] as? String, "enabled")
        let mode = try FileManager.default.attributesOfItem(atPath: configFile.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dockerConfig.path).filter { $0 != "config.json" }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")

        try on(a, "push", "team", "team-a/p0")
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/prompts", "--plain-http")
        try on(b, "pull", "team")
        XCTAssertEqual(try names(b)["team-a/p0"], try names(a)["team-a/p0"])
        try on(b, "verify")

        // Logout removes this registry's entry only; the registry refuses again.
        let out = try pvecWithInput("", ["logout", oci.host])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("logged out of \(oci.host)"), out.stdout)
        let after = try auths()
        XCTAssertNil(after[oci.host])
        XCTAssertNotNil(after["other.example"])
        let again = try on(b, "pull", "team", expect: nil)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("needs credentials"), again.stderr)
        let twice = try pvecWithInput("", ["logout", oci.host])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertTrue(twice.stdout.contains("nothing changed"), twice.stdout)
    }

    func testLoginTakesThePasswordOnlyFromStandardInput() throws {
        // No --password option exists, and without --password-stdin a pipe is refused.
        let flag = try pvecWithInput("", ["login", "127.0.0.1:1", "--username", "alice", "--password", "s3cret"])
        XCTAssertNotEqual(flag.status, 0)
        XCTAssertTrue(flag.stderr.contains("--password"), flag.stderr)
        let piped = try pvecWithInput("s3cret\n", ["login", "127.0.0.1:1", "--username", "alice"])
        XCTAssertNotEqual(piped.status, 0)
        XCTAssertTrue(piped.stderr.contains("--password-stdin"), piped.stderr)
        let empty = try pvecWithInput("", ["login", "127.0.0.1:1", "--username", "alice", "--password-stdin"])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("standard input was empty"), empty.stderr)
        let badHost = try pvecWithInput("x\n", ["login", "oci://127.0.0.1:1/repo", "--username", "alice", "--password-stdin"])
        XCTAssertNotEqual(badHost.status, 0)
        XCTAssertTrue(badHost.stderr.contains("HOST[:PORT]"), badHost.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: configFile.path), "nothing was saved")
    }

    func testLoginHelpTeachesStandardInput() throws {
        let help = try pvec(["login", "--help"], registry: false)
        XCTAssertTrue(help.stdout.contains("--password-stdin"), help.stdout)
        XCTAssertTrue(help.stdout.contains("Example: echo"), help.stdout)
    }
}

/// The bearer-token challenge flow against docker-registry in `auth: token:` mode, with a real
/// (tiny) token service issuing ES256 JWTs.
final class OCIBearerCLITests: OCITestCase {
    func testBearerTokenFlowLoginPushPullAndAWrongPasswordIsOneLine() throws {
        let tokens = try OCITokenService(dir: dir("tokens"), user: "alice", password: "s3cret")
        let oci = try OCIRegistryProcess(dir: dir("oci"), token: (tokens.realm, tokens.certificate))
        let a = dir("a"), b = dir("b")
        try makeTeam(a, prefix: "team-a/")
        try on(a, "remote", "add", "team", "oci://\(oci.host)/team/prompts", "--plain-http")

        // Anonymous: the token service refuses, and the error says what to do.
        let none = try on(a, "push", "team", "team-a/p0", expect: nil)
        XCTAssertNotEqual(none.status, 0)
        XCTAssertEqual(none.stderr.split(separator: "\n").count, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("token service needs credentials and none are configured"), none.stderr)

        let wrong = try pvecWithInput("nope\n", ["login", oci.host, "--username", "alice", "--password-stdin", "--plain-http"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertEqual(wrong.stderr.split(separator: "\n").count, 1, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("wrong username or password"), wrong.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dockerConfig.appendingPathComponent("config.json").path))

        let right = try pvecWithInput("s3cret\n", ["login", oci.host, "--username", "alice", "--password-stdin", "--plain-http"])
        XCTAssertEqual(right.status, 0, right.stderr)
        // The login check asked for a token without a scope, as `docker login` does.
        XCTAssertTrue(tokens.requests.contains("scope=- user=alice"), tokens.requests.joined(separator: "\n"))

        try on(a, "push", "team", "team-a/p0")
        XCTAssertTrue(tokens.requests.contains { $0.hasPrefix("scope=repository:team/prompts:") && $0.contains("push") && $0.hasSuffix("user=alice") },
                      tokens.requests.joined(separator: "\n"))
        try on(b, "init")
        try on(b, "remote", "add", "team", "oci://\(oci.host)/team/prompts", "--plain-http")
        try on(b, "pull", "team")
        XCTAssertEqual(try names(b)["team-a/p0"], try names(a)["team-a/p0"])
        try on(b, "verify")
    }
}
