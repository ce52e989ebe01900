import Foundation
import XCTest

/// What a shell user expects of the CLI: closed sets of values checked while parsing, one-line
/// usage errors with a hint, JSON errors with `--json`, completion scripts that offer values,
/// paths and registry names, grouped help, help text that reflows, and `--name` on `vector`.
final class ShellHabitsCLITests: CLITestCase {
    /// A usage error: status 64, exactly one line on stderr naming `needles` and pointing at
    /// the command's help, nothing on stdout.
    @discardableResult
    func usageError(_ args: [String], help: String, _ needles: String..., file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 64, "pvec \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "expected one line (and its newline), got: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("Error: "), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains("(see '\(help)')"), "no hint to '\(help)' in: \(r.stderr)", file: file, line: line)
        for n in needles {
            XCTAssertTrue(r.stderr.contains(n), "'\(n)' missing from: \(r.stderr)", file: file, line: line)
        }
        return r
    }

    // MARK: - Closed sets of values

    func testBadValuesFailWhileParsingOnOneLineWithAHint() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        let before = try artifactIDs()
        try usageError(["ls", "--kind", "prompts"], help: "pvec ls --help", "'prompts'", "evaluation")
        try usageError(["merge", "tie", "a", "b"], help: "pvec merge --help", "'tie'", "magnitude-prune")
        try usageError(["similar", "a", "--kind", "module"], help: "pvec similar --help", "'module'", "'vector'")
        try usageError(["import", workDir.appendingPathComponent("x.npy").path, "--name", "x", "--kind", "mixture"],
                       help: "pvec import --help", "'mixture'", "'init'")
        try usageError(["compt", "--tasks", "t", "--name", "c", "--composition", "sum"], help: "pvec compt --help", "'sum'", "'mcat'")
        try usageError(["amp", "--tasks", "t", "--sources", "a", "--name", "m", "--pooling", "avg"], help: "pvec amp --help", "'avg'", "'max'")
        try usageError(["init-prompt", "--rows", "2", "--width", "3", "--seed", "1", "--method", "gauss"],
                       help: "pvec init-prompt --help", "'gauss'", "'uniform'")
        // Checks in validate() and missing arguments read the same way.
        try usageError(["similar", "a", "--top", "0"], help: "pvec similar --help", "--top of at least 1")
        try usageError(["neg"], help: "pvec neg --help", "<a>")
        try usageError(["key", "generate", "--bogus"], help: "pvec key generate --help", "--bogus")
        XCTAssertEqual(try artifactIDs(), before)
        // Good values still parse.
        XCTAssertEqual((try json("ls", "--kind", "init") as! [[String: Any]]).count, 1)
        XCTAssertEqual((try json("similar", "a", "--kind", "prompt") as! [[String: Any]]).count, 1)
    }

    func testJSONErrorsAreOneObjectOnStderr() throws {
        try ok("init")
        for (args, status, needle) in [(["ls", "--kind", "nope"], Int32(64), "'nope'"),
                                       (["show", "missing\u{1B}[31m"], 1, "missing"),
                                       (["neg", "nowhere"], 1, "nowhere")] {
            let r = try pvec(args + ["--json"])
            XCTAssertEqual(r.status, status, r.stderr)
            XCTAssertEqual(r.stdout, "")
            XCTAssertFalse(r.stderr.contains("\u{1B}"), "a raw escape reached stderr: \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(r.stderr.utf8)) as? [String: Any]
            let message = try XCTUnwrap(object?["error"] as? String, r.stderr)
            XCTAssertTrue(message.contains(needle), message)
            XCTAssertFalse(message.hasPrefix("Error:"), message)
            if status == 64 { XCTAssertEqual(object?["hint"] as? String, "see 'pvec ls --help'") }
        }
        // Without --json the same failure is text.
        let text = try pvec(["show", "missing"])
        XCTAssertTrue(text.stderr.hasPrefix("Error: "), text.stderr)
    }

    // MARK: - Completion

    func testCompletionScriptsOfferValuesPathsAndCallBackForNames() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try pvec(["--generate-completion-script", shell], registry: false)
            XCTAssertEqual(r.status, 0, r.stderr)
            let script = r.stdout
            // Values of closed sets: merge methods, artifact kinds, compositions, meta methods.
            for value in ["task-arithmetic", "magnitude-prune", "evaluation", "mixture", "msum", "mcat", "fomaml"] {
                XCTAssertTrue(script.contains(value), "\(shell) script lacks '\(value)'")
            }
            // Names come back from pvec itself: a positional (neg's <a>) and an option (add --onto).
            XCTAssertTrue(script.contains("---completion neg -- positional@0"), "\(shell) script does not call back for neg's name")
            XCTAssertTrue(script.contains("---completion add -- --onto"), "\(shell) script does not call back for --onto")
            XCTAssertTrue(script.contains("---completion attempt -- --sources"), "\(shell) script does not call back for --sources")
            XCTAssertTrue(script.contains("---completion export -- positional@0"), "\(shell) script does not call back for export's name")
            // Files and directories.
            switch shell {
            case "bash":
                XCTAssertTrue(script.contains("-fX '!*.@(svg)'"), "bash: no .svg completion for cos --svg")
                XCTAssertTrue(script.contains("_add_completions -d"), "bash: no directory completion")
            case "zsh":
                XCTAssertTrue(script.contains("_files -g '\\''*.svg'\\''") || script.contains("*.svg"), "zsh: no .svg completion")
                XCTAssertTrue(script.contains("_files -/"), "zsh: no directory completion")
            default:
                XCTAssertTrue(script.contains("__fish_complete_directories"), "fish: no directory completion")
            }
        }
    }

    /// The call the shells make on TAB: `pvec ---completion <subcommand> -- <argument>
    /// <word index> <cursor> <words...>`.
    func complete(_ command: [String], _ argument: String, words: [String], cursor: Int? = nil) throws -> CLIResult {
        let index = words.count - 1
        let c = cursor ?? words[index].count
        return try pvec(["---completion"] + command + ["--", argument, String(index), String(c)] + words, registry: false)
    }

    func testCustomCompletionListsRegistryNames() throws {
        try makeToyRegistry(prompts: ["alpha", "alps", "beta"])
        let reg = ["--registry", registryDir.path]
        let all = try complete(["neg"], "positional@0", words: ["pvec", "neg"] + reg + [""])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(Set(all.lines), ["alpha", "alps", "beta", "i"], all.stdout)
        let al = try complete(["neg"], "positional@0", words: ["pvec", "neg"] + reg + ["al"])
        XCTAssertEqual(al.lines.sorted(), ["alpha", "alps"])
        let onto = try complete(["add"], "--onto", words: ["pvec", "add", "alpha"] + reg + ["--onto", "i"])
        XCTAssertEqual(onto.lines, ["i"])
        // A comma-separated list completes its last part.
        let sources = try complete(["attempt"], "--sources", words: ["pvec", "attempt"] + reg + ["--sources", "beta,al"])
        XCTAssertEqual(sources.lines.sorted(), ["beta,alpha", "beta,alps"])
        // $PVEC_REGISTRY is honoured like everywhere else.
        let env = try pvec(["---completion", "neg", "--", "positional@0", "2", "1", "pvec", "neg", "b"], registry: false,
                           env: ["PVEC_REGISTRY": registryDir.path])
        XCTAssertEqual(env.lines, ["beta"])
        // Cheap and silent when there is no registry: no candidates, nothing on stderr.
        let none = try complete(["neg"], "positional@0", words: ["pvec", "neg", "--registry", dir("nowhere").path, ""])
        XCTAssertEqual(none.status, 0)
        XCTAssertEqual(none.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "")
        XCTAssertEqual(none.stderr, "")
    }

    // MARK: - Help

    func testRootHelpGroupsSubcommands() throws {
        let r = try pvec(["--help"], registry: false)
        XCTAssertEqual(r.status, 0)
        let groups: [(String, [String])] = [
            ("REGISTRY", ["init", "import", "export", "tag", "verify", "gc"]),
            ("INSPECTION", ["show", "ls", "lineage", "log"]),
            ("ARITHMETIC", ["vector", "add", "sub", "neg", "scale", "cos", "norm"]),
            ("MERGES", ["merge", "similar", "init-from"]),
            ("MODEL", ["embed", "train", "eval", "init-prompt", "demo"]),
            ("MIXTURES", ["attempt", "attention", "amp", "compt", "meta-init"]),
            ("PUBLISHING", ["key", "sign", "trust", "audit", "bundle", "serve", "token", "remote", "push", "pull", "clone"]),
        ]
        let lines = r.stdout.components(separatedBy: "\n")
        XCTAssertFalse(lines.contains("SUBCOMMANDS:"), "an ungrouped list is left:\n\(r.stdout)")
        for (heading, commands) in groups {
            let start = try XCTUnwrap(lines.firstIndex(of: "\(heading) SUBCOMMANDS:"), "no \(heading) heading in:\n\(r.stdout)")
            let section = lines[(start + 1)...].prefix { !$0.isEmpty }
            let listed = section.compactMap { $0.split(separator: " ").first.map(String.init) }
            for c in commands {
                XCTAssertTrue(listed.contains(c), "\(c) is not under \(heading): \(listed)")
            }
        }
    }

    /// Every command path, from the help dump argument-parser also feeds the manual generator.
    func commandPaths() throws -> [[String]] {
        let r = try pvec(["--experimental-dump-help"], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        let dump = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        var paths: [[String]] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = sub["commandName"] as? String, name != "help" else { continue }
                paths.append(path + [name])
                walk(sub, path + [name])
            }
        }
        walk(try XCTUnwrap(dump["command"] as? [String: Any]), [])
        return paths
    }

    /// argument-parser wraps discussion text to the terminal; a hard line break inside a
    /// paragraph shows up as a line ending mid-sentence. On a very wide terminal a paragraph
    /// is one line, so two plain lines in a row mean the text was broken by hand.
    func testHelpDiscussionsReflow() throws {
        let paths = try commandPaths()
        XCTAssertGreaterThan(paths.count, 40)
        for path in paths {
            let r = try pvec(path + ["--help"], registry: false, env: ["COLUMNS": "2000"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let overview = r.stdout.components(separatedBy: "\nUSAGE:")[0].components(separatedBy: "\n").dropFirst()
            for (a, b) in zip(overview, overview.dropFirst()) {
                let plain = { (s: String) in !s.isEmpty && !s.hasPrefix(" ") && !s.hasPrefix("Example") }
                XCTAssertFalse(plain(a) && plain(b), "pvec \(path.joined(separator: " ")) --help breaks a paragraph:\n\(a)\n\(b)")
            }
            // Narrow terminals get the text wrapped, not cut.
            let narrow = try pvec(path + ["--help"], registry: false, env: ["COLUMNS": "60"])
            let words = { (s: String) in s.split(whereSeparator: \.isWhitespace) }
            XCTAssertEqual(words(narrow.stdout).count, words(r.stdout).count, path.joined(separator: " "))
        }
    }

    /// Command names are the CLI's contract. Each is written in its command's configuration:
    /// a name left to argument-parser is derived from the type name at every start, which
    /// costs a runtime conformance scan per command (issue 13: most of `pvec --version`).
    /// The top-level names are exactly the ones the README's command table lists.
    func testCommandNamesAreSpelledOutAndMatchTheReadme() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources/pvec")
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: sources.path))
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        var configurations = 0
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for part in text.components(separatedBy: "CommandConfiguration(").dropFirst() {
                configurations += 1
                let first = part.drop { $0 == " " || $0 == "\n" }
                XCTAssertTrue(first.hasPrefix("commandName: \""), "\(file): a CommandConfiguration without commandName first")
            }
        }
        XCTAssertGreaterThan(configurations, 50)

        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let table = try XCTUnwrap(readme.components(separatedBy: "| group | commands |").dropFirst().first)
            .components(separatedBy: "\n\n")[0]
        var documented = Set<String>()
        for row in table.split(separator: "\n") where row.hasPrefix("|") && !row.hasPrefix("| ---") {
            let cell = row.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).joined()
            for (i, code) in cell.components(separatedBy: "`").enumerated() where i % 2 == 1 {
                let word = code.split(separator: " ").first.map(String.init) ?? ""
                if word.first?.isLowercase == true, word.allSatisfy({ $0.isLowercase || $0 == "-" }) {
                    documented.insert(word)
                }
            }
        }
        let topLevel = Set(try commandPaths().filter { $0.count == 1 }.map { $0[0] })
        XCTAssertEqual(topLevel.subtracting(documented), [], "commands missing from the README's table")
        XCTAssertEqual(documented.subtracting(topLevel), [], "the README's table names commands pvec does not have")
    }
    func testVectorTakesName() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        let v = try json("vector", "--tuned", "a", "--init", "i", "--name", "a-tau") as! [String: Any]
        XCTAssertEqual(v["name"] as? String, "a-tau")
        let help = try pvec(["vector", "--help"], registry: false)
        XCTAssertTrue(help.stdout.contains("--name <name>"), help.stdout)
        // The positional name of before still works, and giving both is refused.
        let old = try json("vector", "b-tau", "--tuned", "b", "--init", "i") as! [String: Any]
        XCTAssertEqual(old["name"] as? String, "b-tau")
        try usageError(["vector", "x", "--tuned", "a", "--init", "i", "--name", "y"], help: "pvec vector --help", "--name")
    }

    // MARK: - Progress

    /// Runs `pvec ARGS --registry <tmp>` on a pseudo-terminal and returns what it drew.
    func onTerminal(_ args: [String]) throws -> String {
        let python = """
        import os, pty, sys
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", python, Self.binary.path] + args + ["--registry", registryDir.path]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "COLUMNS")
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: data, as: UTF8.self))
        return String(decoding: data, as: UTF8.self)
    }

    func testProgressClearsItsLineOnATerminalAndEndsWithASummary() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../fixtures/tasks/movie-small").standardized
        let train = ["train", "--task", fixtures.appendingPathComponent("task.json").path,
                     "--data", fixtures.appendingPathComponent("train.jsonl").path, "--prompt-len", "4",
                     "--steps", "12", "--batch", "4", "--lr", "1", "--max-length", "32", "--init-seed", "5"]
        try ok("init")
        let drawn = try onTerminal(train + ["--name", "tty"])
        let redraws = drawn.components(separatedBy: "\r").filter { $0.contains("ETA") }
        XCTAssertEqual(redraws.count, 12, drawn.debugDescription)
        for r in redraws {
            XCTAssertTrue(r.hasPrefix("\u{1B}[2K"), "a redraw does not clear the line first: \(r.debugDescription)")
            XCTAssertNil(r.range(of: #"ETA [0-9m]+ss"#, options: .regularExpression), r.debugDescription)
        }
        XCTAssertTrue(drawn.contains("\r\u{1B}[2Ktrained 12/12 steps: loss "), "no summary replaces the bar: \(drawn.debugDescription)")

        // In a pipe: plain lines and the same summary, not one escape code or carriage return.
        let piped = try pvec(train + ["--name", "piped"])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stderr.contains("\u{1B}") || piped.stderr.contains("\r"), piped.stderr.debugDescription)
        let last = try XCTUnwrap(piped.stderr.split(separator: "\n").last)
        XCTAssertTrue(last.hasPrefix("trained 12/12 steps: loss "), piped.stderr)
        XCTAssertTrue(piped.stderr.contains("step 10/12 loss "), piped.stderr)
    }

    // MARK: - Pictures

    func testLineageDotUsesOneFontAndShowsAnUnnamedIdOnce() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        let sum = try json("add", "a", "b") as! [String: Any]
        let id = try XCTUnwrap(sum["id"] as? String)
        let dot = try ok("lineage", String(id.prefix(16)), "--dot")
        let fonts = Set(dot.matches(of: #/fontname="([^"]*)"/#).map { String($0.1) })
        XCTAssertEqual(fonts.count, 1, dot)
        let lines = dot.components(separatedBy: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("  edge [") && $0.contains("fontname=") }, "edge labels keep Graphviz's default font:\n\(dot)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("  node [") && $0.contains("fontname=") }, dot)
        // Nodes: the sum, the two derived vectors (all unnamed), a, b and i.
        let nodes = lines.compactMap { $0.wholeMatch(of: #/  "([0-9a-f]+)" \[label="(.*)"\];/#) }
        XCTAssertEqual(nodes.count, 6, dot)
        var unnamed = 0
        for n in nodes {
            let (short, label) = (String(n.1), String(n.2))
            XCTAssertEqual(label.components(separatedBy: short).count - 1, 1, "id \(short) is not shown once: \(label)")
            if label.hasPrefix(short) { unnamed += 1 }
        }
        XCTAssertEqual(unnamed, 3, dot)
        XCTAssertTrue(dot.contains(#"label="a\nprompt · import\n"#), dot)
    }

    func testHeatMapShortensLongLabelsWithAnEllipsis() throws {
        let long = "sentiment-movie-reviews-32-shot-seed-7-final"   // 44 characters
        try makeToyRegistry(prompts: [long, "b"])
        let path = dir("cos.svg").path
        try ok("cos", "--matrix", long, "b", "--svg", path)
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        let shown = String(long.prefix(31)) + "…"
        XCTAssertEqual(shown.count, 32)
        // Row and column label: the shortened text, with the whole name as its tooltip.
        XCTAssertEqual(svg.components(separatedBy: "<title>\(long)</title>\(shown)</text>").count - 1, 2, svg)
        XCTAssertFalse(svg.contains(">\(long)</text>"), "the long label is drawn whole (and clipped)")
        XCTAssertEqual(svg.components(separatedBy: ">b</text>").count - 1, 2, "a short label is drawn as it is")
    }
}
