// How `compare` and the workbench's Compare export print a report: a quality table and a
// size-and-speed table (aligned text or Markdown), or one CSV table with every figure in its own
// column; and the "smaller?"/"faster?" verdicts in words, so a variant that is not faster than its
// base says so.

import Foundation

/// "Smaller?" and "faster?" against the base, in words. Differences within 5% count as the same.
public enum Verdict {
    public static let tolerance = 0.05

    public static func smaller(base: Int, variant: Int) -> String {
        let ratio = Double(base) / Double(max(variant, 1))
        if ratio >= 1 + tolerance { return String(format: "yes, %.2f× smaller", ratio) }
        if ratio <= 1 - tolerance { return String(format: "no, %.2f× larger", 1 / ratio) }
        return "no, about the same size"
    }

    /// Decode compares ms/token, prefill tokens/s; both as a speed-up factor (> 1 is faster).
    public static func faster(base: InferenceSpeed, variant: InferenceSpeed) -> String {
        let decode = base.decodeMillisecondsPerToken.mean / max(variant.decodeMillisecondsPerToken.mean, 1e-12)
        let prefill = variant.prefillTokensPerSecond.mean / max(base.prefillTokensPerSecond.mean, 1e-12)
        func word(_ factor: Double) -> String {
            factor >= 1 + tolerance ? "faster" : factor <= 1 - tolerance ? "slower" : "same speed"
        }
        let parts = String(format: "decode %.2f× (%@), prefill %.2f× (%@)", decode, word(decode), prefill, word(prefill))
        let fasterCount = [decode, prefill].filter { $0 >= 1 + tolerance }.count
        return (fasterCount == 2 ? "yes: " : fasterCount == 1 ? "partly: " : "no, not faster: ") + parts
    }
}

public struct ComparisonTables {
    public var report: ComparisonReport

    public init(report: ComparisonReport) { self.report = report }

    private func pm(_ value: Double, _ error: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f ± %.\(digits)f", value, error)
    }

    private func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    public var quality: TextTable {
        var rows: [[String]] = []
        for row in report.models {
            let e = row.evaluation
            var cells = [row.model, row.format, pm(e.loss, e.standardError, 4),
                         String(format: "%.3f (%.3f–%.3f)", e.perplexity, e.perplexityLow, e.perplexityHigh)]
            if let c = row.comparison {
                let k = c.divergence
                cells += [String(format: "%+.5f ± %.5f", c.lossChange, c.lossChangeStandardError), pm(k.mean, k.standardError, 6),
                          f(k.median, 6), f(k.p90, 6), f(k.p95, 6), f(k.p99, 6), f(k.p999, 6), f(k.maximum, 6),
                          String(format: "%.2f%% ± %.2f%%", c.agreement * 100, c.agreementStandardError * 100),
                          String(format: "%+.5f ± %.5f", c.probabilityChange, c.probabilityChangeStandardError)]
            } else {
                cells += ["(base)"] + Array(repeating: "", count: 9)
            }
            cells.append(String(format: "%.2f%%", e.accuracy * 100))
            rows.append(cells)
        }
        return TextTable(headers: ["model", "format", "loss", "perplexity (95%)", "Δ loss", "KLD mean", "KLD median",
                                   "KLD p90", "KLD p95", "KLD p99", "KLD p99.9", "KLD max", "same top", "Δp", "accuracy"],
                         rows: rows, rightAligned: Set(2...14))
    }

    public var sizeAndSpeed: TextTable {
        let first = report.models.first?.speed
        let ppHeader = first.map { "prefill \($0.prefillTest) t/s" } ?? "prefill t/s"
        let tgHeader = first.map { "decode \($0.decodeTest) ms/token" } ?? "decode ms/token"
        let rows = report.models.map { row -> [String] in
            var cells = [row.model, formatBytes(row.fileBytes), f(row.bitsPerWeight, 2), formatCount(row.parameters)]
            if let s = row.speed {
                cells += [pm(s.prefillTokensPerSecond.mean, s.prefillTokensPerSecond.standardDeviation, 0),
                          pm(s.decodeMillisecondsPerToken.mean, s.decodeMillisecondsPerToken.standardDeviation, 3),
                          formatBytes(s.peakResidentBytes)]
            } else {
                cells += ["—", "—", "—"]
            }
            cells += [row.smaller ?? (row.role == "base" ? "(base)" : ""),
                      row.faster ?? (row.role == "base" ? "(base)" : row.speed == nil ? "not measured" : "")]
            return cells
        }
        return TextTable(headers: ["model", "file", "bits/weight", "params", ppHeader, tgHeader, "peak RSS", "smaller?", "faster?"],
                         rows: rows, rightAligned: Set(1...6))
    }

