// The prune-now / quantize-now form drawn over the Train screen: two choice rows, what the request
// does, the keys, and the last result (so re-quantizing later can be read against it).

enum LiveCompressionView {
    static func renderForm(_ form: LiveCompressForm, _ state: AppState, _ theme: Theme, area: Rect,
                           into screen: inout Screen) {
        let g = state.glyphs
        let title = form.kind == .prune ? "prune now" : "quantize now"
        let inner = Overlays.dialog(
            into: &screen, area: area, width: min(area.width, 66), height: 10, title: title, style: theme.base,
            borderStyle: theme.style(.focusedDivider), titleStyle: theme.style(.title, bold: true), glyphs: g)
        let body = inner.inset(left: 1, right: 1)
        for (row, item) in form.rows.enumerated() {
            let y = body.y + row
            let focused = row == form.focus
            screen.put(item.label, x: body.x, y: y, style: theme.style(.inactiveForeground))
            let value = "\(g.arrowLeft) \(item.value) \(g.arrowRight)"
            let style = focused ? theme.style(.highlight, bold: true).reversed() : theme.base
            screen.put(value, in: Rect(x: body.x + 8, y: y, width: body.width - 8, height: 1), row: y, style: style,
                       ellipsis: g.ellipsis)
        }
        screen.put(form.explanation, in: body, row: body.y + 4, style: theme.base, ellipsis: g.ellipsis)
        if let last = state.liveCompression.last {
            screen.put("last: " + last.sentence, in: body, row: body.y + 5, style: theme.style(.inactiveForeground),
                       ellipsis: g.ellipsis)
        }
        screen.put("Enter apply  \(g.arrowLeft)/\(g.arrowRight) choose  Tab row  Esc cancel", in: body, row: body.maxY - 1,
                   style: theme.style(.highlight, bold: true), ellipsis: g.ellipsis)
    }
}
