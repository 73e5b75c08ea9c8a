// The training-efficiency lab's settings in the hyperparameter panel: parsing and nudging each new
// value, ←/→ cycling the optimizer, ↑/↓ trying values while editing, the what-if memory preview
// (numbers equal `memoryEstimate`), the scrolled panel and mouse rows, and the engine's note about
// an optimizer switch reaching the status line with a chart marker.

import Foundation
import Testing
import WhittleTestSupport
import WhittleEngine

@testable import WhittleUI

@Suite struct LabSettingsTests {
    static func state(selecting id: HyperparameterID, width: Int = 100, height: Int = 30) -> AppState {
        var state = AppState(width: width, height: height)
        state.focus = .hyperparameters
        state.selectedHyperparameter = HyperparameterID.allCases.firstIndex(of: id)!
        return state
    }

    static func config() -> TrainingConfig { TinyTraining.shape(layers: 4, width: 32, context: 32, batch: 8) }

    @Test func testLabSettings_parseAndRejectWithTheFieldName() {
        let config = TrainingConfig()
        #expect(HyperparameterID.optimizer.parse("lion", in: config) == .success(.choice("lion")))
        #expect(HyperparameterID.checkpointing.parse("every-2", in: config) == .success(.choice("every-2")))
        #expect(HyperparameterID.momentum.parse("0.95", in: config) == .success(.real(0.95)))
        #expect(HyperparameterID.dropout.parse("0", in: config) == .success(.real(0)))
        #expect(HyperparameterID.workers.parse("4", in: config) == .success(.integer(4)))
        #expect(HyperparameterID.blasThreads.parse("2", in: config) == .success(.integer(2)))
        #expect(HyperparameterID.earlyStoppingPatience.parse("0", in: config) == .success(.integer(0)))
        #expect(HyperparameterID.precision.parse("bf16", in: config) == .success(.choice("bf16")))
        #expect(HyperparameterID.lossScaling.parse("false", in: config) == .success(.choice("false")))
        #expect(HyperparameterID.precision.nudge(.choice("fp32"), up: true, in: config) == .choice("bf16"))
        #expect(HyperparameterID.precision.nudge(.choice("fp16"), up: true, in: config) == .choice("fp32"))
        for (id, text, word) in [
            (HyperparameterID.precision, "fp8", "precision"), (.lossScaling, "maybe", "loss_scaling"),
            (HyperparameterID.optimizer, "rmsprop", "optimizer"), (.checkpointing, "sometimes", "checkpointing"),
            (.momentum, "1", "momentum"), (.dropout, "1.5", "dropout"), (.workers, "0", "workers"),
            (.blasThreads, "65", "blas_threads"), (.earlyStoppingPatience, "-1", "early_stopping_patience"),
            (.optimizer, "Lion", "optimizer"), (.precision, "BF16", "precision"),
        ] {
            guard case .failure(let error) = id.parse(text, in: config) else {
                Issue.record("\(id) accepted \(text)")
                continue
            }
            #expect(error.message.contains(word), "\(error.message)")
        }
    }

    /// The panel and `--set` share one check: every value the engine accepts the panel accepts, and
    /// every refusal carries the engine's message, including checks against the rest of the config.
    @Test func testLabSettings_panelAcceptsExactlyWhatTheEngineAccepts() {
        var config = TrainingConfig()
        config.batchSize = 4
        let cases: [(HyperparameterID, String)] = [
            (.learningRate, "0"), (.learningRate, "5e-5"), (.learningRate, "2"), (.beta2, "0.9999"), (.beta1, "1"),
            (.workers, "4"), (.workers, "5"), (.batchSize, "1"), (.evalInterval, "2000000"), (.gradientClip, "5000"),
            (.weightDecay, "2"), (.checkpointing, "every-4"), (.checkpointing, "every-5"), (.schedule, "Cosine"),
        ]
        for (id, text) in cases {
            var engine = config
            let engineResult = Result { try engine.apply(overrides: ["\(id.rawValue)=\(text)"]); try engine.validate() }
            switch (id.parse(text, in: config), engineResult) {
            case (.success(let value), .success):
                #expect(value == HyperparameterValues(config: engine)[id], "\(id) \(text)")
            case (.failure(let panel), .failure(let error)):
                let message = (error as? WhittleError)?.message ?? ""
                let sameSource = message.replacingOccurrences(of: "--set \(id.rawValue)=\(text)", with: TrainingSession.editSource)
                #expect(panel.message == sameSource, "\(id) \(text): \(panel.message) vs \(message)")
            case (let panel, let engine):
                Issue.record("\(id) \(text): panel \(panel), engine \(engine)")
            }
        }
    }

