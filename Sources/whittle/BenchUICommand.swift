// `whittle bench ui`: the cost of a workbench frame. Renders a screen (Train by default; Compare or
// Compress with `--screen`, set up in `BenchUIScreens.swift`) into the in-memory screen with a
// synthetic N-step history (DemoRun), one new step per frame as during training (and on Compare a
// cursor move, on Compress the running pass's progress), and reports the median render time, the
// time `present` takes on a MemoryTerminal, and for comparison a frame with a cold cache.

import ArgumentParser
import Dispatch
import Foundation
import WhittleCurses
import WhittleEngine
import WhittleUI

struct BenchUICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Time workbench frames (render + present) with a long synthetic history.",
        discussion: """
        Examples:
          whittle bench ui
          whittle bench ui --steps 100000 --width 200 --height 60 --frames 200 --json
          whittle bench ui --screen compare --report Tests/WhittleUITests/Fixtures/compare/report.json
          whittle bench ui --screen compress --model sample-models/shakespeare-char-tiny --pass prune

        Each timed frame first appends one step to the history (as a running session does), then renders the whole screen into an in-memory Screen and presents it on a MemoryTerminal. --screen compare shows a `whittle compare --json` report (--report) with its Pareto plot and a side-by-side generation, the selection moving each frame; --screen compress shows --model read by the engine with a pass running (its progress changing each frame): --pass quantize adds a sensitivity map measured on --samples calibration windows first (not timed), --pass prune shows the prune form's prediction, --pass distil the distil form's (the default student of --model). The budget is 5 ms per frame at 200×60 with 100k steps; use a release build (swift build -c release).

        \(exitCodeHelp)
        """)

    @Option(name: .long, parsing: .unconditional, help: "Steps of synthetic history.")
    var steps = 100_000

    @Option(name: .long, parsing: .unconditional, help: "Screen columns.")
    var width = 200

    @Option(name: .long, parsing: .unconditional, help: "Screen rows.")
    var height = 60

    @Option(name: .long, parsing: .unconditional, help: "Timed frames (the median is reported; at least 50).")
    var frames = 100

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    @Option(name: .long, help: "The screen: train, compare or compress.")
    var screen = "train"

    @Option(name: .long, help: "--screen compare: a `whittle compare --json` report.")
    var report = "Tests/WhittleUITests/Fixtures/compare/report.json"

    @Option(name: .long, help: "--screen compress: the model the pass starts from.")
    var model = "sample-models/shakespeare-char-tiny"

    @Option(name: .long, help: "--screen compress: quantize (with a sensitivity map), prune or distil.")
    var pass = "quantize"

    @Option(name: .long, parsing: .unconditional, help: "--screen compress --pass quantize: calibration windows for the map.")
    var samples = 2

    @Flag(name: .long, help: "Present through ncurses on this terminal (its size replaces --width/--height).")
    var terminal = false

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        guard width >= 80, height >= 24 else {
            throw ValidationError("--width and --height must be at least 80 and 24 (got \(width)×\(height))")
        }
        guard frames >= 50 else { throw ValidationError("--frames must be at least 50 (got \(frames))") }
        guard BenchUIScreen(rawValue: screen) != nil else {
            throw ValidationError("--screen \(screen) is not a screen; use \(BenchUIScreen.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard CompressPass(rawValue: pass) != nil else {
            throw ValidationError("--pass \(pass) is not a pass; use \(CompressPass.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1 (got \(samples))") }
    }

    struct Report: Encodable {
        var screen: String
        var steps: Int
        var width: Int
        var height: Int
        var frames: Int
        var renderMillisecondsMedian: Double
        var presentMillisecondsMedian: Double
        var frameMillisecondsMedian: Double
        var frameMillisecondsMax: Double
        var coldFrameMilliseconds: Double
        var historyMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case screen, steps, width, height, frames
            case renderMillisecondsMedian = "render_ms_median", presentMillisecondsMedian = "present_ms_median"
            case frameMillisecondsMedian = "frame_ms_median", frameMillisecondsMax = "frame_ms_max"
            case coldFrameMilliseconds = "cold_frame_ms", historyMilliseconds = "history_build_ms"
        }
    }

    func run() throws {
        if terminal && (isatty(STDOUT_FILENO) != 1 || isatty(STDIN_FILENO) != 1) {
            throw ValidationError("--terminal needs a terminal (standard input and output must be a TTY)")
        }
        let report = try reportingErrors { () -> Report in
            try checkBudget()
            return try measure()
        }
        if json {
            print(try jsonText(report))
            return
        }
        print("screen      \(report.screen) at \(report.width)×\(report.height), \(formatCount(report.steps)) steps of history, \(report.frames) frames (one new step each)")
        print(String(format: "frame       median %.3f ms (render %.3f ms + present %.3f ms on %@), max %.3f ms",
                     report.frameMillisecondsMedian, report.renderMillisecondsMedian, report.presentMillisecondsMedian,
                     terminal ? "ncurses" : "a MemoryTerminal", report.frameMillisecondsMax))
        print(String(format: "cold frame  %.3f ms (empty cache: every series summarised from scratch)",
                     report.coldFrameMilliseconds))
    }

    /// Bytes a step of synthetic history keeps (a `TrainingMetricsSnapshot` holds ~10 series of
    /// Double per step, plus the frame cache's summaries).
    static let bytesPerStep = 160.0
    /// Bytes a screen cell costs (the rendered screen, the terminal's copy and the diff).
    static let bytesPerCell = Double(3 * MemoryLayout<Cell>.stride)
    /// Seconds a frame costs per cell (measured ~10 ns per cell for render + present; 10x for the margin).
    static let secondsPerCell = 1e-7

    /// Refuses sizes and counts that would not fit in memory or would run for over an hour.
    func checkBudget() throws {
        let budget = ResourceBudget.current()
        let cells = Double(width) * Double(height)
        try budget.check(Double(steps) * Self.bytesPerStep + cells * Self.bytesPerCell,
                         for: "\(steps) steps of history on a \(width)×\(height) screen",
                         fix: "lower --steps (100000 is the benchmark's budget case) or --width/--height")
        let seconds = Double(frames + 1) * cells * Self.secondsPerCell + Double(steps) * 1e-6
        guard seconds <= ResourceBudget.longRunSeconds else {
            throw WhittleError.config("\(frames) frames of \(width)×\(height) would take about \(ResourceBudget.formatSeconds(seconds))",
                                      hint: "lower --frames, --width or --height")
        }
    }

    /// The screen to time at `width`×`height`.
    func scene(width: Int, height: Int) throws -> BenchUIScene {
        switch BenchUIScreen(rawValue: screen)! {
        case .train:
            var state = AppState(width: width, height: height)
            _ = update(&state, .runStateChanged(.running))
            return BenchUIScene(state: state) { _, _ in }
        case .compare:
            guard let data = FileManager.default.contents(atPath: report) else {
                throw WhittleError.file("cannot read \(report)", hint: "pass --report with a file from whittle compare --json")
            }
            let decoded: ComparisonReport
            do {
                decoded = try JSONDecoder().decode(ComparisonReport.self, from: data)
            } catch {
                throw WhittleError.config("\(report) is not a `whittle compare --json` report (\(error))",
                                          hint: "write one with whittle compare --model BASE --model VARIANT --json > report.json")
            }
            return .compare(decoded, width: width, height: height)
        case .compress:
            return try .compress(model: model, pass: CompressPass(rawValue: pass)!, samples: samples, width: width, height: height)
        }
    }

    func measure() throws -> Report {
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e6
        }
        var run = DemoRun(totalSteps: steps + frames + 10)
        run.advance(steps: steps)
        // A few setting changes, so markers are drawn too.
        for (i, value) in [3e-4, 2e-4, 1e-4].enumerated() {
            run.apply(.learningRate, .real(value))
            run.advance(steps: i + 1)
        }
        let history = lap()
        let output: any Terminal = terminal
            ? CursesTerminal(options: CursesOptions(mouse: false, environment: ProcessInfo.processInfo.environment))
            : MemoryTerminal(width: width, height: height)
        defer { (output as? CursesTerminal)?.stop() }
        let (width, height) = terminal ? output.size : (self.width, self.height)
        let scene = try scene(width: width, height: height)
        var state = scene.state
        _ = lap()
        let theme = Theme.builtinDefault
        let terminal = output
        let cache = RenderCache()
        _ = lap()
        terminal.present(render(state, run.snapshot, theme, cache: cache))
        let cold = lap()
        var renders: [Double] = [], presents: [Double] = [], totals: [Double] = []
        for frame in 0..<frames {
            run.advance(steps: 1)
            scene.advance(&state, frame)
            _ = lap()
            let screen = render(state, run.snapshot, theme, cache: cache)
            let r = lap()
            terminal.present(screen)
            let p = lap()
            renders.append(r)
            presents.append(p)
            totals.append(r + p)
        }
        return Report(screen: screen, steps: steps, width: width, height: height, frames: frames,
                      renderMillisecondsMedian: median(renders), presentMillisecondsMedian: median(presents),
                      frameMillisecondsMedian: median(totals), frameMillisecondsMax: totals.max() ?? 0,
                      coldFrameMilliseconds: cold, historyMilliseconds: history)
    }

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
