// The controller's side of the Compare and Compress screens: their effects become commands for the
// engine's VariantLibrary (listing, reading a model, comparing, exporting, side-by-side generation,
// checking which compared directories still exist), QuantizationSession, PruningSession or
// DistillationSession (one pass) and SensitivityScanSession (one scan), and once a frame their
// snapshots and events come back as Actions.

import Foundation
import WhittleEngine

extension WorkbenchController {
    /// Frames between two checks that the compared directories still exist (about a second).
    static let missingCheckFrames = 10

    /// The library job, started on first use.
    var variants: VariantLibrary {
        if let variantLibrary { return variantLibrary }
        let library = VariantLibrary()
        variantLibrary = library
        return library
    }

    func performVariantEffect(_ effect: Effect) {
        switch effect {
        case .listLibrary: variants.send(.list(roots: ["sample-models", "runs", variantsRoot]))
        case .inspectModel(let path): variants.send(.inspect(path: path))
        case .compare(let request): variants.send(.compare(request))
        case .checkModels(let paths): variants.send(.check(paths: paths))
        case .measureTensorErrors(let base, let variant): variants.send(.tensorErrors(base: base, variant: variant))
        case .exportComparison(let report): variants.send(.export(report, directory: variantsRoot))
        case .generateSideBySide(let models, let prompt, let count, let seed):
            variants.send(.generate(models: models, prompt: prompt, count: count,
                                    settings: SamplingSettings(temperature: 0.8, topK: 200, seed: seed)))
        case .quantize(let request):
            let plan = request.plan
            let rules = plan.rules.map { " --tensor-type \($0.pattern)=\($0.format.rawValue)" }.joined()
            let samples = request.method.needsCalibration ? " --calibration-samples \(request.calibrationSamples)" : ""
            let command = "whittle quantize --model \(request.basePath) --type \(plan.defaultFormat.rawValue)"
                + " --embedding-type \(plan.embeddingFormat.rawValue)\(rules) --method \(request.method.rawValue)\(samples)"
                + " --out \(request.output) (from the workbench's Compress screen)"
            var quantize = Quantizer.Request(basePath: request.basePath, method: request.method, plan: plan,
                                             calibration: Quantizer.Calibration(samples: request.calibrationSamples),
                                             output: request.output, whittleVersion: whittleVersion, command: command)
            if let map = request.sensitivity, let target = request.targetBitsPerWeight {
                quantize.sensitivity = (map, target)
            }
            pass = QuantizationSession(quantize)
            passVersion = -1
        case .prune(let request):
            pass = PruningSession(pruningRequest(request))
            passVersion = -1
        case .distil(let request):
            pass = DistillationSession(distillationRequest(request))
            passVersion = -1
        case .scanSensitivity(let basePath, let samples):
            scan = SensitivityScanSession(basePath: basePath, calibration: Quantizer.Calibration(samples: samples))
            scanVersion = -1
        case .cancelPass:
            pass?.cancel()
            scan?.cancel()
        default: break
        }
    }

    /// The engine's request for a prune pass, with the `whittle prune` command that makes the same variant.
    func pruningRequest(_ request: PruneRequest) -> PruningJob.Request {
        let plan = request.plan
        var command = "whittle prune --model \(request.basePath) --method \(plan.method.rawValue)"
        command += plan.pattern.map { " --pattern \($0)" } ?? " --sparsity \(plan.sparsity)"
        command += plan.structured.map { " --structured \($0.rawValue)" } ?? ""
        command += plan.needsCalibration ? " --calibration-samples \(request.calibrationSamples)" : ""
        command += " --out \(request.output) (from the workbench's Compress screen)"
        return PruningJob.Request(basePath: request.basePath, plan: plan, calibrationSamples: request.calibrationSamples,
                                  output: request.output, whittleVersion: whittleVersion, command: command)
    }

    /// The engine's request for a distil pass, with the `whittle distill` command that makes the same run.
    func distillationRequest(_ request: DistilRequest) -> DistillationSession.Request {
        let settings = request.overrides.filter { !$0.hasPrefix("teacher=") }.map { " --set \($0)" }.joined()
        let command = "whittle distill --teacher \(request.teacher) --config \(request.teacher)/\(Checkpoint.configName)\(settings)"
            + " --out \(request.runDirectory) (from the workbench's Compress screen)"
        return DistillationSession.Request(config: request.config, runDirectory: request.runDirectory,
                                           whittleVersion: whittleVersion, command: command)
    }

