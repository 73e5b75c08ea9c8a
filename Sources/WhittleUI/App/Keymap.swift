// The keymap table: every key binding with its command, description and context. `update`
// dispatches through it, and the help overlay and status bar are generated from it, so the help
// can never disagree with what the keys do.

/// Where a binding applies. `global` bindings also apply in the `hyperparameters` pane.
public enum KeyContext: String, Equatable, Sendable, CaseIterable {
    case global
    case hyperparameters
    case editing
    case dialog
    case help
    case generate
    case picker
    case newRun
    case experiments
    case compare
    /// Typing the Compare screen's evaluation text or generation prompt.
    case compareField
    case compress
    /// The prune-now / quantize-now form.
    case liveCompress

    /// The section title in the help overlay.
    public var title: String {
        switch self {
        case .global: "Everywhere"
        case .hyperparameters: "Hyperparameter panel"
        case .editing: "Editing a value"
        case .dialog: "Dialogs"
        case .help: "This help"
        case .generate: "Generate screen"
        case .picker: "Open a model or run"
        case .newRun: "New run"
        case .experiments: "Experiments screen"
        case .compare: "Compare screen"
        case .compareField: "Compare: typing a path or prompt"
        case .compress: "Compress screen"
        case .liveCompress: "Prune / quantize now"
        }
    }
}

/// What a key does.
public enum Command: String, Equatable, Sendable, CaseIterable {
    case toggleRun, singleStep, runSteps, checkpoint, nextPane, previousPane, help, quit, cancel
    case cycleTheme, toggleLogScale, toggleTimeAxis, smoothMore, smoothLess, toggleScreen
    case moveUp, moveDown, edit, decrease, increase
    case confirm, deleteBackward, deleteForward, cursorLeft, cursorRight, cursorHome, cursorEnd
    case accept, reject, saveAndQuit
    case scrollUp, scrollDown, close
    case generateText, nextField, previousField
    case openModelDialog, newRunDialog, startFilter, discard
    case openExperiments, startExperiments, exportExperiments, cancelExperiments
    case openCompare, openCompress
    case sortNext, sortPrevious, reverseSort, cyclePlotAxis, cycleQuality, editData, editPrompt, remeasure
    case addModel, removeModel, exportComparison, showTensorErrors
    case applyPass, cancelPass, chooseOrApply, scanSensitivity
    case pruneNow, quantizeNow
}

/// One row of the keymap.
public struct KeyBinding: Equatable, Sendable {
    public var keys: [Key]
    public var command: Command
    public var description: String
    public var context: KeyContext
    /// Shown in the status bar for its context.
    public var inStatusBar: Bool

    public init(
        _ keys: [Key], _ command: Command, _ description: String, _ context: KeyContext,
        statusBar: Bool = false
    ) {
        self.keys = keys
        self.command = command
        self.description = description
        self.context = context
        inStatusBar = statusBar
    }

    /// The keys as written in help ("k/↑").
    public func keysLabel(ascii: Bool) -> String {
        keys.map { ascii ? $0.asciiLabel : $0.label }.joined(separator: "/")
    }
}

/// The workbench's key bindings.
public enum Keymap {
    private static func ch(_ c: Character) -> Key { .character(c) }

