// The root command: `whittle` with no subcommand opens the workbench; subcommands script the engine.

import ArgumentParser
import WhittleEngine

struct WhittleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whittle",
        abstract: "A terminal workbench for training and compressing small language models on the CPU.",
        version: "0.1.0",
        subcommands: [WorkbenchCommand.self, TrainCommand.self, EvalCommand.self, CompareCommand.self, GenerateCommand.self,
                      QuantizeCommand.self, PruneCommand.self, DistillCommand.self, ExportCommand.self, BenchCommand.self,
                      SweepCommand.self],
        defaultSubcommand: WorkbenchCommand.self
    )
}
