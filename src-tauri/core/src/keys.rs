//! Which key presses the kiosk swallows, lets through, or turns into one of its own actions.
//!
//! A person must not leave the borne's pages with a browser's shortcuts (reload, open, save, print,
//! view source, devtools, back and forward, zoom…), but must type freely in a site's forms: letters,
//! accents, AltGr characters, Tab, Enter, and the editing shortcuts (copy, cut, paste, select all,
//! undo, redo, move by word). This module decides, from plain values the shell reads off a
//! `GdkEventKey` (the keyval's name, as `gdk::keys::Key::name()` gives it, and the state bits), and
//! knows nothing of GTK.
//!
//! The shell's call sites it replaces (`src-tauri/src/input.rs`):
//! - `input::swallowed(&name, ctrl, alt, shift)` and `debug_quit(&name, state)` in
//!   `lock_webkit_view`'s `connect_key_press_event` (content view, lines 67-91): becomes
//!   `keys::decide(ViewKind::Content, &Key::from_gdk(&name, ev.state().bits()))`, with
//!   `KeyDecision::Quit` doing what `debug_quit` did (debug builds only);
//! - the `F6` test in `watch_toolbar`'s `connect_event` (toolbar view, lines 218-225): becomes
//!   `keys::decide(ViewKind::Toolbar, &key)`. The toolbar swallows nothing else today (its page is
//!   the kiosk's own and its navigation hook admits nothing but `toolbar.html`).
//!
//! Every key press feeds the idle clock whatever is decided here; that stays in the shell.

/// GDK 3's `GDK_SHIFT_MASK` bit of a key event's state.
pub const SHIFT_MASK: u32 = 1 << 0;
/// GDK 3's `GDK_CONTROL_MASK`.
pub const CONTROL_MASK: u32 = 1 << 2;
/// GDK 3's `GDK_MOD1_MASK`: Alt on every keyboard layout the borne ships (AltGr is Mod5, not this).
pub const MOD1_MASK: u32 = 1 << 3;

/// Which of the kiosk's two webviews has the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// The content view: the portal, the sites, the kiosk's own pages.
    Content,
    /// The toolbar view (Accueil, Retour, Imprimer…, and its dialogs).
    Toolbar,
}

/// The modifiers the decision looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modifiers {
    /// Control.
    pub ctrl: bool,
    /// Alt (Mod1).
    pub alt: bool,
    /// Shift.
    pub shift: bool,
}

impl Modifiers {
    /// From a GDK 3 event's state bits; other bits (Caps Lock, Num Lock, AltGr's Mod5, the mouse
    /// buttons) do not change a decision.
    pub fn from_gdk_state(state: u32) -> Modifiers {
        Modifiers { ctrl: state & CONTROL_MASK != 0, alt: state & MOD1_MASK != 0, shift: state & SHIFT_MASK != 0 }
    }
}

/// A key press as the decision sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// GDK's name of the keyval: `a`, `A`, `eacute`, `at`, `Left`, `KP_Left`, `F5`, `Return`…
    /// (empty when GDK has none).
    pub name: String,
    /// The modifiers held.
    pub mods: Modifiers,
}

impl Key {
    /// A key from its name and modifiers.
    pub fn new(name: &str, mods: Modifiers) -> Key {
        Key { name: name.to_string(), mods }
    }

    /// A key from what the shell reads off a `GdkEventKey`: `ev.keyval().name()` (empty when
    /// `None`) and `ev.state().bits()`.
    pub fn from_gdk(name: &str, state: u32) -> Key {
        Key::new(name, Modifiers::from_gdk_state(state))
    }
}

/// What the shell does with a key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDecision {
    /// The page gets it (`glib::Propagation::Proceed`).
    Pass,
    /// Nobody gets it (`glib::Propagation::Stop`).
    Swallow,
    /// Focus moves between the content and the toolbar (F6, as in browsers); the key is swallowed.
    SwitchFocus,
    /// Debug builds only: Ctrl+Alt+Shift+Q quits the kiosk (the developer's way out); the key is
    /// swallowed. Never returned by a release build.
    Quit,
}

