// `whittle compare`, `whittle eval --base` and `whittle bench infer` as a user runs them: the tiny
// sample model against the reference Q8_0 GGUF of itself in every output format, and bad input
// (a missing base, a variant with another tokenizer, bad options) refused with the right exit status.

import Foundation
import Testing
import WhittleTestSupport

@Suite struct CompareCommandTests {
    static let base = Repository.path("sample-models/shakespeare-char-tiny")
    static let q8 = Repository.path("Tests/WhittleEngineTests/Fixtures/gguf-reference/tiny-q8_0.gguf")

    func compare(_ extra: [String], workspace: Workspace) throws -> RunResult {
        try workspace.launch(["compare", Self.base, Self.q8, "--data", "corpus.txt"] + extra, timeout: 120).finish()
    }

    @Test func testCompare_textTablesWithSpeedAndVerdicts() throws {
        let workspace = try Workspace()
        let result = try compare(["--prompt-tokens", "8", "--decode-tokens", "4", "--repetitions", "1"], workspace: workspace)
        #expect(result.status == 0, "\(result.transcript)")
        let out = result.stdoutText
        for fragment in ["data: corpus.txt:", "quality against the base", "size and speed", "tiny-q8_0.gguf", "q8_0",
                         "(base)", "pp8", "tg4", "smaller?", "faster?", "× smaller", "KL(base ‖ variant)"] {
            #expect(out.contains(fragment), "stdout lacks `\(fragment)`\n\(result.transcript)")
        }
    }

    @Test func testCompare_markdown() throws {
        let result = try compare(["--md", "--no-speed"], workspace: try Workspace())
        #expect(result.status == 0, "\(result.transcript)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("| model | format | loss |") }, "\(result.transcript)")
        #expect(lines.filter { $0.hasPrefix("| ") && $0.contains("tiny-q8_0.gguf") }.count == 2)
        #expect(result.stdoutText.contains("speed not measured (--no-speed)"))
    }

    @Test func testCompare_csv() throws {
        let result = try compare(["--csv", "--no-speed"], workspace: try Workspace())
        #expect(result.status == 0, "\(result.transcript)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(result.transcript)")
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(header.first == "model" && header.contains("kld_p99_9") && header.contains("top1_agreement"))
        let variant = csvFields(lines[2])
        #expect(variant.count == header.count, "\(lines[2])")
        let kld = Double(variant[header.firstIndex(of: "kld_mean")!]) ?? -1
        #expect(kld > 0 && kld < 0.01, "\(lines[2])")
        #expect(lines[1].contains(",base,"))
    }

    @Test func testCompare_json() throws {
        let result = try compare(["--json", "--no-speed"], workspace: try Workspace())
        #expect(result.status == 0, "\(result.transcript)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let models = try #require(object["models"] as? [[String: Any]])
        #expect(models.count == 2 && models[0]["role"] as? String == "base" && object["data"] as? String == "corpus.txt")
        let against = try #require(models[1]["against_base"] as? [String: Any])
        let kld = try #require(against["kld"] as? [String: Any])
        #expect((kld["mean"] as? Double ?? 0) > 0 && (kld["p99_9"] as? Double ?? -1) >= (kld["median"] as? Double ?? 0))
        #expect((against["top1_agreement"] as? Double ?? 0) > 0.95)
        #expect((models[1]["smaller"] as? String)?.hasPrefix("yes") == true && models[1]["speed"] == nil)
    }

    @Test func testEvalWithBase_json() throws {
        let workspace = try Workspace()
        let result = try workspace.run("eval", "--model", Self.q8, "--base", Self.base, "--data", "corpus.txt", "--json")
        #expect(result.status == 0, "\(result.transcript)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let comparison = try #require(object["comparison"] as? [String: Any])
        let variant = try #require(comparison["variant"] as? [String: Any])
        #expect((variant["top1_agreement"] as? Double ?? 0) > 0.95 && object["base"] as? String != nil)
        let text = try workspace.run("eval", "--model", Self.q8, "--base", Self.base, "--data", "corpus.txt")
        #expect(text.status == 0 && text.stdoutText.contains("KLD") && text.stdoutText.contains("Δ loss"), "\(text.transcript)")
    }