    @Test func testLabSettings_valuesComeFromTheConfig() {
        var config = TrainingConfig()
        config.optimizer = .lion
        config.checkpointing = "every-2"
        config.workers = 3
        config.blasThreads = 2
        config.earlyStoppingPatience = 5
        config.dropout = 0.1
        config.momentum = 0.8
        let values = HyperparameterValues(config: config)
        #expect(values[.optimizer] == .choice("lion") && values[.checkpointing] == .choice("every-2"))
        #expect(values[.workers] == .integer(3) && values[.blasThreads] == .integer(2))
        #expect(values[.earlyStoppingPatience] == .integer(5))
        #expect(values[.dropout] == .real(0.1) && values[.momentum] == .real(0.8))
    }

    @Test func testLabSettings_arrowsCycleTheOptimizerAndApplyIt() {
        var state = Self.state(selecting: .optimizer)
        #expect(state.hyperparameters[.optimizer] == .choice("adamw"))
        #expect(update(&state, .key(.right)) == [.setHyperparameter(.optimizer, .choice("lion"))])
        #expect(update(&state, .key(.left)) == [.setHyperparameter(.optimizer, .choice("adamw"))])
        #expect(update(&state, .key(.left)) == [.setHyperparameter(.optimizer, .choice("adam"))])
        // Every choice comes round once.
        var seen: [String] = []
        for _ in HyperparameterID.optimizerChoices {
            guard case .setHyperparameter(_, .choice(let name)) = update(&state, .key(.right)).first else { break }
            seen.append(name)
        }
        #expect(Set(seen) == Set(HyperparameterID.optimizerChoices))
    }

    @Test func testLabSettings_arrowsNudgeTheOtherLabValues() {
        for (id, expected) in [
            (HyperparameterID.checkpointing, HyperparameterValue.choice("true")), (.workers, .integer(3)),
            (.blasThreads, .integer(2)), (.earlyStoppingPatience, .integer(1)), (.dropout, .real(0.05)),
            (.momentum, .real(0.91)),
        ] {
            var state = Self.state(selecting: id)
            #expect(update(&state, .key(.right)) == [.setHyperparameter(id, expected)], "\(id)")
        }
        var state = Self.state(selecting: .earlyStoppingPatience)
        #expect(update(&state, .key(.left)) == [], "patience does not go below 0")
    }

    @Test func testEditing_upDownTryValuesInTheBufferWithoutApplying() {
        var state = Self.state(selecting: .optimizer)
        #expect(update(&state, .key(.enter)) == [])
        #expect(state.editing?.text == "adamw")
        #expect(update(&state, .key(.up)) == [])
        #expect(state.editing?.text == "lion")
        _ = update(&state, .key(.down))
        _ = update(&state, .key(.down))
        #expect(state.editing?.text == "adam")
        #expect(state.hyperparameters[.optimizer] == .choice("adamw"), "nothing applies before Enter")
        #expect(update(&state, .key(.enter)) == [.setHyperparameter(.optimizer, .choice("adam"))])
        #expect(state.editing == nil)
    }

    @Test func testWhatIf_numbersEqualMemoryEstimate() {
        let config = Self.config()
        let vocabulary = 65
        var state = Self.state(selecting: .checkpointing)
        _ = update(&state, .runConfigChanged(config, vocabularySize: vocabulary))
        #expect(state.memoryWhatIf == nil, "no preview unless editing")
        _ = update(&state, .key(.enter))
        _ = update(&state, .key(.up))
        #expect(state.editing?.text == "true")
        let whatIf = try! #require(state.memoryWhatIf)
        var candidate = config
        candidate.checkpointing = "true"
        let now = config.memoryEstimate(vocabularySize: vocabulary)
        let then = candidate.memoryEstimate(vocabularySize: vocabulary)
        #expect(whatIf.current == now && whatIf.candidate == then)
        #expect(whatIf.rows.map(\.name) == ["weights", "gradients", "optimizer", "activations", "workspace", "total"])
        #expect(whatIf.rows[3].delta == then.activations - now.activations)
        #expect(whatIf.rows[3].delta! < 0, "checkpointing saves activations")
        #expect(whatIf.rows[5].candidate == then.total)

        // Optimizer state: AdamW → SGD drops it all; the batch size scales activations.
        let sgd = MemoryWhatIf.preview(config: config, vocabularySize: vocabulary, id: .optimizer, text: "sgd")
        #expect(sgd.candidate?.optimizer == 0 && sgd.rows[2].delta == -now.optimizer)
        var doubled = config
        doubled.batchSize = 16
        let batch = MemoryWhatIf.preview(config: config, vocabularySize: vocabulary, id: .batchSize, text: "16")
        #expect(batch.candidate == doubled.memoryEstimate(vocabularySize: vocabulary))

        // Workers: per-worker bytes and ZeRO shards follow the candidate's worker count.
        var four = config
        four.workers = 4
        let workers = MemoryWhatIf.preview(config: config, vocabularySize: vocabulary, id: .workers, text: "4")
        let predicted = four.memoryEstimate(vocabularySize: vocabulary)
        #expect(workers.candidateWorkers == 4 && workers.currentWorkers == config.workers)
        #expect(workers.workerRows.map(\.name) == ["per worker", "ZeRO 1", "ZeRO 2", "ZeRO 3"])
        #expect(workers.workerRows[0].candidate == predicted.perWorkerBytes(workers: 4))
        #expect(workers.workerRows[3].candidate == predicted.zeroStages(workers: 4)[3].total)
        #expect(workers.workerRows[1].current == now.zeroStages(workers: config.workers)[1].total)

        // Precision: bf16 halves the kept activations (the fp32 residual stream stays) and adds a
        // 16-bit copy of the weights.
        var bf16 = config
        bf16.precision = .bf16
        let half = MemoryWhatIf.preview(config: config, vocabularySize: vocabulary, id: .precision, text: "bf16")
        #expect(half.candidate == bf16.memoryEstimate(vocabularySize: vocabulary))
        #expect(Double(half.candidate!.activations) <= 0.6 * Double(now.activations))
        #expect(half.rows[0].delta == ParameterLayout(config.modelConfig(vocabularySize: vocabulary).dimensions).totalCount * 2)
    }

