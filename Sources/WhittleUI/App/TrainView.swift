// The Train screen's panes: loss chart (train raw + EMA, validation), learning-rate and
// gradient-norm charts, tokens/s sparkline, the hyperparameter panel and the memory ledger.

/// Renders the Train screen body.
enum TrainView {
    static func render(
        _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme, cache: RenderCache,
        into screen: inout Screen
    ) {
        let layout = TrainLayout(width: screen.width, height: screen.height,
                                 showsPrecision: !snapshot.flushedGradients.isEmpty)
        renderCharts(state, snapshot, theme, layout, cache: cache, into: &screen)
        HyperparameterPanel.render(state, snapshot, theme, area: layout.hyperparameters, into: &screen)
        MemoryPanel.render(state, snapshot, theme, area: layout.memory, into: &screen)
    }

    /// A pane frame: the focused pane's border uses `focus_line`.
    static func frame(
        _ rect: Rect, title: String, focused: Bool, _ state: AppState, _ theme: Theme,
        into screen: inout Screen
    ) -> Rect {
        screen.box(
            rect, title: title, glyphs: state.glyphs,
            style: theme.style(focused ? .focusedDivider : .divider, bold: focused),
            titleStyle: theme.style(.title, bold: true))
    }

    /// The raw series (faint) and its debiased EMA on top.
    static func smoothedPair(
        _ id: String, _ metric: [MetricPoint], key: ThemeKey, _ state: AppState, _ theme: Theme, cache: RenderCache
    ) -> [ChartLayer] {
        let raw = cache.raw(id, metric, axis: state.chart.xAxis)
        guard state.chart.smoothing > 0 else { return [ChartLayer(summary: raw, style: theme.style(key))] }
        let smooth = cache.smoothed(id, metric, axis: state.chart.xAxis, beta: state.chart.smoothing)
        return [
            ChartLayer(summary: raw, style: theme.style(key, dim: true)),
            ChartLayer(summary: smooth, style: theme.style(key, bold: true)),
        ]
    }

    static func renderCharts(
        _ state: AppState, _ snapshot: TrainingMetricsSnapshot, _ theme: Theme,
        _ layout: TrainLayout, cache: RenderCache, into screen: inout Screen
    ) {
        let focused = state.focus == .charts
        let axis = state.chart.xAxis
        let options = LineChartOptions(
            symbols: state.glyphs.chartSymbols, logScale: state.chart.logScale,
            xFormat: axis == .step ? .number : .duration,
            labelStyle: theme.style(.graphText), markerStyle: theme.style(.marker))
        let markers = snapshot.changes.map { axis == .step ? Double($0.step) : $0.seconds }
            + snapshot.compressions.map { axis == .step ? Double($0.step) : $0.seconds }
        let lossTitle = "loss" + (state.chart.logScale ? " (log)" : "") + " by \(axis.rawValue)"
        let lossInner = frame(layout.lossChart, title: lossTitle, focused: focused, state, theme, into: &screen)
        var loss = smoothedPair("train", snapshot.trainLoss, key: .lossTrain, state, theme, cache: cache)
        loss.append(
            ChartLayer(summary: cache.raw("val", snapshot.validationLoss, axis: axis),
                       style: theme.style(.lossValidation, bold: true)))
        let compressions = snapshot.compressions.map {
            ChartMarker(x: axis == .step ? Double($0.step) : $0.seconds, label: $0.label)
        }
        LineChart.draw(
            into: &screen, area: lossInner, layers: loss, markers: markers, labelledMarkers: compressions,
            options: options, glyphs: state.glyphs)
        legend(
            [
                ("train", snapshot.trainLoss.last?.value, .lossTrain),
                ("val", snapshot.validationLoss.last?.value, .lossValidation),
            ],
            rect: layout.lossChart, titleWidth: lossTitle.count, state, theme, into: &screen)

        let lrTitle = layout.learningRateChart.width < 34 ? "lr" : "learning rate"
        let lrInner = frame(layout.learningRateChart, title: lrTitle, focused: focused, state, theme, into: &screen)
        LineChart.draw(
            into: &screen, area: lrInner,
            layers: [
                ChartLayer(
                    summary: cache.raw("lr", snapshot.learningRate, axis: axis),
                    style: theme.style(.learningRate, bold: true))
            ],
            markers: markers, options: options, glyphs: state.glyphs)
        legend(
            [("", snapshot.learningRate.last?.value, .learningRate)], rect: layout.learningRateChart,
            titleWidth: lrTitle.count, state, theme, into: &screen)

        let gradInner = frame(layout.gradientChart, title: "grad norm", focused: focused, state, theme, into: &screen)
        LineChart.draw(
            into: &screen, area: gradInner,
            layers: smoothedPair("grad", snapshot.gradientNorm, key: .gradientNorm, state, theme, cache: cache),
            markers: markers, options: options, glyphs: state.glyphs)
        legend(
            [("", snapshot.gradientNorm.last?.value, .gradientNorm)], rect: layout.gradientChart, titleWidth: 9, state,
            theme, into: &screen)

        if let rect = layout.precisionChart {
            renderPrecision(snapshot, rect: rect, options: options, markers: markers, focused: focused, state, theme,
                            cache: cache, into: &screen)
        }

        let tokensInner = frame(layout.tokens, title: "tokens/s", focused: focused, state, theme, into: &screen)
        let current = snapshot.tokensPerSecond.last.map { NumberFormat.compact($0.value) + " tok/s" } ?? "--"
        let sparkArea = tokensInner.inset(right: current.count + 1)
        Sparkline.draw(
            into: &screen, area: sparkArea,
            values: snapshot.tokensPerSecond.suffix(max(sparkArea.width, 0)).map(\.value),
            style: theme.style(.tokens), glyphs: state.glyphs, fromZero: false)
        screen.put(
            current, x: tokensInner.maxX - current.count, y: tokensInner.y, style: theme.style(.tokens, bold: true))
    }

