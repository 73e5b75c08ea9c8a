// Finding and loading theme files: the user's directory ($XDG_CONFIG_HOME/whittle/themes, else
// ~/.config/whittle/themes) first, then the project's `themes/` and `../share/whittle/themes` next to
// the executable. A theme that omits keys inherits them from the built-in default.

import Foundation

/// The themes available to the workbench, in the order `t` cycles through them.
public struct ThemeCatalog: Sendable {
    /// Loaded themes; the built-in default and mono are always present.
    public private(set) var themes: [Theme]
    /// Files that failed to parse, with the error to show the user.
    public private(set) var errors: [ThemeError]

    /// A catalog of the given themes (built-ins are added if missing).
    public init(themes: [Theme], errors: [ThemeError] = []) {
        var all = themes
        for builtin in [Theme.builtinDefault, Theme.monochrome] where !all.contains(where: { $0.name == builtin.name })
        {
            all.append(builtin)
        }
        let preferred = ["default", "light", "mono"]
        self.themes = all.sorted { lhs, rhs in
            let l = preferred.firstIndex(of: lhs.name) ?? preferred.count
            let r = preferred.firstIndex(of: rhs.name) ?? preferred.count
            return l != r ? l < r : lhs.name < rhs.name
        }
        self.errors = errors
    }

    /// Theme names in cycling order.
    public var names: [String] { themes.map(\.name) }

    /// The theme called `name`, if loaded.
    public func theme(named name: String) -> Theme? { themes.first { $0.name == name } }

    /// Directories searched for `*.theme` files, most specific first.
    /// - Parameters:
    ///   - environment: reads `XDG_CONFIG_HOME` and `HOME`.
    ///   - workingDirectory: the project checkout (its `themes/` is searched).
    ///   - executableDirectory: the binary's directory (`../share/whittle/themes` is searched).
    public static func searchDirectories(
        environment: [String: String], workingDirectory: String?,
        executableDirectory: String?
    ) -> [String] {
        var directories: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            directories.append(xdg + "/whittle/themes")
        } else if let home = environment["HOME"], !home.isEmpty {
            directories.append(home + "/.config/whittle/themes")
        }
        if let workingDirectory { directories.append(workingDirectory + "/themes") }
        if let executableDirectory { directories.append(executableDirectory + "/../share/whittle/themes") }
        return directories
    }

    /// Loads every `*.theme` in `directories`; an earlier directory wins for a repeated name.
    public static func load(from directories: [String]) -> ThemeCatalog {
        var themes: [Theme] = []
        var errors: [ThemeError] = []
        for directory in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files.sorted() where file.hasSuffix(".theme") {
                let name = String(file.dropLast(".theme".count))
                guard !themes.contains(where: { $0.name == name }) else { continue }
                guard let data = FileManager.default.contents(atPath: directory + "/" + file),
                    let text = String(data: data, encoding: .utf8)
                else {
                    errors.append(ThemeError(themeName: name, line: 0, message: "cannot read \(directory)/\(file)"))
                    continue
                }
                do {
                    themes.append(try Theme.parse(name: name, text: text).filled(from: .builtinDefault))
                } catch {
                    errors.append(error)
                }
            }
        }
        return ThemeCatalog(themes: themes, errors: errors)
    }
}

extension Theme {
    /// A copy where keys this theme does not mention take `fallback`'s colour.
    public func filled(from fallback: Theme) -> Theme {
        var copy = self
        for key in missingKeys { copy.colors[key] = .some(fallback.color(key)) }
        return copy
    }
}
