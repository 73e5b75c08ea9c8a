// The Generate screen: the form (prompt, temperature, top-k, seed, tokens) on top, the streamed text
// below (wrapped, the newest lines kept in view) and the timing of the last generation.

enum GenerateView {
    static func render(_ state: AppState, _ theme: Theme, into screen: inout Screen) {
        let form = state.generate
        let body = screen.bounds.inset(top: 1, bottom: 1)
        let inner = screen.box(
            body, title: "generate", glyphs: state.glyphs, style: theme.style(.focusedDivider),
            titleStyle: theme.style(.title, bold: true))
        guard inner.width > 10, inner.height > 6 else { return }
        let label = theme.style(.inactiveForeground)
        let area = inner.inset(left: 1, right: 1)
        var y = area.y
        // Prompt on its own row, the numbers on the next.
        var x = screen.put("prompt ", x: area.x, y: y, style: label)
        drawField(form, .prompt, theme, Rect(x: x, y: y, width: area.maxX - x, height: 1), into: &screen)
        y += 1
        x = area.x
        for (field, width) in [(GenerateForm.Field.temperature, 6), (.topK, 6), (.seed, 12), (.tokens, 6)] {
            guard x + field.rawValue.count + width + 2 <= area.maxX else { break }
            x = screen.put(field.rawValue + " ", x: x, y: y, style: label)
            drawField(form, field, theme, Rect(x: x, y: y, width: width, height: 1), into: &screen)
            x += width + 2
        }
        y += 1
        if let error = form.error {
            screen.put(error, in: area, row: y, style: theme.style(.error), ellipsis: state.glyphs.ellipsis)
        } else {
            screen.put(statusLine(form.status, state.glyphs), in: area, row: y, style: statusStyle(form.status, theme),
                       ellipsis: state.glyphs.ellipsis)
        }
        y += 1
        screen.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), with: state.glyphs.horizontal,
                    style: theme.style(.divider))
        y += 1
        let output = Rect(x: area.x, y: y, width: area.width, height: area.maxY - y)
        guard output.height > 0 else { return }
        if form.output.isEmpty {
            screen.put("Type a prompt and press Enter: the text is sampled from a copy of the weights as they are now",
                       in: output, row: output.y, style: label, ellipsis: state.glyphs.ellipsis)
            screen.put("(training keeps running; press Enter again later to see what the model has learned).",
                       in: output, row: output.y + 1, style: label, ellipsis: state.glyphs.ellipsis)
            return
        }
        let lines = wrap(form.output, width: output.width, rows: output.height)
        let promptCount = form.output.hasPrefix(form[.prompt].text) ? form[.prompt].text.count : 0
        for (row, line) in lines.enumerated() {
            for (i, character) in line.text.enumerated() {
                let style = line.start + i < promptCount ? theme.style(.highlight, bold: true) : theme.base
                screen.set(character, x: output.x + i, y: output.y + row, style: style)
            }
        }
    }

    /// Draws a field: the focused one with its cursor, the others as plain text.
    static func drawField(_ form: GenerateForm, _ field: GenerateForm.Field, _ theme: Theme, _ rect: Rect,
                          into screen: inout Screen) {
        let value = form[field]
        if form.focus == field {
            value.draw(into: &screen, area: rect, style: theme.input)
        } else {
            var style = theme.input
            style.dim = true
            screen.fill(rect, style: style)
            screen.put(String(value.text.prefix(rect.width)), x: rect.x, y: rect.y, style: style)
        }
    }

    static func statusLine(_ status: GenerationStatus, _ g: Glyphs) -> String {
        switch status {
        case .ready: ["Enter generates", "Tab moves between fields", "Esc returns to training"].joined(separator: g.separator)
        case .copying: "copying the weights at the next step boundary..."
        case .generating(let step): "generating from the weights of step \(NumberFormat.grouped(step))..."
        case .finished(let step, let s):
            [
                "weights of step \(NumberFormat.grouped(step))",
                "prefill \(NumberFormat.compact(s.prefillTokensPerSecond)) tok/s",
                "decode \(format2(s.decodeMillisecondsPerToken)) ms/token",
                "\(s.promptTokens)+\(s.generatedTokens) tokens",
            ].joined(separator: g.separator)
        case .failed(let message): "failed: " + message
        }
    }

    static func statusStyle(_ status: GenerationStatus, _ theme: Theme) -> CellStyle {
        switch status {
        case .failed: theme.style(.error)
        case .finished: theme.style(.ok, bold: true)
        case .copying, .generating: theme.style(.warning)
        case .ready: theme.style(.inactiveForeground)
        }
    }

    /// Two decimals without Foundation's String(format:).
    static func format2(_ value: Double) -> String {
        guard value.isFinite else { return "--" }
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The last `rows` lines of `text` wrapped at `width` (newlines break lines), each with the
    /// character offset where it starts.
    static func wrap(_ text: String, width: Int, rows: Int) -> [(start: Int, text: [Character])] {
        guard width > 0, rows > 0 else { return [] }
        var lines: [(start: Int, text: [Character])] = []
        var current: [Character] = []
        var start = 0
        for (offset, character) in text.enumerated() {
            if character.isNewline {
                lines.append((start, current))
                current = []
                start = offset + 1
                continue
            }
            if current.count == width {
                lines.append((start, current))
                current = []
                start = offset
            }
            current.append(character == "\t" ? " " : character)
        }
        lines.append((start, current))
        return Array(lines.suffix(rows))
    }
}