    /// The 16-bit pane: gradients flushed to zero per step and, under fp16 loss scaling, the scale
    /// (log axis) above them when there is room, with the skipped-step count in the title.
    static func renderPrecision(
        _ snapshot: TrainingMetricsSnapshot, rect: Rect, options: LineChartOptions, markers: [Double], focused: Bool,
        _ state: AppState, _ theme: Theme, cache: RenderCache, into screen: inout Screen
    ) {
        let axis = state.chart.xAxis
        var flushedRect = rect
        if !snapshot.lossScale.isEmpty {
            let title = snapshot.skippedSteps > 0 ? "scale, \(snapshot.skippedSteps) skipped" : "loss scale"
            if rect.height >= 10 {
                let parts = rect.splitRows([.fill, .fill])
                flushedRect = parts[1]
                let inner = frame(parts[0], title: title, focused: focused, state, theme, into: &screen)
                var scaleOptions = options
                scaleOptions.logScale = true
                LineChart.draw(
                    into: &screen, area: inner,
                    layers: [ChartLayer(summary: cache.raw("scale", snapshot.lossScale, axis: axis),
                                        style: theme.style(.learningRate, bold: true))],
                    markers: markers, options: scaleOptions, glyphs: state.glyphs)
                legend([("", snapshot.lossScale.last?.value, .learningRate)], rect: parts[0], titleWidth: title.count,
                       state, theme, into: &screen)
            }
        }
        let title = rect.width < 24 ? "flushed" : "flushed grads"
        let inner = frame(flushedRect, title: title, focused: focused, state, theme, into: &screen)
        LineChart.draw(
            into: &screen, area: inner,
            layers: [ChartLayer(summary: cache.raw("flushed", snapshot.flushedGradients, axis: axis),
                                style: theme.style(.tokens, bold: true))],
            markers: markers, options: options, glyphs: state.glyphs)
        var items: [(String, Double?, ThemeKey)] = [("", snapshot.flushedGradients.last?.value, .tokens)]
        if flushedRect == rect, let scale = snapshot.lossScale.last?.value { items.append(("×", scale, .learningRate)) }
        legend(items, rect: flushedRect, titleWidth: title.count, state, theme, into: &screen)
    }

    /// Latest values written into the top border, right-aligned: "● train 2.134 ● val 2.301".
    static func legend(
        _ items: [(String, Double?, ThemeKey)], rect: Rect, titleWidth: Int, _ state: AppState, _ theme: Theme,
        into screen: inout Screen
    ) {
        let texts = items.compactMap { item -> (String, ThemeKey)? in
            guard let value = item.1 else { return nil }
            let label = item.0.isEmpty ? "" : item.0 + " "
            return ("\(state.glyphs.bullet) \(label)\(NumberFormat.compact(value)) ", item.2)
        }
        let width = texts.reduce(0) { $0 + $1.0.count }
        var x = rect.maxX - 1 - width
        guard x > rect.x + titleWidth + 4 else { return }
        for (text, key) in texts { x = screen.put(text, x: x, y: rect.y, style: theme.style(key, bold: true)) }
    }
}
