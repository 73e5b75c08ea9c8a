/* ncursesw for Swift: wide-character macros, and functions for the C globals and macros
   that Swift 6 cannot import (stdscr, COLS, LINES, COLORS, COLOR_PAIR, A_*). */
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <ncurses.h>

static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t cn_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline int cn_put_wch(int y, int x, wchar_t wc, attr_t a, short pair) {
    cchar_t cc; wchar_t s[2] = { wc, 0 };
    setcchar(&cc, s, a, pair, NULL);
    return mvadd_wch(y, x, &cc);
}
