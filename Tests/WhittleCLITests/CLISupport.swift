// Plumbing for the command-line tests: finding the built `whittle` binary, running it as a
// subprocess in a scratch directory, and the tiny corpus and config every test trains on.

import Foundation
import Testing
import WhittleTestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one run of `whittle` produced.
struct RunResult {
    /// Exit status, or 128 + signal number if the process was killed by a signal.
    var status: Int32
    var stdout: Data
    var stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Everything, for failure messages.
    var transcript: String { "exit \(status)\n--- stdout\n\(stdoutText)\n--- stderr\n\(stderr)" }
}

struct MissingBinary: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
        "the whittle binary was not found; build it first (`swift build`). Looked in:\n  " + searched.joined(separator: "\n  ")
    }
}

/// Collects bytes written by another thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var storage = Data()
    var data: Data { lock.withLock { storage } }
    func set(_ data: Data) { lock.withLock { storage = data } }
}

/// A running `whittle` process; `finish()` waits for it and collects its output.
struct Launched {
    let process: Process
    private let stdoutPipe: Pipe
    private let stderr: Collected
    private let stderrDone: DispatchSemaphore
    private let finished: Collected

    var pid: Int32 { process.processIdentifier }

    init(binary: URL, arguments: [String], directory: URL, environment: [String: String], timeout: Double) throws {
        process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = environment
        stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        stderr = Collected()
        stderrDone = DispatchSemaphore(value: 0)
        finished = Collected()
        let reader = stderrPipe.fileHandleForReading
        let box = stderr, done = stderrDone
        DispatchQueue.global().async {
            box.set(reader.readDataToEndOfFile())
            done.signal()
        }
        // A hung child would hang the suite: kill it after `timeout` seconds.
        let pid = process.processIdentifier, flag = finished
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if flag.data.isEmpty { kill(pid, SIGKILL) }
        }
    }

    func finish() -> RunResult {
        let out = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        stderrDone.wait()
        process.waitUntilExit()
        finished.set(Data([1]))
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return RunResult(status: status, stdout: out, stderr: String(decoding: stderr.data, as: UTF8.self))
    }
}

enum CLI {
    /// Candidate locations of the binary: next to the test bundle (the build directory of this
    /// configuration), then `.build/debug/whittle` in the repository.
    static let candidates: [URL] = {
        var urls: [URL] = []
        let bundle = Bundle.main.bundleURL
        urls.append(bundle.appendingPathComponent("whittle"))
        urls.append(bundle.deletingLastPathComponent().appendingPathComponent("whittle"))
        urls.append(Repository.root.appendingPathComponent(".build/debug/whittle"))
        return urls
    }()

    static func binary() throws -> URL {
        for url in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url
            }
        }
        throw MissingBinary(searched: candidates.map(\.path))
    }
}

/// A deterministic corpus of about 4 KB: lines of eight lowercase words ending in a full stop.
let tinyCorpus = TinyCorpus.seededWords(bytes: 4000)

/// Settings of the tiny model every test trains (each run takes a fraction of a second).
let tinySettings: [(String, String)] = [
    ("n_layer", "1"), ("n_head", "2"), ("n_embd", "16"), ("block_size", "8"),
    ("dataset", "\"corpus.txt\""),
    ("batch_size", "2"), ("max_iters", "4"), ("learning_rate", "1e-3"), ("min_lr", "1e-4"),
    ("warmup_iters", "1"), ("lr_decay_iters", "8"),
    ("eval_interval", "2"), ("eval_iters", "1"), ("checkpoint_interval", "0"), ("seed", "1337"),
    ("workers", "1"), ("blas_threads", "1"),
]

