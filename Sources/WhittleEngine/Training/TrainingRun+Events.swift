// Events between steps in the run log: a prune-now or quantize-now writes one JSON line
// (`{"event": "prune", "step": N, ...}`) into log.jsonl beside the step lines. Readers that want steps
// skip lines that do not decode as a StepRecord; a resume keeps event lines up to the checkpoint's
// step, like step lines.

import Foundation

extension TrainingRun {
    /// Appends `event` to log.jsonl.
    public func record(_ event: CompressionEvent) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = [UInt8](try encoder.encode(event))
        line.append(0x0A)
        try FileIO.append(line, to: directory + "/" + Self.logName)
    }

    /// The compression events in a run directory's log.jsonl, oldest first.
    public static func compressionEvents(in directory: String) throws -> [CompressionEvent] {
        let path = directory + "/" + logName
        guard FileIO.exists(path) else { return [] }
        return String(decoding: try FileIO.readFile(path), as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(CompressionEvent.self, from: Data($0.utf8))
        }
    }

    /// Whether a log line is kept when the log is cut back to `step` on resume: steps and events up to it.
    static func keepsLogLine(_ line: Substring, throughStep step: Int) -> Bool {
        let data = Data(line.utf8)
        if let record = try? JSONDecoder().decode(StepRecord.self, from: data) { return record.step <= step }
        if let event = try? JSONDecoder().decode(CompressionEvent.self, from: data) { return event.step <= step }
        return false
    }
}
