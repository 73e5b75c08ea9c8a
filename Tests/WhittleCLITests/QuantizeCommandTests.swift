// `whittle quantize`: the tiny sample model quantized to q8_0 and q4_0 gives variant directories
// that `eval` and `generate` run; the calibrated methods record their calibration text; bad settings
// (unknown type or method, bad calibration settings or text, rules that match nothing, rows that are not whole blocks, bad plan files, an existing --out, a
// missing model) are refused with the right exit status, a message naming the problem, and nothing
// written.

import Foundation
import Testing
import WhittleTestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct QuantizeCommandTests {
    static let sample = Repository.path("sample-models/shakespeare-char-tiny")

    @Test(arguments: ["q8_0", "q4_0"])
    func quantizedSampleModelRunsInEvalAndGenerate(_ type: String) throws {
        let workspace = try Workspace()
        let made = try workspace.run("quantize", "--model", Self.sample, "--type", type, "--out", "variant")
        try #require(made.status == 0, "\(made.transcript)")
        #expect(made.stdoutText.contains("\(type)  h.3.mlp.c_proj.weight") && made.stdoutText.contains("q8_0  wte.weight"), "\(made.transcript)")
        #expect(made.stderr.contains("[17/17]") && made.stderr.contains("writing variant"), "\(made.transcript)")
        for file in ["model.gguf", "variant.json", "README.md", "config.toml", "MANIFEST.sha256"] {
            #expect(workspace.exists("variant/" + file), "variant/\(file) is missing")
        }
        let card = String(decoding: try workspace.read("variant/README.md"), as: UTF8.self)
        #expect(card.contains("whittle quantize --model") && card.contains("--type \(type)"))

        let evaluated = try workspace.run("eval", "--model", "variant", "--data", "corpus.txt", "--json")
        #expect(evaluated.status == 0, "\(evaluated.transcript)")
        #expect(evaluated.stdoutText.contains("\"loss\"") && evaluated.stdoutText.contains("variant"), "\(evaluated.transcript)")
        let generated = try workspace.run("generate", "--model", "variant", "--prompt", "the ", "--tokens", "20", "--temperature", "0")
        #expect(generated.status == 0 && generated.stdoutText.count > 20, "\(generated.transcript)")
    }

    /// A run directory as the base (its newest checkpoint); the variant carries the run's config.toml,
    /// so `eval` without --data scores the same validation split as the base.
    @Test func runDirectoryBaseKeepsItsValidationSplit() throws {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        let made = try workspace.run("quantize", "--model", "run", "--type", "f16", "--embedding-type", "bf16", "--out", "v")
        try #require(made.status == 0, "\(made.transcript)")
        #expect(made.stdoutText.contains("run/ckpt-000004"), "\(made.transcript)")
        let base = try workspace.run("eval", "--model", "run", "--json")
        let variant = try workspace.run("eval", "--model", "v", "--json")
        #expect(base.status == 0 && variant.status == 0, "\(base.transcript)\n\(variant.transcript)")
        func tokens(_ result: RunResult) throws -> Int? {
            let report = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
            return (report?["result"] as? [String: Any])?["tokens"] as? Int
        }
        let baseTokens = try #require(try tokens(base), "\(base.transcript)")
        let variantTokens = try tokens(variant)
        #expect(baseTokens > 0 && variantTokens == baseTokens, "\(variant.transcript)")
        #expect(variant.stdoutText.contains("validation split of corpus.txt"), "\(variant.transcript)")
    }

    @Test func jsonReportCarriesVariantAndRulesApply() throws {
        let workspace = try Workspace()
        try workspace.write("plan.json", text: #"{"type": "q5_0", "tensor_types": {"ffn_down": "q8_0"}}"#)
        let made = try workspace.run("quantize", "--model", Self.sample, "--plan", "plan.json", "--tensor-type", "blk.0.*=q4_1",
                                     "--embedding-type", "f16", "--out", "v", "--json")
        try #require(made.status == 0, "\(made.transcript)")
        let report = try #require(try JSONSerialization.jsonObject(with: made.stdout) as? [String: Any], "\(made.transcript)")
        let variant = try #require(report["variant"] as? [String: Any])
        let plan = try #require(variant["plan"] as? [String: String])
        #expect(plan["wte.weight"] == "f16" && plan["h.1.mlp.c_proj.weight"] == "q8_0" && plan["h.1.mlp.c_fc.weight"] == "q5_0")
        #expect(plan["h.0.mlp.c_proj.weight"] == "q4_1" && plan["h.0.attn.c_attn.weight"] == "q4_1")
        #expect(report["directory"] as? String == "v")
    }

    /// Ctrl-C during a quantization: the output appears complete or not at all, never half-written.
    @Test func interruptLeavesNothingHalfWritten() throws {
        let workspace = try Workspace()
        let launched = try workspace.launch(["quantize", "--model", Self.sample, "--type", "q4_0", "--out", "out"])
        Thread.sleep(forTimeInterval: 0.8)
        kill(launched.pid, SIGINT)
        let result = launched.finish()
        #expect(result.status == 0 || result.status == 130, "\(result.transcript)")
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.url.path).sorted()
        if result.status == 130 {
            #expect(names == ["config.toml", "corpus.txt"], "\(names)\n\(result.transcript)")
            #expect(result.stderr.contains("cancelled") || result.stderr.isEmpty, "\(result.transcript)")
        } else {
            #expect(names == ["config.toml", "corpus.txt", "out"], "\(names)")
            let verified = try workspace.run("eval", "--model", "out", "--data", "corpus.txt")
            #expect(verified.status == 0, "\(verified.transcript)")
        }
    }

    @Test func helpHasExamplesAndTypes() throws {
        let workspace = try Workspace()
        let help = try workspace.run("quantize", "--help")
        #expect(help.status == 0, "\(help.transcript)")
        for fragment in ["Examples:", "--tensor-type", "--plan", "--embedding-type", "q4_0", "gptq", "--calibration-samples", "validation split", "Exit codes"] {
            #expect(help.stdoutText.contains(fragment), "help lacks \(fragment)\n\(help.transcript)")
        }
    }

    /// Runs `quantize` with `arguments` (plus --out out) and expects a refusal that writes nothing.
    func refuse(_ arguments: [String], workspace: Workspace? = nil, status: Int32 = 64, mentioning: [String],
                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workspace = try workspace ?? Workspace()
        let before = workspace.tree()
        let result = try workspace.launch(["quantize"] + arguments + ["--out", "out"]).finish()
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before,
                      sourceLocation: sourceLocation)
    }

    @Test func unknownTypeListsTheTypes() throws {
        try refuse(["--model", Self.sample, "--type", "q3_k"], mentioning: ["unknown type 'q3_k'", "q8_0, q5_1, q5_0, q4_1, q4_0"])
    }

    @Test func int8IsRefusedWithAReason() throws {
        try refuse(["--model", Self.sample, "--type", "int8"], mentioning: ["GGUF has no such type", "q8_0"])
    }

    /// GPTQ, imatrix and AWQ variants: calibration windows from a text file, recorded in variant.json; the
    /// variant runs in eval.
    @Test(arguments: ["gptq", "imatrix", "awq"])
    func calibratedMethodsRecordTheirCalibration(_ method: String) throws {
        let workspace = try Workspace()
        let made = try workspace.run("quantize", "--model", Self.sample, "--type", "q4_0", "--method", method,
                                     "--calibration-data", "corpus.txt", "--calibration-samples", "12", "--calibration-seed", "7",
                                     "--out", "v", "--json")
        try #require(made.status == 0, "\(made.transcript)")
        #expect(made.stderr.contains("calibrating on corpus.txt: 12/12 windows"), "\(made.transcript)")
        let variant = try #require(try JSONSerialization.jsonObject(with: workspace.read("v/variant.json")) as? [String: Any])
        let pass = try #require((variant["passes"] as? [[String: Any]])?.first)
        #expect(pass["method"] as? String == method)
        #expect(pass["calibration_text"] as? String == "corpus.txt")
        #expect(pass["calibration_samples"] as? Int == 12 && pass["calibration_seed"] as? Int == 7, "\(pass)")
        let evaluated = try workspace.run("eval", "--model", "v", "--base", Self.sample, "--data", "corpus.txt", "--json")
        #expect(evaluated.status == 0, "\(evaluated.transcript)")
    }

    @Test func badMethodAndCalibrationAreRefused() throws {
        try refuse(["--model", Self.sample, "--type", "q4_0", "--method", "best"], mentioning: ["unknown quantization method 'best'", "imatrix"])
        try refuse(["--model", Self.sample, "--type", "q4_0", "--method", "gptq", "--calibration-data", "corpus.txt",
                    "--calibration-samples", "0"], mentioning: ["calibration sample count must be at least 1"])
        let workspace = try Workspace()
        try workspace.write("short.txt", text: "to be or not")
        try refuse(["--model", Self.sample, "--type", "q4_0", "--method", "awq", "--calibration-data", "short.txt"],
                   workspace: workspace, status: 65, mentioning: ["short.txt", "one window of 64"])
        // A model directory without a config.toml names no dataset, so there is no train split to calibrate on.
        let bare = try Workspace()
        try FileManager.default.createDirectory(atPath: bare.path("bare"), withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(atPath: Self.sample + "/" + file, toPath: bare.path("bare/" + file))
        }
        try refuse(["--model", "bare", "--type", "q4_0", "--method", "imatrix"], workspace: bare,
                   mentioning: ["no train split", "--calibration-data FILE"])
    }

    @Test func missingTypeAndBadRule() throws {
        try refuse(["--model", Self.sample], mentioning: ["no type given", "--type"])
        try refuse(["--model", Self.sample, "--type", "q4_0", "--tensor-type", "ffn_down"], mentioning: ["PATTERN=TYPE"])
    }

    @Test func rulesMatchingNothingAreNamed() throws {
        try refuse(["--model", Self.sample, "--type", "q4_0", "--tensor-type", "blk.9.*=q8_0", "--tensor-type", "ffn_down=q8_0"],
                   mentioning: ["'blk.9.*'", "no quantizable tensor"])
    }

    /// The workspace's tiny model is 16 wide: no row is a whole 32-weight block.
    @Test func rowsNotWholeBlocksNameTheTensorAndAFittingType() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        try refuse(["--model", checkpoint, "--type", "q4_0", "--embedding-type", "f16"], workspace: workspace,
                   mentioning: ["h.0.attn.c_attn.weight (blk.0.attn_qkv.weight)", "rows of 16", "blk.0.attn_qkv.weight=f16"])
    }

    @Test func badPlanFiles() throws {
        let workspace = try Workspace()
        try workspace.write("plan.json", text: #"{"type": "q4_0", "tensors": {}}"#)
        try refuse(["--model", Self.sample, "--plan", "plan.json"], workspace: workspace, mentioning: ["plan.json", "unknown key 'tensors'"])
        try refuse(["--model", Self.sample, "--plan", "missing.json"], workspace: workspace, status: 74, mentioning: ["missing.json"])
    }

    @Test func existingOutputAndMissingModel() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: workspace.path("out"), withIntermediateDirectories: false)
        try refuse(["--model", Self.sample, "--type", "q8_0"], workspace: workspace, mentioning: ["'out' already exists"])
        try refuse(["--model", "nowhere", "--type", "q8_0"], status: 65, mentioning: ["nowhere"])
    }
}