/// A TOML config: the tiny settings with `changes` applied (a value replaces the key's line,
/// a new key is appended), minus the keys in `removing`.
func tinyConfig(_ changes: [String: String] = [:], removing: Set<String> = []) -> String {
    var lines: [String] = ["# tiny config for the command-line tests"]
    for (key, value) in tinySettings where !removing.contains(key) {
        lines.append("\(key) = \(changes[key] ?? value)")
    }
    for (key, value) in changes.sorted(by: { $0.key < $1.key }) where !tinySettings.contains(where: { $0.0 == key }) {
        lines.append("\(key) = \(value)")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// A scratch directory holding `corpus.txt` and `config.toml`; the child runs with it as its
/// working directory, so relative paths (the dataset, `--out run`) land inside it.
final class Workspace {
    private let directory = TemporaryDirectory(prefix: "whittle-cli")
    var url: URL { directory.url }

    init(config: String = tinyConfig(), corpus: [UInt8] = Array(tinyCorpus.utf8)) throws {
        try write("corpus.txt", corpus)
        try write("config.toml", Array(config.utf8))
    }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: url.appendingPathComponent(relative))
    }

    func write(_ relative: String, text: String) throws { try write(relative, Array(text.utf8)) }

    func read(_ relative: String) throws -> Data { try Data(contentsOf: url.appendingPathComponent(relative)) }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    /// Every file and directory below the workspace with its size, sorted: a snapshot to prove
    /// that a failed command wrote nothing.
    func tree() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        var entries: [String] = []
        while let name = enumerator?.nextObject() as? String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path(name))
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let isDirectory = (attributes?[.type] as? FileAttributeType) == .typeDirectory
            entries.append(isDirectory ? name + "/" : "\(name) (\(size) bytes)")
        }
        return entries.sorted()
    }

    func launch(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 60) throws -> Launched {
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        for (key, value) in extra { environment[key] = value }
        return try Launched(binary: try CLI.binary(), arguments: arguments, directory: url,
                            environment: environment, timeout: timeout)
    }

    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> RunResult {
        try launch(arguments, environment: environment).finish()
    }

    /// Trains the tiny model into `run/` and returns its final checkpoint's relative path.
    func trainTinyModel(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try run("train", "--config", "config.toml", "--out", "run", "--quiet")
        try #require(result.status == 0, "training the tiny model failed:\n\(result.transcript)", sourceLocation: sourceLocation)
        return "run/ckpt-000004"
    }

    /// Copies a trained checkpoint's model files (optionally without the manifest) to `name/`.
    func copyModel(from checkpoint: String, to name: String, files: [String]) throws {
        try FileManager.default.createDirectory(at: url.appendingPathComponent(name), withIntermediateDirectories: true)
        for file in files {
            try FileManager.default.copyItem(atPath: path(checkpoint + "/" + file), toPath: path(name + "/" + file))
        }
    }

    /// Lines of a run's log.jsonl.
    func logLines(_ run: String) throws -> [String] {
        String(decoding: try read(run + "/log.jsonl"), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

/// Checks a refused command: the exit status, "error: " plus every expected fragment on stderr,
/// nothing on stdout, and the workspace exactly as it was (no run directory, no half checkpoint).
func expectRefused(_ result: RunResult, status: Int32, mentioning fragments: [String],
                   workspace: Workspace, unchanged before: [String],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == status, "wrong exit status\n\(result.transcript)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("error: "), "stderr does not start with `error: `\n\(result.transcript)",
            sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(result.stderr.contains(fragment), "stderr does not mention `\(fragment)`\n\(result.transcript)",
                sourceLocation: sourceLocation)
    }
    #expect(result.stdout.isEmpty, "a refused command printed results\n\(result.transcript)", sourceLocation: sourceLocation)
    #expect(workspace.tree() == before, "a refused command wrote files", sourceLocation: sourceLocation)
}

/// The raw JSON text of `key`'s value in a one-line JSON object written with sorted keys
/// (numbers stay exactly as written; an object value is returned with its braces).
func jsonField(_ line: String, _ key: String) -> String? {
    guard let start = line.range(of: "\"\(key)\":") else { return nil }
    var value = ""
    var depth = 0
    for character in line[start.upperBound...] {
        if depth == 0, character == "," || character == "}" { break }
        if character == "{" { depth += 1 }
        if character == "}" { depth -= 1 }
        value.append(character)
    }
    return value
}
