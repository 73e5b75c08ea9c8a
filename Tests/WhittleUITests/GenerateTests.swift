// The Generate screen: typing goes into the focused field, Tab moves between fields, Enter validates
// and asks for a generation (one at a time), streamed text and timing land in the state; render
// snapshots at 80x24 and 160x48; and with a real session the text comes from a copy of the weights.

import Foundation
import Testing
import WhittleEngine

@testable import WhittleUI

@Suite struct GenerateTests {
    static func generateState(width: Int = 80, height: Int = 24) -> AppState {
        var state = AppState(width: width, height: height)
        _ = update(&state, .key(.character("g")))
        return state
    }

    func type(_ text: String, _ state: inout AppState) {
        for c in text { #expect(update(&state, .key(.character(c))).isEmpty) }
    }

    @Test func testGenerate_gOpensTheScreenAndEscReturns() {
        var state = Self.generateState()
        #expect(state.screen == .generate && state.keyContext == .generate)
        _ = update(&state, .key(.escape))
        #expect(state.screen == .train && state.keyContext == .global)
    }

    @Test func testGenerate_typingEditsTheFocusedFieldOnly() {
        var state = Self.generateState()
        for _ in 0..<6 { _ = update(&state, .key(.backspace)) }
        type("q? g", &state)
        #expect(state.generate[.prompt].text == "q? g", "q, ?, g and Space are text here, not commands")
        #expect(state.modal == nil && state.screen == .generate)
        _ = update(&state, .key(.tab))
        #expect(state.generate.focus == .temperature)
        _ = update(&state, .key(.end))
        type("5x", &state)
        #expect(state.generate[.temperature].text == "0.85", "numeric fields ignore letters")
        _ = update(&state, .key(.backTab))
        #expect(state.generate.focus == .prompt)
        _ = update(&state, .key(.up))
        #expect(state.generate.focus == .tokens)
        _ = update(&state, .key(.function(1)))
        #expect(state.modal == .help(scroll: 0))
    }

    @Test func testGenerate_enterValidatesAndAsksOnce() {
        var state = Self.generateState()
        let effects = update(&state, .key(.enter))
        #expect(effects == [.generate(GenerateRequest(prompt: "ROMEO:", temperature: 0.8, topK: 200, seed: 1337, count: 300))])
        #expect(state.generate.status == .copying && state.generate.output == "ROMEO:")
        #expect(update(&state, .key(.enter)).isEmpty, "one generation at a time")
        #expect(state.message?.contains("already generating") == true)
        _ = update(&state, .generationStarted(step: 42))
        _ = update(&state, .generationOutput("\nFirst"))
        _ = update(&state, .generationOutput(" line"))
        let summary = GenerationSummary(promptTokens: 6, generatedTokens: 300, prefillTokensPerSecond: 12_000,
                                        decodeMillisecondsPerToken: 0.456)
        _ = update(&state, .generationFinished(summary))
        #expect(state.generate.output == "ROMEO:\nFirst line")
        #expect(state.generate.status == .finished(step: 42, summary))
        #expect(!update(&state, .key(.enter)).isEmpty, "a new generation once the last one ended")
    }

    @Test func testGenerate_invalidFieldsAreNamed() {
        var state = Self.generateState()
        state.generate[.tokens] = TextField("0")
        #expect(update(&state, .key(.enter)).isEmpty)
        #expect(state.generate.error?.contains("tokens") == true)
        state.generate[.tokens] = TextField("10")
        state.generate[.temperature] = TextField("1.2.3")
        #expect(update(&state, .key(.enter)).isEmpty)
        #expect(state.generate.error?.contains("temperature") == true)
        state.generate[.temperature] = TextField("0")
        state.generate[.topK] = TextField("")
        state.generate[.prompt] = TextField("")
        #expect(update(&state, .key(.enter)).isEmpty)
        #expect(state.generate.error?.contains("prompt") == true)
        _ = update(&state, .key(.character("A")))
        #expect(state.generate.error == nil)
        #expect(update(&state, .key(.enter)) == [.generate(GenerateRequest(prompt: "A", temperature: 0, topK: nil,
                                                                             seed: 1337, count: 10))])
        _ = update(&state, .generationFailed("boom"))
        #expect(state.generate.status == .failed("boom"))
    }

    @Test(arguments: [(80, 24), (160, 48)])
    func testGenerate_renderSnapshot(size: (Int, Int)) {
        var state = Self.generateState(width: size.0, height: size.1)
        let empty = render(state, .empty, .builtinDefault).text
        #expect(empty.contains("whittle generate"))
        #expect(empty.contains("prompt ROMEO:"))
        #expect(empty.contains("temperature 0.8") && empty.contains("top-k 200") && empty.contains("seed 1337")
            && empty.contains("tokens 300"))
        #expect(empty.contains("Type a prompt and press Enter"))
        #expect(empty.contains("Enter generate"), "status bar shows the screen's keys")
        _ = update(&state, .key(.enter))
        #expect(render(state, .empty, .builtinDefault).text.contains("copying the weights"))
        _ = update(&state, .generationStarted(step: 1234))
        _ = update(&state, .generationOutput("\nBut soft, what light through yonder window breaks?"))
        let streaming = render(state, .empty, .builtinDefault)
        #expect(streaming.text.contains("generating from the weights of step 1,234"))
        #expect(streaming.text.contains("But soft, what light"))
        _ = update(&state, .generationFinished(GenerationSummary(
            promptTokens: 6, generatedTokens: 52, prefillTokensPerSecond: 23_456, decodeMillisecondsPerToken: 0.5)))
        let done = render(state, .empty, .builtinDefault)
        #expect(done.text.contains("weights of step 1,234"))
        #expect(done.text.contains("prefill 23.5k tok/s"))
        #expect(done.text.contains("decode 0.50 ms/token"))
        #expect(done.lines.allSatisfy { $0.count == size.0 })
    }

    @Test func testGenerate_longOutputKeepsTheNewestLinesInView() {
        var state = Self.generateState()
        _ = update(&state, .key(.enter))
        _ = update(&state, .generationOutput((1...60).map { "\nline \($0)" }.joined()))
        let text = render(state, .empty, .builtinDefault).text
        #expect(text.contains("line 60") && !text.contains("line 5\n"))
        var asciiState = AppState(width: 80, height: 24, useASCII: true)
        asciiState.screen = .generate
        #expect(render(asciiState, .empty, .builtinDefault).text.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func testGenerate_wrapBreaksAtWidthAndNewlines() {
        let lines = GenerateView.wrap("abcdefg\nhi", width: 3, rows: 10)
        #expect(lines.map { String($0.text) } == ["abc", "def", "g", "hi"])
        #expect(lines.map(\.start) == [0, 3, 6, 8])
        #expect(GenerateView.wrap("abcdefg", width: 3, rows: 2).map { String($0.text) } == ["def", "g"])
    }
}
