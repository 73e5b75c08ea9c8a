// Entry point: parses the command line and runs a subcommand (see WhittleCommand). A first word
// that is not an option and names no subcommand is refused here with a suggestion, instead of
// being passed to the default subcommand (the workbench), whose usage would not explain it.
import Foundation

if let word = CommandLine.arguments.dropFirst().first, let message = unknownSubcommandMessage(word) {
    printError(message)
    exit(64)
}
WhittleCommand.main()
