// How an experiment run is started: each run is a child `whittle train` process, so its peak RSS is
// its own (getrusage's peak is per process and never falls). The protocol lets tests run a whole
// queue without processes.

import Foundation

/// Starts one child run and waits for it.
public protocol ExperimentLauncher: Sendable {
    /// Runs `whittle` with `arguments` (stdout and stderr to `logPath`) and returns its exit status.
    /// Calls `cancelled` about every 50 ms while the child runs and ends the child once it returns true.
    func run(arguments: [String], logPath: String, cancelled: @escaping @Sendable () -> Bool) -> Int32
}

/// Runs the current executable (`/proc/self/exe`, i.e. `whittle`) as the child.
public struct ProcessExperimentLauncher: ExperimentLauncher {
    public var executable: URL

    public init(executable: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()) {
        self.executable = executable
    }

    public func run(arguments: [String], logPath: String, cancelled: @escaping @Sendable () -> Bool) -> Int32 {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let handle = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        defer { try? handle?.close() }
        do { try process.run() } catch { return 127 }
        while process.isRunning {
            if cancelled() {
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