    /// Both tables with a heading line each, and notes saying what was measured.
    public func text(markdown: Bool) -> String {
        let r = report
        var lines = ["data: \(r.data): \(r.tokens) tokens in \(r.windows) windows of \(r.contextLength)"
                     + (r.skippedCharacters > 0 ? " (\(r.skippedCharacters) unknown characters skipped)" : ""), ""]
        lines += [markdown ? "### Quality against the base (same windows)" : "quality against the base (same windows)", ""]
        lines.append(markdown ? quality.markdown() : quality.aligned())
        lines += ["", markdown ? "### Size and speed" : "size and speed", ""]
        lines.append(markdown ? sizeAndSpeed.markdown() : sizeAndSpeed.aligned())
        lines.append("")
        lines.append("loss ± standard error across windows; Δ loss ± standard error of per-window differences; KLD = KL(base ‖ variant) in nats per token; same top = the variant's most likely token is the base's; Δp = mean change in the correct token's probability.")
        if let s = r.models.first?.speed, let threads = r.threads {
            let pp = s.promptTokens < s.promptTokensRequested ? "\(s.promptTokens) tokens (the context length; \(s.promptTokensRequested) requested)" : "\(s.promptTokens) tokens"
            let tg = s.decodeTokens < s.decodeTokensRequested ? "\(s.decodeTokens) tokens (the context length; \(s.decodeTokensRequested) requested)" : "\(s.decodeTokens) tokens"
            lines.append("speed: \(plural(threads, "thread")); prefill of \(pp), decode of \(tg) from an empty cache; one warm-up, then mean ± sd over \(s.repetitions) repetitions. Peak RSS: the process while that model's speed was measured (every loaded model resident).")
        } else {
            lines.append("speed not measured (--no-speed); the process's peak RSS was \(formatBytes(r.processPeakResidentBytes)).")
        }
        return lines.joined(separator: "\n")
    }

    /// One row per model, every figure in its own column (numbers unformatted).
    public func csv() -> String {
        let headers = ["model", "role", "format", "parameters", "file_bytes", "bits_per_weight", "loss", "loss_stderr",
                       "perplexity", "perplexity_low", "perplexity_high", "accuracy", "loss_change", "loss_change_stderr",
                       "kld_mean", "kld_stderr", "kld_median", "kld_p90", "kld_p95", "kld_p99", "kld_p99_9", "kld_max",
                       "top1_agreement", "top1_agreement_stderr", "correct_probability_change",
                       "correct_probability_change_stderr", "threads", "prefill_tokens", "prefill_tokens_per_s",
                       "prefill_tokens_per_s_sd", "decode_tokens", "decode_ms_per_token", "decode_ms_per_token_sd",
                       "peak_rss_bytes", "smaller", "faster", "data", "windows", "context_length"]
        let rows = report.models.map { row -> [String] in
            let e = row.evaluation
            var cells = [row.model, row.role, row.format, "\(row.parameters)", "\(row.fileBytes)", "\(row.bitsPerWeight)",
                         "\(e.loss)", "\(e.standardError)", "\(e.perplexity)", "\(e.perplexityLow)", "\(e.perplexityHigh)",
                         "\(e.accuracy)"]
            if let c = row.comparison {
                let k = c.divergence
                cells += ["\(c.lossChange)", "\(c.lossChangeStandardError)", "\(k.mean)", "\(k.standardError)", "\(k.median)",
                          "\(k.p90)", "\(k.p95)", "\(k.p99)", "\(k.p999)", "\(k.maximum)", "\(c.agreement)",
                          "\(c.agreementStandardError)", "\(c.probabilityChange)", "\(c.probabilityChangeStandardError)"]
            } else {
                cells += Array(repeating: "", count: 14)
            }
            if let s = row.speed {
                cells += ["\(s.threads)", "\(s.promptTokens)", "\(s.prefillTokensPerSecond.mean)",
                          "\(s.prefillTokensPerSecond.standardDeviation)", "\(s.decodeTokens)",
                          "\(s.decodeMillisecondsPerToken.mean)", "\(s.decodeMillisecondsPerToken.standardDeviation)",
                          "\(s.peakResidentBytes)"]
            } else {
                cells += Array(repeating: "", count: 8)
            }
            cells += [row.smaller ?? "", row.faster ?? "", report.data, "\(report.windows)", "\(report.contextLength)"]
            return cells
        }
        return TextTable(headers: headers, rows: rows).csv()
    }
}