    @Test func testBenchInfer_tableOverThreadCounts() throws {
        let workspace = try Workspace()
        let result = try workspace.run("bench", "infer", "--model", Self.base, "--model", Self.q8, "--threads", "1,2",
                                       "--prompt-tokens", "8", "--decode-tokens", "4", "--repetitions", "2")
        #expect(result.status == 0, "\(result.transcript)")
        let rows = result.stdoutText.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| model") && !$0.contains("---") }
        #expect(rows.count == 8, "\(result.transcript)")
        #expect(rows.filter { $0.contains("| pp8 |") }.count == 4 && rows.filter { $0.contains("| tg4 |") }.count == 4)
        #expect(rows.contains { $0.contains("q8_0") && $0.contains("| 2 |") })
        let json = try workspace.run("bench", "infer", "--model", Self.base, "--prompt-tokens", "8", "--decode-tokens", "4",
                                     "--repetitions", "1", "--json")
        #expect(json.status == 0, "\(json.transcript)")
        let list = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        #expect(list.count == 1 && (list[0]["speed"] as? [String: Any])?["prefill_tokens_per_s"] != nil)
    }
}

/// The fields of one CSV line (RFC 4180 quoting, no embedded newlines).
func csvFields(_ line: String) -> [String] {
    var fields: [String] = [], field = "", quoted = false, previousQuote = false
    for character in line {
        if quoted {
            if character == "\"" { quoted = false; previousQuote = true } else { field.append(character) }
        } else if character == "\"" {
            if previousQuote { field.append("\"") }
            quoted = true
            previousQuote = false
        } else if character == "," {
            fields.append(field); field = ""; previousQuote = false
        } else {
            field.append(character); previousQuote = false
        }
    }
    fields.append(field)
    return fields
}

@Suite struct CompareRefusesBadInput {
    @Test func missingBase() throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.run("compare", "no-such-base", CompareCommandTests.q8, "--data", "corpus.txt")
        expectRefused(result, status: 65, mentioning: ["no-such-base"], workspace: workspace, unchanged: before)
        let eval = try workspace.run("eval", "--model", CompareCommandTests.q8, "--base", "no-such-base", "--data", "corpus.txt")
        expectRefused(eval, status: 65, mentioning: ["no-such-base"], workspace: workspace, unchanged: before)
    }

    @Test func variantWithAnotherTokenizer() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        let before = workspace.tree()
        let result = try workspace.run("compare", CompareCommandTests.base, checkpoint, "--data", "corpus.txt")
        expectRefused(result, status: 65, mentioning: ["different tokenizers", checkpoint], workspace: workspace, unchanged: before)
        let eval = try workspace.run("eval", "--model", checkpoint, "--base", CompareCommandTests.base, "--data", "corpus.txt")
        expectRefused(eval, status: 65, mentioning: ["different tokenizers"], workspace: workspace, unchanged: before)
    }

    @Test func usageErrors() throws {
        let workspace = try Workspace()
        let one = try workspace.run("compare", CompareCommandTests.base)
        #expect(one.status == 64 && one.stderr.contains("at least one variant"), "\(one.transcript)")
        let formats = try workspace.run("compare", CompareCommandTests.base, CompareCommandTests.q8, "--md", "--json")
        #expect(formats.status == 64 && formats.stderr.contains("one of --md, --csv and --json"), "\(formats.transcript)")
        let threads = try workspace.run("bench", "infer", "--model", CompareCommandTests.base, "--threads", "1,0")
        #expect(threads.status == 64 && threads.stderr.contains("--threads"), "\(threads.transcript)")
        let none = try workspace.run("bench", "infer")
        #expect(none.status == 64 && none.stderr.contains("--model"), "\(none.transcript)")
    }
}
