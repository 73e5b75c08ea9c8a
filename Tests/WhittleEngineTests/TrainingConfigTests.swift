// Tests for training configuration files, `--set` overrides, validation and serialisation:
// the shipped configs, the error messages users see, and the TOML round trip.

import Foundation
import Testing
import WhittleTestSupport
@testable import WhittleEngine

@Suite struct TrainingConfigTests {
    static func shippedConfig(_ name: String) -> String { Repository.path("configs/\(name)") }

    /// The error `body` throws as a `WhittleError`, or nil (recorded as an issue) if it throws none.
    func whittleError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> WhittleError? {
        do {
            try body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as WhittleError {
            return error
        } catch {
            Issue.record("expected a WhittleError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// A default config with `overrides` applied, validated; returns the validation error.
    func validationError(_ overrides: String...) throws -> WhittleError? {
        var config = TrainingConfig()
        for override in overrides { try config.apply(override: override) }
        return whittleError { try config.validate() }
    }

    // MARK: Shipped configs

    @Test func testShippedConfig_shakespeareCharCPUIsNanoGPTRecipe() throws {
        let config = try TrainingConfig.load(path: Self.shippedConfig("shakespeare-char-cpu.toml"))
        try config.validate()
        var expected = TrainingConfig()
        expected.decayIterations = 2000
        #expect(config == expected)
        #expect(config.layerCount == 4 && config.headCount == 4 && config.embeddingWidth == 128)
        #expect(config.contextLength == 64 && config.batchSize == 12 && config.maxIterations == 2000)
        #expect(config.learningRate == 1e-3 && config.minLearningRate == 1e-4 && config.warmupIterations == 100)
        #expect(config.schedule == .cosine && config.beta1 == 0.9 && config.beta2 == 0.99)
        #expect(config.weightDecay == 0.1 && config.gradientClip == 1.0 && config.dropout == 0)
        #expect(config.evalInterval == 250 && config.evalIterations == 20 && config.seed == 1337)
        #expect(config.datasetPath == "datasets/tinyshakespeare.txt")
    }

    @Test func testShippedConfig_babyGPTHasNanoGPTShape() throws {
        let config = try TrainingConfig.load(path: Self.shippedConfig("baby-gpt-cpu.toml"))
        try config.validate()
        var expected = TrainingConfig()
        expected.layerCount = 6
        expected.headCount = 6
        expected.embeddingWidth = 384
        expected.contextLength = 256
        expected.batchSize = 64
        expected.maxIterations = 5000
        expected.decayIterations = 5000
        #expect(config == expected)
    }

    @Test func testDefaults_validate() throws {
        try TrainingConfig().validate()
    }

    // MARK: TOML loading

    @Test func testTOML_unknownKeySuggestsClosestKnownKey() {
        let error = whittleError { _ = try TrainingConfig(toml: "learning_rat = 0.01\n", source: "run.toml") }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.contains("`learning_rat`") == true)
        #expect(error?.message.contains("run.toml") == true)
        #expect(error?.hint.contains("did you mean `learning_rate`?") == true)
    }

    @Test func testTOML_unknownSynonymSuggestsNanoGPTName() {
        let error = whittleError { _ = try TrainingConfig(toml: "lr = 0.01\n", source: "run.toml") }
        #expect(error?.hint == "did you mean `learning_rate`?")
    }

    @Test func testTOML_unknownKeyFarFromAnyListsKnownKeys() {
        let error = whittleError { _ = try TrainingConfig(toml: "frobnicate = 1\n", source: "run.toml") }
        #expect(error?.hint.contains("known keys:") == true)
        #expect(error?.hint.contains("n_layer") == true)
    }

    @Test func testTOML_wrongTypeNamesKeyExpectedAndGiven() {
        let error = whittleError { _ = try TrainingConfig(toml: "n_layer = \"four\"\n", source: "run.toml") }
        #expect(error?.message == "`n_layer` in run.toml must be an integer (got string \"four\")")
        let boolError = whittleError { _ = try TrainingConfig(toml: "bias = 1\n", source: "run.toml") }
        #expect(boolError?.message == "`bias` in run.toml must be true or false (got integer 1)")
        let arrayError = whittleError { _ = try TrainingConfig(toml: "beta1 = [0.9, 0.95]\n", source: "run.toml") }
        #expect(arrayError?.message.contains("got an array") == true)
    }

    @Test func testTOML_integerAcceptedForFloatKey() throws {
        let config = try TrainingConfig(toml: "learning_rate = 1\nweight_decay = 0\n", source: "run.toml")
        #expect(config.learningRate == 1)
        #expect(config.weightDecay == 0)
    }

    @Test func testTOML_floatRejectedForIntKey() {
        let error = whittleError { _ = try TrainingConfig(toml: "n_layer = 4.0\n", source: "run.toml") }
        #expect(error?.message == "`n_layer` in run.toml must be an integer (got float 4.0)")
        #expect(error?.hint.contains("no decimal point") == true)
    }

    @Test func testTOML_scheduleMustBeAKnownChoice() throws {
        let config = try TrainingConfig(toml: "schedule = \"linear\"\n", source: "run.toml")
        #expect(config.schedule == .linear)
        let error = whittleError { _ = try TrainingConfig(toml: "schedule = \"cosin\"\n", source: "run.toml") }
        #expect(error?.message.contains("one of \"constant\", \"cosine\", \"linear\"") == true)
        #expect(error?.hint.contains("did you mean \"cosine\"?") == true)
    }

    @Test func testTOML_syntaxErrorMentionsFileAndLine() {
        let error = whittleError { _ = try TrainingConfig(toml: "n_layer = 4\nn_head = = 4\n", source: "bad.toml") }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.hasPrefix("bad.toml:2:") == true)
        #expect(error?.message.contains("TOML syntax error") == true)
    }

    @Test func testTOML_sectionsAreRejectedAsNotFlat() {
        let error = whittleError { _ = try TrainingConfig(toml: "[model]\nn_layer = 4\n", source: "run.toml") }
        #expect(error?.message.contains("`model` in run.toml is a table") == true)
        #expect(error?.message.contains("flat") == true)
        #expect(error?.hint.contains("n_layer") == true)
        let dotted = whittleError { _ = try TrainingConfig(toml: "model.n_layer = 4\n", source: "run.toml") }
        #expect(dotted?.message.contains("is a table") == true)
    }

    @Test func testTOML_missingKeysKeepDefaults() throws {
        let config = try TrainingConfig(toml: "# nothing but a comment\nmax_iters = 10\n", source: "run.toml")
        var expected = TrainingConfig()
        expected.maxIterations = 10
        #expect(config == expected)
    }

    @Test func testLoad_missingFileIsIOErrorNamingPath() {
        let error = whittleError { _ = try TrainingConfig.load(path: "/nonexistent/whittle.toml") }
        #expect(error?.kind == .io)
        #expect(error?.message.contains("/nonexistent/whittle.toml") == true)
    }

    @Test func testTOML_intOutOfRangeForFieldIsRejected() {
        let error = whittleError { _ = try TrainingConfig(toml: "seed = -1\n", source: "run.toml") }
        #expect(error?.message.hasPrefix("`seed` in run.toml must be an integer in 0...") == true)
    }

    @Test func testTOML_floatTooLargeForFloat32IsRejected() {
        let error = whittleError { _ = try TrainingConfig(toml: "learning_rate = 1e300\n", source: "run.toml") }
        #expect(error?.message.hasPrefix("`learning_rate` in run.toml is too large for a 32-bit float") == true)
    }

    // MARK: Overrides

    @Test func testOverride_parsesEachType() throws {
        var config = TrainingConfig()
        try config.apply(overrides: ["n_layer=6", " learning_rate = 3e-4 ", "bias=false", "dataset=data/x y.txt",
                                     "schedule=linear", "lr_decay_iters=900", "val_fraction=1", "seed=42"])
        #expect(config.layerCount == 6)
        #expect(config.learningRate == 3e-4)
        #expect(config.hasBias == false)
        #expect(config.datasetPath == "data/x y.txt")
        #expect(config.schedule == .linear)
        #expect(config.decayIterations == 900)
        #expect(config.validationFraction == 1)
        #expect(config.seed == 42)
        try config.apply(override: "dataset=\"quoted.txt\"")
        #expect(config.datasetPath == "quoted.txt")
        try config.apply(override: "lr_decay_iters=none")
        #expect(config.decayIterations == nil)
    }

    @Test func testOverride_withoutEqualsIsErrorWithExample() {
        var config = TrainingConfig()
        let error = whittleError { try config.apply(override: "max_iters") }
        #expect(error?.message.contains("key=value") == true)
        #expect(error?.hint == "for example --set max_iters=2000")
    }

    @Test func testOverride_unknownKeySuggests() {
        var config = TrainingConfig()
        let error = whittleError { try config.apply(override: "n_heads=8") }
        #expect(error?.message == "unknown key `n_heads` in --set n_heads=8")
        #expect(error?.hint == "did you mean `n_head`?")
    }

    @Test func testOverride_wrongTypesAreRejected() {
        var config = TrainingConfig()
        let float = whittleError { try config.apply(override: "batch_size=12.5") }
        #expect(float?.message == "`batch_size` in --set batch_size=12.5 must be an integer (got `12.5` (a float))")
        let text = whittleError { try config.apply(override: "learning_rate=fast") }
        #expect(text?.message.contains("must be a number (got `fast`)") == true)
        let bool = whittleError { try config.apply(override: "bias=yes") }
        #expect(bool?.message.contains("must be true or false") == true)
        let empty = whittleError { try config.apply(override: "n_layer=") }
        #expect(empty?.message.contains("`n_layer`") == true)
        #expect(config == TrainingConfig())
    }

    // MARK: Validation

    @Test(arguments: [
        (["n_layer=0"], "n_layer"),
        (["n_head=0"], "n_head"),
        (["n_embd=0"], "n_embd"),
        (["block_size=0"], "block_size"),
        (["n_embd=130"], "n_embd (130) must be divisible by n_head (4)"),
        (["dropout=1"], "dropout"),
        (["dropout=-0.1"], "dropout"),
        (["dataset="], "dataset"),
        (["val_fraction=0"], "val_fraction"),
        (["val_fraction=1"], "val_fraction"),
        (["batch_size=0"], "batch_size"),
        (["gradient_accumulation_steps=0"], "gradient_accumulation_steps"),
        (["max_iters=0"], "max_iters"),
        (["max_iters=9000000000000"], "max_iters"),
        (["warmup_iters=-1"], "warmup_iters"),
        (["lr_decay_iters=50"], "lr_decay_iters must be at least warmup_iters (100)"),
        (["learning_rate=-0.001"], "learning_rate must be a finite number ≥ 0 (got -0.001)"),
        (["learning_rate=nan"], "learning_rate must be a finite number ≥ 0 (got nan)"),
        (["learning_rate=inf"], "learning_rate must be a finite number ≥ 0 (got inf)"),
        (["min_lr=nan"], "min_lr"),
        (["min_lr=0.01"], "min_lr (0.01) must not exceed learning_rate (0.001)"),
        (["beta1=1"], "beta1 must be in [0, 1) (got 1.0)"),
        (["beta2=1.5"], "beta2"),
        (["beta2=nan"], "beta2"),
        (["beta1=-0.1"], "beta1"),
        (["eps=0"], "eps"),
        (["weight_decay=-1"], "weight_decay"),
        (["grad_clip=-1"], "grad_clip"),
        (["eval_interval=0"], "eval_interval"),
        (["eval_iters=0"], "eval_iters"),
        (["checkpoint_interval=-1"], "checkpoint_interval"),
        (["workers=0"], "workers"),
        (["blas_threads=65"], "blas_threads"),
        (["checkpointing=sometimes"], "checkpointing"),
        (["checkpointing=every-9"], "checkpointing"),
        (["workers=13"], "workers"),
    ])
    func testValidate_rejectsOutOfRangeNamingField(overrides: [String], expected: String) throws {
        var config = TrainingConfig()
        try config.apply(overrides: overrides)
        let error = whittleError { try config.validate() }
        #expect(error?.kind == .invalidConfig)
        #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test func testValidate_acceptsBoundaryValues() throws {
        var config = TrainingConfig()
        try config.apply(overrides: ["learning_rate=0", "min_lr=0", "beta1=0", "beta2=0.999", "weight_decay=0",
                                     "grad_clip=0", "warmup_iters=0", "lr_decay_iters=0", "checkpoint_interval=0",
                                     "workers=12", "blas_threads=64", "n_head=1", "dropout=0.5"])
        try config.validate()
    }

    @Test func testValidate_hugeSeedIsRejected() {
        var config = TrainingConfig()
        config.seed = .max
        let error = whittleError { try config.validate() }
        #expect(error?.message.hasPrefix("seed") == true)
    }

    // MARK: Key table and serialisation

    @Test func testKeys_namesAreUniqueAndCoverNanoGPTNames() {
        let names = TrainingConfig.keyNames
        #expect(Set(names).count == names.count)
        for name in ["n_layer", "n_head", "n_embd", "block_size", "bias", "dropout", "dataset", "val_fraction",
                     "batch_size", "gradient_accumulation_steps", "max_iters", "learning_rate", "min_lr",
                     "warmup_iters", "lr_decay_iters", "schedule", "beta1", "beta2", "eps", "weight_decay",
                     "grad_clip", "eval_interval", "eval_iters", "checkpoint_interval", "seed", "workers", "blas_threads", "checkpointing"] {
            #expect(names.contains(name), "missing key \(name)")
        }
        #expect(names.contains("optimizer") && names.contains("momentum"))
        #expect(names.contains("precision") && names.contains("loss_scaling"))
        for name in ["teacher", "distill_alpha", "distill_temperature", "distill_loss", "distill_hidden_weight", "student_init"] {
            #expect(names.contains(name), "missing distillation key \(name)")
        }
        #expect(names.count == 40)
    }

    @Test func testKeys_valueForKeyAndSetValueForKey() throws {
        var config = TrainingConfig()
        #expect(try config.value(forKey: "n_embd") == .int(128))
        #expect(try config.value(forKey: "lr_decay_iters") == .unset)
        try config.setValue(.int(2), forKey: "learning_rate", source: "TUI")
        #expect(config.learningRate == 2)
        let error = whittleError { try config.setValue(.float(2.5), forKey: "n_layer", source: "TUI") }
        #expect(error?.message == "`n_layer` in TUI must be an integer (got float 2.5)")
    }

    @Test func testKeyListing_mentionsEveryKeyWithTypeAndDefault() {
        let listing = TrainingConfig.keyListing()
        for key in TrainingConfig.keys { #expect(listing.contains(key.name)) }
        #expect(listing.contains("constant|cosine|linear"))
        #expect(listing.contains("[default: 0.001]"))
        let wide = listing.split(separator: "\n").filter { $0.count > 80 }
        #expect(wide.isEmpty, "lines wider than 80 columns: \(wide)")
    }

    @Test func testTOMLString_roundTripsDefaultsAndEditedConfig() throws {
        let defaults = TrainingConfig()
        #expect(try TrainingConfig(toml: defaults.tomlString(), source: "defaults") == defaults)

        var edited = TrainingConfig()
        try edited.apply(overrides: ["n_layer=6", "learning_rate=0.0003", "eps=1e-10", "bias=false", "schedule=linear",
                                     "lr_decay_iters=1500", "dataset=dir with \"quotes\"\\and\ttab.txt", "seed=0",
                                     "dropout=0.1", "val_fraction=0.05", "grad_clip=0"])
        let text = edited.tomlString()
        let reloaded = try TrainingConfig(toml: text, source: "edited")
        #expect(reloaded == edited)
        #expect(text.contains("# peak learning rate"))
        for key in TrainingConfig.keys { #expect(text.contains("\(key.name) = ")) }
    }

    @Test func testTOMLString_shippedConfigsRoundTrip() throws {
        for name in ["shakespeare-char-cpu.toml", "baby-gpt-cpu.toml"] {
            let config = try TrainingConfig.load(path: Self.shippedConfig(name))
            #expect(try TrainingConfig(toml: config.tomlString(), source: name) == config)
        }
    }

    @Test func testDatasetURL_relativePathResolvesAgainstWorkingDirectory() {
        var config = TrainingConfig()
        config.datasetPath = "datasets/x.txt"
        let expected = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("datasets/x.txt").standardizedFileURL.path
        #expect(config.datasetURL.path == expected)
        config.datasetPath = "/abs/x.txt"
        #expect(config.datasetURL.path == "/abs/x.txt")
    }
}

@Suite struct PrecisionConfigTests {
    @Test func testPrecision_parsesAndRejectsWithTheChoices() throws {
        var config = TrainingConfig()
        try config.apply(overrides: ["precision=bf16", "loss_scaling=false"])
        #expect(config.precision == .bf16 && !config.lossScaling)
        #expect(throws: WhittleError.self) { try config.apply(overrides: ["precision=fp8"]) }
        do {
            try config.apply(overrides: ["precision=half"])
        } catch let error as WhittleError {
            #expect(error.message.contains("precision") && error.message.contains("bf16"), "\(error.message)")
        }
        #expect(TrainingConfig.suggestedKey(for: "dtype") == "precision")
    }
}
