// Themes compiled into the binary, so the workbench has colours even when no `themes/` directory
// is found: the dark default (identical to themes/default.theme, checked by a test) and mono.

extension Theme {
    /// The dark default theme (same colours as `themes/default.theme`).
    public static let builtinDefault: Theme = {
        let hex: [String: String] = [
            "main_bg": "",
            "main_fg": "#D8DEE4",
            "title": "#E8C872",
            "hi_fg": "#F28C54",
            "selected_bg": "#2F4A5E",
            "selected_fg": "#FFFFFF",
            "inactive_fg": "#6B7280",
            "graph_text": "#9AA5B1",
            "div_line": "#3E4A56",
            "focus_line": "#7FB4E0",
            "status_bg": "#1F2A33",
            "status_fg": "#C9D3DC",
            "input_bg": "#32404C",
            "input_fg": "#FFFFFF",
            "loss_train": "#5FD3A8",
            "loss_val": "#F2B84B",
            "lr": "#8AB4F8",
            "grad": "#E879A6",
            "tokens": "#67D0E8",
            "mem_weights": "#5B9BD5",
            "mem_grads": "#E67E6E",
            "mem_optimizer": "#B48EDB",
            "mem_master": "#7FC97F",
            "mem_activations": "#F0C05A",
            "mem_workspace": "#8C96A0",
            "mem_rss": "#FF6B6B",
            "warning": "#F0A202",
            "error": "#FF5C5C",
            "ok": "#56C271",
            "marker": "#C792EA",
        ]
        var colors: [ThemeKey: RGB?] = [:]
        for key in ThemeKey.allCases { colors[key] = .some(hex[key.rawValue].flatMap { RGB(hex: $0) }) }
        return Theme(name: "default", colors: colors)
    }()

    /// The monochrome theme: every key empty, selection by reverse video (same as `themes/mono.theme`).
    public static let monochrome: Theme = {
        var colors: [ThemeKey: RGB?] = [:]
        for key in ThemeKey.allCases { colors[key] = .some(nil) }
        return Theme(name: "mono", colors: colors)
    }()
}
