// The boundary between the pure UI and a real (or fake) terminal: something that reports its
// size, turns input into Actions and shows Screens. WhittleCurses implements it over ncursesw.

/// A terminal the workbench can drive.
public protocol Terminal: AnyObject {
    /// Columns and rows right now.
    var size: (width: Int, height: Int) { get }
    /// The next input as an Action, waiting at most `timeoutMilliseconds`; nil on timeout.
    func nextAction(timeoutMilliseconds: Int) -> Action?
    /// Shows `screen` (implementations write only what changed since the last call).
    func present(_ screen: Screen)
}