    @Test func testWhatIf_invalidCandidateSaysWhy() {
        let config = Self.config()
        let typo = MemoryWhatIf.preview(config: config, vocabularySize: 65, id: .workers, text: "0")
        #expect(typo.candidate == nil && typo.error?.contains("workers") == true)
        let tooFar = MemoryWhatIf.preview(config: config, vocabularySize: 65, id: .checkpointing, text: "every-9")
        #expect(tooFar.candidate == nil && tooFar.error?.contains("4 layers") == true)
    }

    @Test func testWhatIf_rendersInTheMemoryPanelAt80x24And160x48() {
        let config = Self.config()
        for (width, height) in [(80, 24), (160, 48)] {
            var state = Self.state(selecting: .checkpointing, width: width, height: height)
            _ = update(&state, .runConfigChanged(config, vocabularySize: 65))
            _ = update(&state, .key(.enter))
            _ = update(&state, .key(.up))
            let text = render(state, DemoRun().snapshot, .builtinDefault).text
            #expect(text.contains("memory what-if"), "\(width)x\(height)")
            #expect(text.contains("now") && text.contains("change"), "\(width)x\(height)")
            #expect(text.contains("checkpointing = true"), "\(width)x\(height)")
            let whatIf = state.memoryWhatIf!
            let delta = whatIf.rows[3].delta!
            let shown = width >= 160 ? NumberFormat.bytes(-delta) : MemoryPanel.shortBytes(-delta)
            #expect(text.contains("-" + shown), "\(width)x\(height) shows the activation saving \(shown)")
            if width >= 160 { #expect(text.contains("ZeRO 3") && text.contains("per worker")) }
        }
    }

    @Test func testPanel_scrollsToKeepTheSelectionVisibleAndMouseHitsScrolledRows() {
        var state = Self.state(selecting: .earlyStoppingPatience, width: 80, height: 24)
        let text = render(state, DemoRun().snapshot, .builtinDefault).text
        #expect(text.contains("early stop") && !text.contains("learning rate"))
        #expect(text.contains("12-18/18"))
        let layout = TrainLayout(width: 80, height: 24)
        let firstRow = layout.hyperparameters.y + 1
        #expect(layout.hyperparameterIndex(atY: firstRow, selected: state.selectedHyperparameter) == 11)
        _ = update(&state, .mouse(MouseEvent(x: layout.hyperparameters.x + 3, y: firstRow, kind: .press)))
        #expect(state.selectedID == .dropout)
    }

    @Test func testASCII_whatIfAndExperimentsEmitOnlySevenBitCharacters() {
        var state = Self.state(selecting: .optimizer, width: 100, height: 30)
        state.useASCII = true
        _ = update(&state, .runConfigChanged(Self.config(), vocabularySize: 65))
        _ = update(&state, .key(.enter))
        _ = update(&state, .key(.up))
        #expect(render(state, DemoRun().snapshot, .monochrome).text.utf8.allSatisfy { $0 < 0x80 })
        _ = update(&state, .key(.escape))
        _ = update(&state, .key(.character("e")))
        _ = update(&state, .key(.enter))
        #expect(state.experiments.runs.count == 6)
        #expect(render(state, DemoRun().snapshot, .monochrome).text.utf8.allSatisfy { $0 < 0x80 })
    }
}
