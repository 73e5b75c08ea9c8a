// `whittle bench`: measured speed. `bench train` times training steps of a config and reports
// ms/step, tokens/s and model FLOPs utilisation against this machine's measured fp32 peak;
// `bench infer` (BenchInferCommand.swift) times inference like llama-bench.

import ArgumentParser
import Foundation
import WhittleEngine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed (training steps, inference, workbench frames).",
        subcommands: [BenchTrainCommand.self, BenchInferCommand.self, BenchUICommand.self])
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training steps of a config.",
        discussion: """
        Examples:
          whittle bench train --config configs/shakespeare-char-cpu.toml --steps 50
          whittle bench train --config configs/baby-gpt-cpu.toml --steps 3 --warmup 1 --json

        Model FLOPs per step = (6 × non-embedding parameters + 12 × layers × width × context) × tokens (nanoGPT's estimate_mfu / PaLM appendix B). MFU divides achieved FLOP/s by the peak of the threads used in the run's precision, measured at start-up: fp32 (and fp16, whose products widen to fp32) against 12 independent 16-wide FMA chains per thread; bf16 on AVX512-BF16 against 12 VDPBF16PS chains (64 FLOPs each); the best of three rounds (override with --peak-gflops). Steps run without evaluation or checkpoints.

        \(exitCodeHelp)
        """)

    @Option(name: .long, help: "TOML config file.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, parsing: .unconditional, help: "Timed steps.")
    var steps = 20

    @Option(name: .long, parsing: .unconditional, help: "Untimed warm-up steps first.")
    var warmup = 3

    @Option(name: .long, parsing: .unconditional, help: "Use this peak (GFLOP/s) instead of measuring it.")
    var peakGflops: Double?

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    @Flag(name: .long, help: "Run even when the steps are estimated to take over an hour.")
    var force = false

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be ≥ 0 (got \(warmup))") }
    }

    struct Report: Encodable {
        var config: String
        var parameters: Int
        var tokensPerStep: Int
        var workers: Int
        var blasThreads: Int
        var precision: String
        var matmul: String
        var threads: Int
        var steps: Int
        var millisecondsMedian: Double
        var millisecondsMean: Double
        var millisecondsStandardDeviation: Double
        var millisecondsMin: Double
        var tokensPerSecond: Double
        var modelGflopsPerStep: Double
        var achievedGflops: Double
        var peakGflops: Double
        var peakSource: String
        var mfu: Double
        var residentBytes: Int
        var peakResidentBytes: Int
        var ledger: TrainingSession.MemoryLedger

        enum CodingKeys: String, CodingKey {
            case config, parameters, tokensPerStep = "tokens_per_step", workers, blasThreads = "blas_threads", precision, matmul,
                 threads, steps
            case millisecondsMedian = "ms_median", millisecondsMean = "ms_mean",
                 millisecondsStandardDeviation = "ms_sd", millisecondsMin = "ms_min"
            case tokensPerSecond = "tokens_per_s", modelGflopsPerStep = "model_gflop_per_step",
                 achievedGflops = "achieved_gflops", peakGflops = "peak_gflops", peakSource = "peak_source", mfu
            case residentBytes = "rss_bytes", peakResidentBytes = "peak_rss_bytes", ledger
        }
    }

    func run() throws {
        let report = try reportingErrors { try measure() }
        if json {
            print(try jsonText(report))
            return
        }
        print("config      \(report.config): \(formatCount(report.parameters)) parameters, \(report.tokensPerStep) tokens/step, \(plural(report.workers, "worker")) × \(plural(report.blasThreads, "BLAS thread"))")
        print("precision   \(report.precision): \(report.matmul)")
        print(String(format: "step        median %.2f ms, mean %.2f ± %.2f ms, min %.2f ms (%d steps after %d warm-up)",
                     report.millisecondsMedian, report.millisecondsMean, report.millisecondsStandardDeviation,
                     report.millisecondsMin, report.steps, warmup))
        print(String(format: "throughput  %.0f tokens/s, %.1f GFLOP/s of model FLOPs (%.3f GFLOP/step)",
                     report.tokensPerSecond, report.achievedGflops, report.modelGflopsPerStep))
        print(String(format: "MFU         %.1f%% of %.1f GFLOP/s (%@)", report.mfu * 100, report.peakGflops, report.peakSource))
        let l = report.ledger
        func mib(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1048576) }
        print("ledger      weights \(mib(l.weights)) + gradients \(mib(l.gradients)) + optimizer \(mib(l.optimizer)) + activations \(mib(l.activations)) + workspace \(mib(l.workspace)) = \(mib(l.total)) MiB")
        print("memory      RSS \(mib(report.residentBytes)) MiB, peak \(mib(report.peakResidentBytes)) MiB")
    }

    func measure() throws -> Report {
        var settings = try TrainingConfig.load(path: config)
        try settings.apply(overrides: overrides)
        settings.maxIterations = warmup + steps + 1
        settings.evalInterval = settings.maxIterations + 1
        try settings.validate()
        let data = try TrainingRun.prepareData(settings)
        try settings.checkBudget(model: settings.modelConfig(vocabularySize: data.tokenizer.vocabularySize), confirmedLong: force)
        let teacher = settings.isDistillation ? try Teacher.load(settings, tokenizer: data.tokenizer) : nil
        let trainer = try Trainer(config: settings, tokenizer: data.tokenizer, data: data.splits, teacher: teacher)
        // Cores the run can keep busy: workers × BLAS threads, at most the machine's cores.
        let threads = min(settings.workers * settings.blasThreads, ProcessInfo.processInfo.activeProcessorCount)
        let peak: Double
        let peakSource: String
        let bf16Peak = settings.precision == .bf16 && HalfMatmul.runsNatively(.bf16)
        if let peakGflops {
            peak = peakGflops
            peakSource = "given with --peak-gflops"
        } else if bf16Peak {
            if !json { printError("measuring the bf16 dot-product peak on \(threads) threads...") }
            peak = PeakThroughput.measureBF16GFLOPS(threads: threads) ?? 0
            peakSource = "measured bf16 peak: \(threads) threads × 12 VDPBF16PS chains of 16 lanes"
        } else {
            if !json { printError("measuring the fp32 FMA peak on \(threads) threads...") }
            peak = PeakThroughput.measureGFLOPS(threads: threads)
            peakSource = "measured fp32 peak: \(threads) threads × 12 FMA chains of 16 floats"
        }
        for _ in 0..<warmup { try trainer.trainStep() }
        var times: [Double] = []
        for _ in 0..<steps { times.append(try trainer.trainStep().milliseconds) }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let mean = times.reduce(0, +) / Double(times.count)
        let sd = times.count > 1 ? (times.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(times.count - 1)).squareRoot() : 0
        let tokens = settings.batchSize * settings.contextLength * settings.gradientAccumulationSteps
        let flops = trainer.model.trainingFlopsPerToken(sequenceLength: settings.contextLength) * Double(tokens)
        let achieved = flops / (median / 1000) / 1e9
        return Report(config: config, parameters: trainer.model.parameterCount, tokensPerStep: tokens,
                      workers: settings.workers, blasThreads: settings.blasThreads,
                      precision: settings.precision.rawValue, matmul: HalfMatmul.pathDescription(settings.precision),
                      threads: threads, steps: steps, millisecondsMedian: median, millisecondsMean: mean,
                      millisecondsStandardDeviation: sd, millisecondsMin: sorted[0],
                      tokensPerSecond: Double(tokens) / (median / 1000), modelGflopsPerStep: flops / 1e9,
                      achievedGflops: achieved, peakGflops: peak, peakSource: peakSource, mfu: achieved / peak,
                      residentBytes: ProcessMemory.currentResidentBytes(), peakResidentBytes: ProcessMemory.peakResidentBytes(),
                      ledger: TrainingSession.ledger(of: trainer))
    }
}
