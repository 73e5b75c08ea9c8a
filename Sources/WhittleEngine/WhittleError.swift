// The one error type the engine throws. Every case carries what went wrong and what the
// user can do about it, so the CLI and the TUI can show both without knowing the details.

/// An error the user can act on: `message` says what is wrong, `hint` says how to fix it.
public struct WhittleError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Broad kind of failure, for exit codes and tests.
    public enum Kind: String, Sendable {
        case invalidConfig      // a setting is out of range or inconsistent
        case invalidData        // a corpus or prompt cannot be used
        case invalidFile        // a model, checkpoint or tensor file is malformed
        case io                 // the file system refused
        case numeric            // a non-finite value appeared
        case cancelled
        case needsConfirmation  // fits, but will take very long: the user must agree (--force, a dialog)
        case busy               // another process holds the run directory
    }

    public var kind: Kind
    public var message: String
    public var hint: String

    public init(_ kind: Kind, _ message: String, hint: String = "") {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.isEmpty ? message : "\(message)\n  hint: \(hint)" }

    public static func config(_ message: String, hint: String = "") -> WhittleError {
        WhittleError(.invalidConfig, message, hint: hint)
    }
    public static func data(_ message: String, hint: String = "") -> WhittleError {
        WhittleError(.invalidData, message, hint: hint)
    }
    public static func file(_ message: String, hint: String = "") -> WhittleError {
        WhittleError(.invalidFile, message, hint: hint)
    }
    public static func io(_ message: String, hint: String = "") -> WhittleError {
        WhittleError(.io, message, hint: hint)
    }
}
