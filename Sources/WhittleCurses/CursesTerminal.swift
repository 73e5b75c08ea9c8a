// The only code that calls ncursesw: presents a Screen on the real terminal.

import CNCurses
import WhittleUI

/// Whether the process's locale uses UTF-8 once `setlocale` has run.
public func localeIsUTF8() -> Bool {
    setlocale(LC_ALL, "")
    guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
    return String(cString: codeset).uppercased().contains("UTF")
}
