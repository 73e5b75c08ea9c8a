// `whittle prune` and `whittle export`: a pruned variant of a freshly trained tiny model runs in
// eval, compare and generate, quantizes with both passes in its lineage, fine-tunes with its mask
// kept (`train --init-from`) and exports as a dense Hugging Face directory; a structured variant is a
// smaller Hugging Face directory; bad requests are refused with exit 64 and nothing written.

import Foundation
import Testing
import WhittleTestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct PruneCommandTests {
    func json(_ result: RunResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "\(result.transcript)")
    }

    @Test func prunedVariantRunsEverywhereQuantizesFineTunesAndExports() throws {
        let workspace = try Workspace()
        let checkpoint = try workspace.trainTinyModel()
        let made = try workspace.run("prune", "--model", "run", "--method", "wanda", "--sparsity", "0.5", "--calibration-samples", "8",
                                     "--out", "v", "--json")
        try #require(made.status == 0, "\(made.transcript)")
        let report = try json(made)
        let tensors = try #require(report["tensors"] as? [[String: Any]])
        #expect(tensors.count == 4 && tensors.allSatisfy { ($0["pruned"] as? Int).map { $0 * 2 } == $0["count"] as? Int }, "\(made.transcript)")
        #expect(made.stderr.contains("calibration 8/8 windows") && made.stderr.contains("[4/4] h.0.mlp.c_proj.weight"), "\(made.transcript)")
        for file in ["config.json", "model.sparse.safetensors", "tokenizer.json", "variant.json", "README.md", "config.toml", "MANIFEST.sha256"] {
            #expect(workspace.exists("v/" + file), "v/\(file) is missing")
        }
        #expect(!workspace.exists("v/model.safetensors"))
        let card = String(decoding: try workspace.read("v/README.md"), as: UTF8.self)
        #expect(card.contains("# Wanda 50% variant") && card.contains("not faster") && card.contains("bitmap"), "\(card)")
        let baseBytes = try FileManager.default.attributesOfItem(atPath: workspace.path(checkpoint + "/model.safetensors"))[.size] as! Int
        let prunedBytes = try FileManager.default.attributesOfItem(atPath: workspace.path("v/model.sparse.safetensors"))[.size] as! Int
        #expect(prunedBytes < baseBytes)

        let evaluated = try workspace.run("eval", "--model", "v", "--base", "run", "--json")
        #expect(evaluated.status == 0 && evaluated.stdoutText.contains("\"kld\""), "\(evaluated.transcript)")
        let compared = try workspace.run("compare", "run", "v", "--csv")
        #expect(compared.status == 0 && compared.stdoutText.contains("v,"), "\(compared.transcript)")
        #expect(compared.stdoutText.contains("no: pruned weights are stored sparse but computed dense"), "\(compared.transcript)")
        let generated = try workspace.run("generate", "--model", "v", "--prompt", "the ", "--tokens", "20", "--temperature", "0")
        #expect(generated.status == 0 && generated.stdoutText.count > 20, "\(generated.transcript)")

        // Prune, then quantize: the lineage keeps both passes and the original base.
        let quantized = try workspace.run("quantize", "--model", "v", "--type", "f16", "--embedding-type", "f16", "--out", "vq", "--json")
        try #require(quantized.status == 0, "\(quantized.transcript)")
        let lineage = try #require(try json(quantized)["variant"] as? [String: Any])
        let passes = try #require(lineage["passes"] as? [[String: Any]])
        #expect(passes.map { $0["pass"] as? String } == ["prune", "quantize"])
        #expect((lineage["base"] as? [String: Any])?["path"] as? String == checkpoint)

        // Recovery fine-tuning from the variant (its own config.toml): the checkpoint keeps the mask.
        let recovered = try workspace.run("train", "--init-from", "v", "--set", "max_iters=4", "--out", "rec")
        try #require(recovered.status == 0, "\(recovered.transcript)")
        #expect(recovered.stderr.contains("held at zero"), "\(recovered.transcript)")
        #expect(workspace.exists("rec/ckpt-000004/model.sparse.safetensors"))

        let exported = try workspace.run("export", "--model", "v", "--format", "hf", "--out", "hf")
        try #require(exported.status == 0, "\(exported.transcript)")
        #expect(workspace.exists("hf/model.safetensors") && workspace.exists("hf/config.json") && workspace.exists("hf/tokenizer.json"))
        let plain = try workspace.run("eval", "--model", "hf", "--base", "v", "--data", "corpus.txt", "--json")
        let comparison = try json(plain)
        let exportedLoss = (comparison["result"] as? [String: Any])?["loss"] as? Double
        let variantLoss = ((comparison["comparison"] as? [String: Any])?["base"] as? [String: Any])?["loss"] as? Double
        #expect(exportedLoss != nil && exportedLoss == variantLoss, "\(plain.transcript)")
    }

    @Test func structuredVariantIsASmallerHuggingFaceDirectory() throws {
        let workspace = try Workspace()
        _ = try workspace.trainTinyModel()
        let made = try workspace.run("prune", "--model", "run", "--method", "magnitude", "--structured", "heads", "--sparsity", "0.5", "--out", "s")
        try #require(made.status == 0, "\(made.transcript)")
        #expect(made.stdoutText.contains("block 0: removed"), "\(made.transcript)")   // the workspace model has one block of two heads
        let config = String(decoding: try workspace.read("s/config.json"), as: UTF8.self)
        #expect(config.contains("\"pruned_heads\""), "\(config)")
        #expect(workspace.exists("s/model.safetensors"))
        let evaluated = try workspace.run("eval", "--model", "s", "--json")
        #expect(evaluated.status == 0, "\(evaluated.transcript)")
        let neurons = try workspace.run("prune", "--model", "s", "--method", "wanda", "--structured", "neurons", "--sparsity", "0.25",
                                        "--calibration-samples", "4", "--out", "sn", "--json")
        try #require(neurons.status == 0, "\(neurons.transcript)")
        let variant = try #require(try json(neurons)["variant"] as? [String: Any])
        #expect((variant["passes"] as? [[String: Any]])?.count == 2)
        #expect(String(decoding: try workspace.read("sn/config.json"), as: UTF8.self).contains("\"n_inner\": 48"))
    }

    /// Ctrl-C during a prune: the output appears complete or not at all.
    @Test func interruptLeavesNothingHalfWritten() throws {
        let workspace = try Workspace()
        let launched = try workspace.launch(["prune", "--model", Repository.path("sample-models/shakespeare-char-tiny"), "--method", "sparsegpt",
                                             "--sparsity", "0.5", "--calibration-samples", "64", "--calibration-data", "corpus.txt", "--out", "out"])
        Thread.sleep(forTimeInterval: 0.8)
        kill(launched.pid, SIGINT)
        let result = launched.finish()
        #expect(result.status == 0 || result.status == 130, "\(result.transcript)")
        let names = try FileManager.default.contentsOfDirectory(atPath: workspace.url.path).sorted()
        if result.status == 130 {
            #expect(names == ["config.toml", "corpus.txt"], "\(names)\n\(result.transcript)")
        } else {
            let verified = try workspace.run("eval", "--model", "out", "--data", "corpus.txt")
            #expect(verified.status == 0, "\(verified.transcript)")
        }
    }

    func refuse(_ arguments: [String], status: Int32 = 64, mentioning: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workspace = try Workspace()
        let before = workspace.tree()
        let result = try workspace.launch(["prune", "--model", Repository.path("sample-models/shakespeare-char-tiny")] + arguments + ["--out", "out"]).finish()
        expectRefused(result, status: status, mentioning: mentioning, workspace: workspace, unchanged: before, sourceLocation: sourceLocation)
    }

    @Test func badRequestsAreRefusedAndWriteNothing() throws {
        try refuse(["--method", "wanda", "--sparsity", "1"], mentioning: ["outside [0, 1)"])
        try refuse(["--method", "wanda", "--sparsity=-0.2"], mentioning: ["outside [0, 1)"])
        try refuse(["--method", "wanda", "--pattern", "2:4", "--structured", "heads"], mentioning: ["cannot be asked of structured"])
        try refuse(["--method", "magnitude", "--pattern", "3:256"], mentioning: ["'3:256' is not an N:M pattern"])
        try refuse(["--method", "magnitude", "--pattern", "1:48"], mentioning: ["rows of 128 inputs", "do not divide"])
        try refuse(["--method", "magnitude", "--structured", "heads", "--sparsity", "0.95"], mentioning: ["every head of block 0"])
        try refuse(["--method", "obs", "--sparsity", "0.5"], mentioning: ["unknown pruning method 'obs'", "sparsegpt"])
        try refuse(["--method", "wanda", "--sparsity", "0.5", "--scope", "global"], mentioning: ["no global threshold"])
        try refuse(["--method", "wanda"], mentioning: ["--sparsity"])
        try refuse(["--method", "wanda", "--sparsity", "0.5", "--calibration-samples", "0"], mentioning: ["at least 1"])
    }

    @Test func helpHasExamplesAndExportRefusesUnknownFormats() throws {
        let workspace = try Workspace()
        let help = try workspace.run("prune", "--help")
        for fragment in ["Examples:", "--pattern 2:4", "--structured", "sparsegpt", "init-from", "Exit codes"] {
            #expect(help.stdoutText.contains(fragment), "help lacks \(fragment)\n\(help.transcript)")
        }
        let before = workspace.tree()
        let result = try workspace.launch(["export", "--model", Repository.path("sample-models/shakespeare-char-tiny"), "--format", "onnx",
                                           "--out", "out"]).finish()
        expectRefused(result, status: 64, mentioning: ["unknown export format 'onnx'"], workspace: workspace, unchanged: before)
        // Quantized weights have no Hugging Face float form; pruning them is refused too.
        let quantized = try workspace.run("quantize", "--model", Repository.path("sample-models/shakespeare-char-tiny"), "--type", "q8_0", "--out", "q")
        try #require(quantized.status == 0, "\(quantized.transcript)")
        let withQuantized = workspace.tree()
        let export = try workspace.launch(["export", "--model", "q", "--format", "hf", "--out", "out"]).finish()
        expectRefused(export, status: 64, mentioning: ["holds quantized weights", "float"], workspace: workspace, unchanged: withQuantized)
        let prune = try workspace.launch(["prune", "--model", "q", "--method", "magnitude", "--sparsity", "0.5", "--out", "out"]).finish()
        expectRefused(prune, status: 64, mentioning: ["holds quantized weights", "then quantize the pruned variant"], workspace: workspace,
                      unchanged: withQuantized)
    }
}