    /// Every binding, in help order.
    public static let bindings: [KeyBinding] = [
        KeyBinding([ch(" ")], .toggleRun, "start / pause / resume training", .global, statusBar: true),
        KeyBinding([ch("s")], .singleStep, "run one step (when paused)", .global, statusBar: true),
        KeyBinding([ch("n")], .runSteps, "run N steps (asks how many)", .global),
        KeyBinding([ch("c")], .checkpoint, "save a checkpoint now", .global, statusBar: true),
        KeyBinding([.tab], .nextPane, "next pane", .global, statusBar: true),
        KeyBinding([.backTab], .previousPane, "previous pane", .global),
        KeyBinding([ch("l")], .toggleLogScale, "log / linear y axis", .global),
        KeyBinding([ch("x")], .toggleTimeAxis, "x axis by step / by time", .global),
        KeyBinding([ch("+"), ch("=")], .smoothMore, "more smoothing", .global),
        KeyBinding([ch("-")], .smoothLess, "less smoothing", .global),
        KeyBinding([ch("t")], .cycleTheme, "next colour theme", .global),
        KeyBinding([ch("o")], .openModelDialog, "open a model or run directory", .global),
        KeyBinding([ch("r")], .newRunDialog, "start a new run (layers, heads, width, context, dataset, seed)", .global),
        KeyBinding([ch("g")], .toggleScreen, "Generate screen: sample from the current weights", .global),
        KeyBinding([ch("e")], .openExperiments, "Experiments screen: queue runs that vary settings, compare them", .global),
        KeyBinding([ch("v")], .openCompare, "Compare screen: the base and its variants, quality, size, speed", .global),
        KeyBinding([ch("w")], .openCompress, "Compress screen: quantize, prune or distil a model into a variant", .global),
        KeyBinding([ch("p")], .pruneNow, "prune the live model now (method, sparsity or N:M); the mask is kept", .global),
        KeyBinding([ch("z")], .quantizeNow, "quantize a copy now, evaluate it against fp32, train on", .global),
        KeyBinding([ch("?"), .function(1)], .help, "this help", .global, statusBar: true),
        KeyBinding([.escape], .cancel, "cancel / clear message", .global),
        KeyBinding([ch("q")], .quit, "quit, saving a checkpoint (asks first if unsaved)", .global, statusBar: true),
        KeyBinding([.up, ch("k")], .moveUp, "select previous value", .hyperparameters),
        KeyBinding([.down, ch("j")], .moveDown, "select next value", .hyperparameters),
        KeyBinding([.enter], .edit, "edit the value (or just start typing)", .hyperparameters, statusBar: true),
        KeyBinding([.left], .decrease, "decrease / previous choice", .hyperparameters),
        KeyBinding([.right], .increase, "increase / next choice", .hyperparameters),
        KeyBinding([.enter], .confirm, "apply (validated)", .editing, statusBar: true),
        KeyBinding([.escape], .cancel, "cancel the edit", .editing, statusBar: true),
        KeyBinding([.up], .increase, "try the next value / choice (memory what-if follows)", .editing),
        KeyBinding([.down], .decrease, "try the previous value / choice", .editing),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .editing),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .editing),
        KeyBinding([.left], .cursorLeft, "cursor left", .editing),
        KeyBinding([.right], .cursorRight, "cursor right", .editing),
        KeyBinding([.home], .cursorHome, "cursor to start", .editing),
        KeyBinding([.end], .cursorEnd, "cursor to end", .editing),
        KeyBinding([.enter, ch("y")], .accept, "confirm", .dialog, statusBar: true),
        KeyBinding([.escape, ch("n")], .reject, "cancel", .dialog, statusBar: true),
        KeyBinding([ch("c")], .saveAndQuit, "save a checkpoint, then quit (quit dialog)", .dialog),
        KeyBinding([ch("d")], .discard, "go on without saving (quit / switch-run dialogs)", .dialog),
        KeyBinding([.up, ch("k")], .scrollUp, "scroll up", .help),
        KeyBinding([.down, ch("j")], .scrollDown, "scroll down", .help),
        KeyBinding([.escape, ch("?"), ch("q")], .close, "close help", .help, statusBar: true),
        KeyBinding([.enter], .generateText, "generate from a copy of the current weights", .generate, statusBar: true),
        KeyBinding([.tab, .down], .nextField, "next field", .generate, statusBar: true),
        KeyBinding([.backTab, .up], .previousField, "previous field", .generate),
        KeyBinding([.escape], .toggleScreen, "back to the Train screen", .generate, statusBar: true),
        KeyBinding([.function(1)], .help, "this help", .generate, statusBar: true),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .generate),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .generate),
        KeyBinding([.left], .cursorLeft, "cursor left", .generate),
        KeyBinding([.right], .cursorRight, "cursor right", .generate),
        KeyBinding([.home], .cursorHome, "cursor to start", .generate),
        KeyBinding([.end], .cursorEnd, "cursor to end", .generate),
        KeyBinding([.up, ch("k")], .moveUp, "previous entry", .picker),
        KeyBinding([.down, ch("j")], .moveDown, "next entry", .picker),
        KeyBinding([.enter], .accept, "open the selected directory", .picker, statusBar: true),
        KeyBinding([ch("/")], .startFilter, "filter the list (type; Esc clears)", .picker, statusBar: true),
        KeyBinding([.backspace], .deleteBackward, "delete from the filter", .picker),
        KeyBinding([.escape, ch("q")], .close, "close", .picker, statusBar: true),
        KeyBinding([.enter], .startExperiments, "plan and queue the runs (validated first)", .experiments, statusBar: true),
        KeyBinding([.tab, .down], .nextField, "next field", .experiments, statusBar: true),
        KeyBinding([.backTab, .up], .previousField, "previous field", .experiments),
        KeyBinding([.function(2), ch("x")], .exportExperiments, "export sweep.md/csv/json (x in the run table)", .experiments, statusBar: true),
        KeyBinding([.function(8), ch("c")], .cancelExperiments, "cancel the queue (c in the run table)", .experiments, statusBar: true),
        KeyBinding([.escape, ch("q")], .toggleScreen, "back to the Train screen (q in the run table)", .experiments, statusBar: true),
        KeyBinding([.function(1)], .help, "this help", .experiments),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .experiments),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .experiments),
        KeyBinding([.left], .cursorLeft, "cursor left", .experiments),
        KeyBinding([.right], .cursorRight, "cursor right", .experiments),
        KeyBinding([.home], .cursorHome, "cursor to start", .experiments),
        KeyBinding([.end], .cursorEnd, "cursor to end", .experiments),
        KeyBinding([.up, ch("k")], .moveUp, "select the previous model (table and plot)", .compare),
        KeyBinding([.down, ch("j")], .moveDown, "select the next model", .compare),
        KeyBinding([.right], .sortNext, "sort by the next column", .compare, statusBar: true),
        KeyBinding([.left], .sortPrevious, "sort by the previous column", .compare),
        KeyBinding([ch("r")], .reverseSort, "reverse the sort order", .compare),
        KeyBinding([ch("p")], .cyclePlotAxis, "plot against file size / decode latency (Pareto front)", .compare, statusBar: true),
        KeyBinding([ch("y")], .cycleQuality, "plot loss / KL divergence", .compare),
        KeyBinding([ch("d")], .editData, "evaluation text: a file, or empty for the validation split", .compare, statusBar: true),
        KeyBinding([.enter], .remeasure, "measure again (the base too) on the chosen text", .compare),
        KeyBinding([ch("a")], .addModel, "add a model or variant (the first is the base)", .compare, statusBar: true),
        KeyBinding([.delete], .removeModel, "remove the selected model from the comparison", .compare),
        KeyBinding([ch("g")], .editPrompt, "generate side by side: same prompt and seed through every model", .compare, statusBar: true),
        KeyBinding([ch("t")], .showTensorErrors, "per-tensor weight error of the selected variant (which tensors lost most)", .compare),
        KeyBinding([.function(2), ch("x")], .exportComparison, "export compare.md/csv/json into variants/", .compare, statusBar: true),
        KeyBinding([ch("w")], .openCompress, "Compress screen", .compare),
        KeyBinding([.function(1), ch("?")], .help, "this help", .compare),
        KeyBinding([.escape, ch("q")], .toggleScreen, "back to the Train screen", .compare, statusBar: true),
        KeyBinding([.enter], .confirm, "apply (the path is measured; the prompt generates)", .compareField, statusBar: true),
        KeyBinding([.escape], .cancel, "stop typing", .compareField, statusBar: true),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .compareField),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .compareField),
        KeyBinding([.left], .cursorLeft, "cursor left", .compareField),
        KeyBinding([.right], .cursorRight, "cursor right", .compareField),
        KeyBinding([.home], .cursorHome, "cursor to start", .compareField),
        KeyBinding([.end], .cursorEnd, "cursor to end", .compareField),
        KeyBinding([.tab], .nextField, "next row", .compress, statusBar: true),
        KeyBinding([.backTab], .previousField, "previous row", .compress),
        KeyBinding([.down], .moveDown, "next row (on the map: next tensor)", .compress),
        KeyBinding([.up], .moveUp, "previous row (on the map: previous tensor)", .compress),
        KeyBinding([.left], .decrease, "previous choice (pass, type, method, student init; on the map: type column)", .compress),
        KeyBinding([.right], .increase, "next choice", .compress),
        KeyBinding([.enter], .chooseOrApply, "choose the model (model row) / this cell's type (map) / apply", .compress, statusBar: true),
        KeyBinding([.function(5)], .applyPass, "apply the pass (from any row)", .compress),
        KeyBinding([.function(6)], .scanSensitivity, "sensitivity scan: KLD of each tensor at each type (the map)", .compress, statusBar: true),
        KeyBinding([.function(8)], .cancelPass, "cancel the running pass or scan (nothing is written)", .compress, statusBar: true),
        KeyBinding([.function(3)], .openCompare, "Compare screen", .compress),
        KeyBinding([.function(1)], .help, "this help", .compress),
        KeyBinding([.escape], .toggleScreen, "back to the Train screen", .compress, statusBar: true),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .compress),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .compress),
        KeyBinding([.home], .cursorHome, "cursor to start", .compress),
        KeyBinding([.end], .cursorEnd, "cursor to end", .compress),
        KeyBinding([.enter], .accept, "prune / quantize at the next step boundary", .liveCompress, statusBar: true),
        KeyBinding([.left], .decrease, "previous choice", .liveCompress, statusBar: true),
        KeyBinding([.right], .increase, "next choice", .liveCompress),
        KeyBinding([.tab, .down], .nextField, "next row", .liveCompress, statusBar: true),
        KeyBinding([.backTab, .up], .previousField, "previous row", .liveCompress),
        KeyBinding([.escape, ch("q")], .close, "cancel", .liveCompress, statusBar: true),
        KeyBinding([.function(1), ch("?")], .help, "this help", .liveCompress),
        KeyBinding([.enter], .accept, "start the run (asks to save the current one)", .newRun, statusBar: true),
        KeyBinding([.tab, .down], .nextField, "next field", .newRun, statusBar: true),
        KeyBinding([.backTab, .up], .previousField, "previous field", .newRun),
        KeyBinding([.escape], .close, "cancel", .newRun, statusBar: true),
        KeyBinding([.backspace], .deleteBackward, "delete before the cursor", .newRun),
        KeyBinding([.delete], .deleteForward, "delete under the cursor", .newRun),
        KeyBinding([.left], .cursorLeft, "cursor left", .newRun),
        KeyBinding([.right], .cursorRight, "cursor right", .newRun),
        KeyBinding([.home], .cursorHome, "cursor to start", .newRun),
        KeyBinding([.end], .cursorEnd, "cursor to end", .newRun),
    ]

    /// The command `key` triggers in `context`; pane bindings shadow global ones.
    public static func command(for key: Key, in context: KeyContext) -> Command? {
        if let own = bindings.first(where: { $0.context == context && $0.keys.contains(key) }) { return own.command }
        if context == .hyperparameters {
            return bindings.first { $0.context == .global && $0.keys.contains(key) }?.command
        }
        return nil
    }

    /// Status-bar hints for `context`.
    public static func hints(for context: KeyContext, ascii: Bool) -> [KeyHint] {
        var rows = bindings.filter { $0.context == context && $0.inStatusBar }
        if context == .hyperparameters { rows += bindings.filter { $0.context == .global && $0.inStatusBar } }
        let own = rows.filter { $0.context == context }
        let essential = rows.filter { $0.context != context && [.help, .quit].contains($0.command) }
        rows = own + essential + rows.filter { $0.context != context && ![.help, .quit].contains($0.command) }
        return rows.map {
            KeyHint(keys: $0.keysLabel(ascii: ascii), description: shortDescription($0.command, in: $0.context) ?? $0.description)
        }
    }

    /// Help sections, one per context.
    public static func helpSections(ascii: Bool) -> [(title: String, hints: [KeyHint])] {
        KeyContext.allCases.map { context in
            var hints = bindings.filter { $0.context == context }
                .map { KeyHint(keys: $0.keysLabel(ascii: ascii), description: $0.description) }
            if context == .editing {
                hints.insert(KeyHint(keys: "0-9 . e -", description: "type the new value"), at: 0)
            }
            if context == .compress {
                hints.insert(KeyHint(keys: "any key", description: "types into the calibration, target bpw and output rows"), at: 0)
            }
            if context == .generate || context == .newRun || context == .experiments || context == .compareField {
                hints.insert(KeyHint(keys: "any key", description: "types into the focused field"), at: 0)
            }
            return (context.title, hints)
        }
    }

    /// Lines the help overlay has in full (section titles, blank separators and one per hint).
    public static func helpLineCount(ascii: Bool) -> Int {
        let sections = helpSections(ascii: ascii)
        return sections.reduce(0) { $0 + $1.hints.count + 1 } + max(sections.count - 1, 0)
    }

    /// The largest useful help scroll offset for a terminal `height` rows tall (see `Overlays.help`).
    public static func maxHelpScroll(height: Int, ascii: Bool) -> Int {
        let lines = helpLineCount(ascii: ascii)
        let visible = min(height - 4, lines + 3) - 3
        return max(lines - max(visible, 0), 0)
    }

    private static func shortDescription(_ command: Command, in context: KeyContext) -> String? {
        switch command {
        case .accept where context == .picker: "open"
        case .accept where context == .newRun: "start"
        case .toggleRun: "run/pause"
        case .singleStep: "step"
        case .checkpoint: "save"
        case .nextPane: "pane"
        case .help: "help"
        case .quit: "quit"
        case .edit: "edit"
        case .confirm: "apply"
        case .cancel: "cancel"
        case .accept: "yes"
        case .reject: "no"
        case .close: "close"
        case .generateText: "generate"
        case .nextField: "field"
        case .toggleScreen: "back"
        case .startFilter: "filter"
        case .discard: "don't save"
        case .startExperiments: "queue runs"
        case .exportExperiments: "export"
        case .cancelExperiments: "cancel queue"
        case .sortNext: "sort"
        case .cyclePlotAxis: "plot x"
        case .editData: "data"
        case .addModel: "add"
        case .editPrompt: "side by side"
        case .exportComparison: "export"
        case .chooseOrApply: "apply"
        case .cancelPass: "cancel"
        case .scanSensitivity: "scan"
        default: nil
        }
    }
}