    /// Brings the library's answers and the pass's progress into the state.
    func syncVariants() {
        if state.screen == .compare, !state.compare.models.isEmpty {
            missingCheckCountdown -= 1
            if missingCheckCountdown <= 0 {
                missingCheckCountdown = Self.missingCheckFrames
                variants.send(.check(paths: state.compare.models))
            }
        }
        if let library = variantLibrary {
            let snapshot = library.snapshot()
            if snapshot.version != variantLibraryVersion {
                variantLibraryVersion = snapshot.version
                if state.compare.isMeasuring, let activity = snapshot.activity {
                    handle(.comparisonProgress(activity, snapshot.progress.fraction))
                }
            }
            // Streamed text is joined per model, so a frame applies one action per model, not one per token.
            var pending: (index: Int, text: String)?
            for event in library.takeEvents() {
                if case .generated(let index, let text) = event, pending == nil || pending?.index == index {
                    pending = (index, (pending?.text ?? "") + text)
                    continue
                }
                if let text = pending { handle(.sideBySideOutput(index: text.index, text.text)) }
                pending = nil
                if case .generated(let index, let text) = event {
                    pending = (index, text)
                } else {
                    apply(event)
                }
            }
            if let text = pending { handle(.sideBySideOutput(index: text.index, text.text)) }
        }
        if let scan {
            let snapshot = scan.snapshot()
            if snapshot.version != scanVersion {
                scanVersion = snapshot.version
                if snapshot.state == .running, let activity = snapshot.activity {
                    handle(.scanProgress(activity, snapshot.progress.fraction))
                }
            }
            for event in scan.takeEvents() {
                switch event {
                case .finished(let map): handle(.scanFinished(map))
                case .failed(let message): handle(.scanFailed(message))
                case .cancelled: handle(.scanCancelled)
                }
            }
        }
        if let pass {
            let snapshot = pass.snapshot()
            if snapshot.version != passVersion {
                passVersion = snapshot.version
                if snapshot.state == .running, let activity = snapshot.activity {
                    handle(.passProgress(activity, snapshot.progress.fraction))
                }
            }
            for event in pass.takeEvents() {
                switch event {
                case .finished(let directory): handle(.passFinished(directory: directory))
                case .failed(let message): handle(.passFailed(message))
                case .cancelled: handle(.passCancelled)
                }
            }
        }
    }

    private func apply(_ event: VariantLibrary.Event) {
        switch event {
        case .listed(let entries):
            handle(.modelsListed(entries.map { entry in
                let detail = switch entry.kind {
                case .model: "model"
                case .run(let step): "run, step \(NumberFormat.grouped(step))"
                case .variant: "variant"
                }
                return ModelEntry(path: entry.path, detail: detail)
            }))
        case .inspected(_, .success(let inspection)): handle(.modelInspected(inspection))
        case .inspected(let path, .failure(let error)): handle(.modelInspectionFailed(path: path, error.message))
        case .missing(let paths): handle(.modelsMissing(paths))
        case .compared(_, .success(let report)): handle(.comparisonFinished(report))
        case .compared(let request, .failure(let error)):
            guard request == state.compare.request else { return }
            handle(.comparisonFailed(error.message))
        case .exported(let path): handle(.engineMessage("exported \(path) (+ .csv, .json)"))
        case .exportFailed(let message): handle(.engineMessage("export failed: " + message))
        case .generated(let index, let text): handle(.sideBySideOutput(index: index, text))
        case .generationFinished(let index, let stats):
            handle(.sideBySideFinished(index: index, GenerationSummary(
                promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens,
                prefillTokensPerSecond: stats.prefillTokensPerSecond, decodeMillisecondsPerToken: stats.decodeMillisecondsPerToken)))
        case .generationFailed(let index, let message): handle(.sideBySideFailed(index: index, message))
        case .tensorErrors(let variant, .success(let errors)): handle(.tensorErrorsMeasured(variant: variant, errors))
        case .tensorErrors(let variant, .failure(let error)): handle(.tensorErrorsFailed(variant: variant, error.message))
        }
    }

    /// Waits until `condition` holds on the state, syncing every few milliseconds (tests); false on timeout.
    public func waitUntil(timeoutSeconds: Double, _ condition: (AppState) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            _ = sync()
            if condition(state) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}
