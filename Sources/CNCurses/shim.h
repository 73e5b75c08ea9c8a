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

/* Keys: get_wch is a macro over stdscr. Returns OK, KEY_CODE_YES or ERR. */
static inline int cn_get_wch(wint_t *ch) { return wget_wch(stdscr, ch); }
static inline int cn_key_code_yes(void) { return KEY_CODE_YES; }
static inline int cn_key_f(int n) { return KEY_F(n); }

/* Mouse: the BUTTON* masks are macros Swift cannot import. */
static inline void cn_mouse_enable(int on) {
    mousemask(on ? (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED) : 0, NULL);
    mouseinterval(0);
}
/* Reads the pending mouse event: 1 press, 2 wheel up, 3 wheel down, 0 other or none. */
static inline int cn_read_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *x = event.x; *y = event.y;
    if (event.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 2;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 3;
#endif
    return 0;
}

/* Capabilities before initscr (prototypes as in <term.h>, which is not included: its macros would
   reach Swift). 1 when `term` can address the cursor (cup), 0 when it cannot, -1 when terminfo does
   not know it; *colors is its colour count (-1 when it has none). */
extern int setupterm(const char *, int, int *);
extern char *tigetstr(const char *);
extern int tigetnum(const char *);
static inline int cn_terminal_capabilities(const char *term, int *colors) {
    int err = 0;
    *colors = -1;
    if (setupterm(term, 1, &err) != OK) return -1;
    char *cup = tigetstr("cup");
    *colors = tigetnum("colors");
    return (cup != NULL && cup != (char *)-1) ? 1 : 0;
}
