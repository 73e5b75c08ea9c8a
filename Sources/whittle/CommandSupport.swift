// Shared plumbing for the subcommands: turning engine errors into messages and exit codes,
// and writing to stderr.

import ArgumentParser
import Foundation
import WhittleEngine

/// Writes a line to standard error (messages and progress; stdout carries only results).
func printError(_ text: String, terminator: String = "\n") {
    FileHandle.standardError.write(Data((text + terminator).utf8))
}

/// Whether standard error is an interactive terminal (progress bars only then).
var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

/// Runs `body`, turning a `WhittleError` into "error: ..." plus its hint on stderr and a non-zero exit:
/// 64 (EX_USAGE) for invalid settings, 65 (EX_DATAERR) for bad data or files, 74 (EX_IOERR) for I/O.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as WhittleError {
        printError("error: \(error.message)")
        if !error.hint.isEmpty { printError("  hint: \(error.hint)") }
        switch error.kind {
        case .invalidConfig, .needsConfirmation: throw ExitCode(64)
        case .invalidData, .invalidFile: throw ExitCode(65)
        case .io: throw ExitCode(74)
        case .numeric: throw ExitCode(70)
        case .cancelled: throw ExitCode(130)
        case .busy: throw ExitCode(75)
        }
    }
}

/// Formats seconds as "1h02m", "3m05s" or "12.3s".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
    return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60)
}

/// JSON text of an Encodable value, keys sorted.
func jsonText<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The exit codes of every subcommand, for `--help` (the README's table says the same).
let exitCodeHelp = """
Exit codes: 0 done; 1 a sweep finished but some of its runs failed; 2 the workbench has no usable terminal; \
64 invalid arguments or settings, a request larger than this machine's memory, or a run estimated to take over an hour without --force; \
65 bad data or model files; 70 a non-finite value stopped training; 74 an I/O error (disk full, permissions; the run stays resumable); \
75 the run directory is in use by another process; 129, 130, 143 stopped by SIGHUP, Ctrl-C (SIGINT), SIGTERM after saving a checkpoint.
"""

/// "error: unknown subcommand ..." when `word` (the first argument) is neither an option nor a
/// subcommand name, with the closest name; nil otherwise.
func unknownSubcommandMessage(_ word: String) -> String? {
    let names = WhittleCommand.configuration.subcommands.map { $0._commandName } + ["help"]
    guard !word.hasPrefix("-"), !names.contains(word) else { return nil }
    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
    let closest = names.min { distance(word, $0) < distance(word, $1) }!
    let suggestion = distance(word, closest) <= 2 ? " Did you mean '\(closest)'?" : ""
    return "error: unknown subcommand '\(word)'.\(suggestion)\n  hint: subcommands: \(names.dropLast().joined(separator: ", ")); `whittle --help` explains them"
}