/// Keys that go back or home when Alt is held.
const ALT_NAVIGATION: &[&str] =
    &["Left", "Right", "Home", "KP_Left", "KP_Right", "KP_Home", "Back", "Forward", "BackSpace"];

/// Browser and multimedia keys that navigate or print on their own.
const BROWSER_KEYS: &[&str] =
    &["Back", "Forward", "HomePage", "Refresh", "Reload", "Search", "Favorites", "WWW", "OpenURL", "Print"];

/// With Control, the editing shortcuts that stay (compared in lower case): select all, copy, paste,
/// cut, undo, redo, move and delete by word, to the start or end of a field.
const CTRL_EDITING: &[&str] = &["a", "c", "v", "x", "z", "y", "left", "right", "home", "end", "backspace", "delete"];

/// Decides a key press in `view`. The developer's way out ([`KeyDecision::Quit`]) exists only in
/// debug builds (`cfg!(debug_assertions)`), as the kiosk's style asks.
pub fn decide(view: ViewKind, key: &Key) -> KeyDecision {
    decide_with(view, key, cfg!(debug_assertions))
}

/// [`decide`], saying whether the debug way out exists (`debug_escape`), so both builds are tested.
pub fn decide_with(view: ViewKind, key: &Key, debug_escape: bool) -> KeyDecision {
    let name = key.name.as_str();
    if name == "F6" {
        return KeyDecision::SwitchFocus;
    }
    if view == ViewKind::Toolbar {
        return KeyDecision::Pass;
    }
    let m = key.mods;
    // Function keys: reload, caret browsing (F7), full screen, devtools…
    if name.len() >= 2 && name.starts_with('F') && name[1..].chars().all(|c| c.is_ascii_digit()) {
        return KeyDecision::Swallow;
    }
    if m.alt && ALT_NAVIGATION.contains(&name) {
        return KeyDecision::Swallow;
    }
    if BROWSER_KEYS.contains(&name) {
        return KeyDecision::Swallow;
    }
    if m.ctrl {
        let lower = name.to_ascii_lowercase();
        if CTRL_EDITING.contains(&lower.as_str()) {
            return KeyDecision::Pass;
        }
        if debug_escape && m.alt && m.shift && lower == "q" {
            return KeyDecision::Quit;
        }
        return KeyDecision::Swallow;
    }
    KeyDecision::Pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyDecision::{Pass, Quit, Swallow, SwitchFocus};
    use ViewKind::{Content, Toolbar};

    const NONE: u32 = 0;
    const CTRL: u32 = CONTROL_MASK;
    const ALT: u32 = MOD1_MASK;
    const SHIFT: u32 = SHIFT_MASK;
    /// AltGr on X11 (ISO_Level3_Shift): Mod5.
    const ALTGR: u32 = 1 << 7;
    /// Caps Lock and Num Lock (Mod2) held: no change.
    const LOCKS: u32 = (1 << 1) | (1 << 4);

    /// Every key the shell handled before this module, and ordinary typing, in the content view.
    const CONTENT_TABLE: &[(&str, u32, KeyDecision)] = &[
        // F6 moves the focus, whatever the modifiers.
        ("F6", NONE, SwitchFocus),
        ("F6", SHIFT, SwitchFocus),
        ("F6", CTRL, SwitchFocus),
        // Function keys: reload, caret browsing, full screen, devtools.
        ("F1", NONE, Swallow),
        ("F3", NONE, Swallow),
        ("F5", NONE, Swallow),
        ("F5", CTRL, Swallow),
        ("F7", NONE, Swallow),
        ("F10", NONE, Swallow),
        ("F11", NONE, Swallow),
        ("F12", NONE, Swallow),
        ("F12", CTRL | SHIFT, Swallow),
        ("F24", NONE, Swallow),
        // Alt + arrows and Home: back, forward, home page.
        ("Left", ALT, Swallow),
        ("Right", ALT, Swallow),
        ("Home", ALT, Swallow),
        ("KP_Left", ALT, Swallow),
        ("KP_Right", ALT, Swallow),
        ("KP_Home", ALT, Swallow),
        ("Back", ALT, Swallow),
        ("Forward", ALT, Swallow),
        ("BackSpace", ALT, Swallow),
        ("Left", ALT | SHIFT, Swallow),
        // Browser and multimedia keys.
        ("Back", NONE, Swallow),
        ("Forward", NONE, Swallow),
        ("HomePage", NONE, Swallow),
        ("Refresh", NONE, Swallow),
        ("Reload", NONE, Swallow),
        ("Search", NONE, Swallow),
        ("Favorites", NONE, Swallow),
        ("WWW", NONE, Swallow),
        ("OpenURL", NONE, Swallow),
        ("Print", NONE, Swallow),
        // Control shortcuts that open, save, print, show source, navigate, zoom, find, new tab/window.
        ("o", CTRL, Swallow),
        ("s", CTRL, Swallow),
        ("p", CTRL, Swallow),
        ("u", CTRL, Swallow),
        ("l", CTRL, Swallow),
        ("n", CTRL, Swallow),
        ("t", CTRL, Swallow),
        ("w", CTRL, Swallow),
        ("r", CTRL, Swallow),
        ("f", CTRL, Swallow),
        ("g", CTRL, Swallow),
        ("h", CTRL, Swallow),
        ("d", CTRL, Swallow),
        ("j", CTRL, Swallow),
        ("k", CTRL, Swallow),
        ("b", CTRL, Swallow),
        ("e", CTRL, Swallow),
        ("q", CTRL, Swallow),
        ("plus", CTRL, Swallow),
        ("minus", CTRL, Swallow),
        ("equal", CTRL, Swallow),
        ("0", CTRL, Swallow),
        ("KP_Add", CTRL, Swallow),
        ("KP_Subtract", CTRL, Swallow),
        ("Tab", CTRL, Swallow),
        ("ISO_Left_Tab", CTRL | SHIFT, Swallow),
        ("Return", CTRL, Swallow),
        ("Page_Up", CTRL, Swallow),
        ("Page_Down", CTRL, Swallow),
        ("KP_Left", CTRL, Swallow),
        ("I", CTRL | SHIFT, Swallow),
        ("J", CTRL | SHIFT, Swallow),
        ("S", CTRL | SHIFT, Swallow),
        ("O", CTRL | LOCKS, Swallow),
        ("s", CTRL | ALT, Swallow),
        ("Q", CTRL | SHIFT, Swallow),
        // Editing shortcuts stay, Shift and Caps Lock or not.
        ("a", CTRL, Pass),
        ("c", CTRL, Pass),
        ("v", CTRL, Pass),
        ("x", CTRL, Pass),
        ("z", CTRL, Pass),
        ("y", CTRL, Pass),
        ("Z", CTRL | SHIFT, Pass),
        ("C", CTRL | SHIFT, Pass),
        ("V", CTRL | LOCKS, Pass),
        ("Left", CTRL, Pass),
        ("Right", CTRL, Pass),
        ("Left", CTRL | SHIFT, Pass),
        ("Home", CTRL, Pass),
        ("End", CTRL, Pass),
        ("BackSpace", CTRL, Pass),
        ("Delete", CTRL, Pass),
        // Ordinary typing: letters, digits, space, Enter, Tab and Shift+Tab, arrows, erasing.
        ("a", NONE, Pass),
        ("z", NONE, Pass),
        ("A", SHIFT, Pass),
        ("E", LOCKS, Pass),
        ("1", NONE, Pass),
        ("ampersand", NONE, Pass),
        ("space", NONE, Pass),
        ("Return", NONE, Pass),
        ("KP_Enter", NONE, Pass),
        ("Tab", NONE, Pass),
        ("ISO_Left_Tab", SHIFT, Pass),
        ("Left", NONE, Pass),
        ("Right", NONE, Pass),
        ("Up", NONE, Pass),
        ("Down", NONE, Pass),
        ("Home", NONE, Pass),
        ("End", NONE, Pass),
        ("Left", SHIFT, Pass),
        ("BackSpace", NONE, Pass),
        ("Delete", NONE, Pass),
        ("Escape", NONE, Pass),
        ("Page_Down", NONE, Pass),
        // Accents, typed directly (AZERTY) or with dead keys.
        ("eacute", NONE, Pass),
        ("egrave", NONE, Pass),
        ("agrave", NONE, Pass),
        ("ccedilla", NONE, Pass),
        ("ugrave", NONE, Pass),
        ("ecircumflex", NONE, Pass),
        ("Eacute", SHIFT, Pass),
        ("dead_circumflex", NONE, Pass),
        ("dead_diaeresis", SHIFT, Pass),
        ("idiaeresis", NONE, Pass),
        ("oe", ALTGR, Pass),
        // AltGr characters (Mod5): @ # { [ \ € ~ |.
        ("at", ALTGR, Pass),
        ("at", NONE, Pass),
        ("numbersign", ALTGR, Pass),
        ("braceleft", ALTGR, Pass),
        ("bracketleft", ALTGR, Pass),
        ("backslash", ALTGR, Pass),
        ("EuroSign", ALTGR, Pass),
        ("asciitilde", ALTGR, Pass),
        ("bar", ALTGR | LOCKS, Pass),
        // Other scripts the portal offers.
        ("Arabic_alef", NONE, Pass),
        ("Cyrillic_ie", NONE, Pass),
        ("Ukrainian_yi", SHIFT, Pass),
        // Alt with a letter is no browser shortcut here (no menu bar, no address bar).
        ("d", ALT, Pass),
        ("Up", ALT, Pass),
        // No name (GDK has none for this keyval).
        ("", NONE, Pass),
    ];

    #[test]
    fn every_key_the_content_view_handles_and_ordinary_typing() {
        for &(name, state, want) in CONTENT_TABLE {
            let key = Key::from_gdk(name, state);
            assert_eq!(decide_with(Content, &key, false), want, "{name} state={state:#x}");
            assert_eq!(decide_with(Content, &key, true), want, "{name} state={state:#x} (debug)");
        }
    }

    #[test]
    fn the_toolbar_only_moves_the_focus_on_f6() {
        for &(name, state, _) in CONTENT_TABLE {
            let want = if name == "F6" { SwitchFocus } else { Pass };
            assert_eq!(decide_with(Toolbar, &Key::from_gdk(name, state), true), want, "{name} state={state:#x}");
        }
    }

    #[test]
    fn the_way_out_exists_only_in_debug_builds_and_only_in_the_content_view() {
        let all = CTRL | ALT | SHIFT;
        for name in ["q", "Q"] {
            assert_eq!(decide_with(Content, &Key::from_gdk(name, all), true), Quit);
            assert_eq!(decide_with(Content, &Key::from_gdk(name, all | LOCKS), true), Quit);
            assert_eq!(decide_with(Content, &Key::from_gdk(name, all), false), Swallow);
            assert_eq!(decide_with(Toolbar, &Key::from_gdk(name, all), true), Pass);
        }
        assert_eq!(decide_with(Content, &Key::from_gdk("q", CTRL | ALT), true), Swallow);
        assert_eq!(decide_with(Content, &Key::from_gdk("q", CTRL | SHIFT), true), Swallow);
        assert_eq!(decide(Content, &Key::from_gdk("q", all)), if cfg!(debug_assertions) { Quit } else { Swallow });
    }

    #[test]
    fn modifiers_come_from_gdk_state_bits() {
        assert_eq!(Modifiers::from_gdk_state(0), Modifiers::default());
        assert_eq!(Modifiers::from_gdk_state(0x4), Modifiers { ctrl: true, alt: false, shift: false });
        assert_eq!(Modifiers::from_gdk_state(0x8 | 0x1), Modifiers { ctrl: false, alt: true, shift: true });
        // Caps Lock, Num Lock, AltGr (Mod5) and a held mouse button (Button1) are no modifiers here.
        assert_eq!(Modifiers::from_gdk_state(0x2 | 0x10 | 0x80 | 0x100), Modifiers::default());
    }
}
