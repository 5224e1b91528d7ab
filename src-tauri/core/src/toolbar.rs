//! The events the shell sends its pages under the Tauri event name [`EVENT`] (`"kiosk"`), as one
//! typed enum: each variant serialises to exactly the JSON object the shell used to build by hand,
//! `{"kind": "<kebab-case name>", …fields}`, so `ui/js` reads them unchanged (`toolbar.js`'s
//! `onKioskEvent`, `shell.js`, `portal.js`, `neterror.js`).
//!
//! Most go to the toolbar view only; [`ToolbarEvent::Display`] and [`ToolbarEvent::Offline`] go to the
//! content view too (`shell.js` applies the text size, the portal and the network-error page follow
//! the network). The shell's call sites it replaces, each `serde_json::json!({"kind": …})` becoming
//! `ToolbarEvent::…` (`emit_toolbar` then takes `&ToolbarEvent`):
//! - `input.rs:131` `print-request`, `input.rs:166` `idle-cancel`, `input.rs:178` `idle-warning`;
//! - `commands.rs:106` `language`, `commands.rs:262-264` `display` (toolbar and content),
//!   `commands.rs:280` `idle-cancel`;
//! - `navigation.rs:77-80` `content`;
//! - `network.rs:28-30` `offline` (toolbar and content);
//! - `auth.rs:30-35` `auth-request`, `auth.rs:46` `auth-cancelled`;
//! - `speech.rs:175` `speech`;
//! - `documents.rs:114` and `documents.rs:150` `documents-changed`, `documents.rs:167` `upload-request`;
//! - `session.rs:99` `session-ended`.

use serde::Serialize;

/// The Tauri event name the pages listen to (`Shell.listen('kiosk', …)`).
pub const EVENT: &str = "kiosk";

/// One event for the kiosk's pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ToolbarEvent {
    /// The idle countdown starts: `seconds` left before the session ends.
    IdleWarning {
        /// Seconds left.
        seconds: u32,
    },
    /// Input came back: the countdown closes.
    IdleCancel,
    /// The session ended: dialogs close, text size and language go back to normal.
    SessionEnded,
    /// « Écouter » started or stopped speaking.
    Speech {
        /// Speaking now.
        speaking: bool,
    },
    /// A page finished loading in the content view: a kiosk page (read whole) or a site.
    Content {
        /// One of the kiosk's own pages.
        kiosk: bool,
    },
    /// « Taille du texte »: sent to the toolbar and the content view.
    Display {
        /// Text size in percent (100, 150, 200).
        text: u16,
        /// High contrast.
        contrast: bool,
    },
    /// The person chose a language.
    Language {
        /// Its code (`fr`, `ar`…).
        lang: String,
    },
    /// The system's network state: sent to the toolbar and the content view.
    Offline {
        /// No network route.
        value: bool,
    },
    /// A site called `window.print()`: the toolbar's dialog opens.
    PrintRequest,
    /// A site's file chooser: the toolbar lists the session's and the USB sticks' files.
    UploadRequest,
    /// A site or proxy asks for a user name and password (HTTP authentication).
    AuthRequest {
        /// The host asking.
        host: String,
        /// A proxy asks, not the site.
        proxy: bool,
        /// A previous answer was refused.
        retry: bool,
    },
    /// The authentication request went away (the page left, the session ended).
    AuthCancelled,
    /// The session's documents changed (a download finished, a PDF was kept).
    DocumentsChanged,
    /// Opening hours (`crate::hours::Mode`): `mode` is `open`, `session-while-closed`, `closed` or
    /// `dark`; `next` the next opening said in the person's language (« Prochaine ouverture : mardi
    /// à 9 h »), `usable` whether « Utiliser la borne quand même » is offered.
    Hours {
        /// The mode's code.
        mode: &'static str,
        /// The next opening, in words (empty when none is planned or the borne is open).
        next: String,
        /// The borne may be used anyway.
        usable: bool,
    },
    /// A laptop borne's battery (`crate::power`), sent when it changes; a desktop PC never sends it.
    Battery {
        /// Charge, 0 to 100.
        percent: u8,
        /// On the mains.
        plugged: bool,
        /// Low and not plugged in: the toolbar warns, calmly.
        low: bool,
    },
}

impl ToolbarEvent {
    /// Whether the content view gets it too, besides the toolbar.
    pub fn also_to_content(&self) -> bool {
        matches!(self, ToolbarEvent::Display { .. } | ToolbarEvent::Offline { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each variant against the `json!` literal the shell wrote by hand (values filled in).
    #[test]
    fn each_event_serialises_to_the_json_the_shell_sent() {
        let (secs, on, text, contrast, code, offline) = (42u32, true, 150u16, true, "ar", false);
        let (host, proxy, retry) = ("proxy.example", true, false);
        let kiosk_page = true;
        let cases = [
            // input.rs:178
            (ToolbarEvent::IdleWarning { seconds: secs }, json!({"kind": "idle-warning", "seconds": secs})),
            // input.rs:166, commands.rs:280
            (ToolbarEvent::IdleCancel, json!({"kind": "idle-cancel"})),
            // session.rs:99
            (ToolbarEvent::SessionEnded, json!({"kind": "session-ended"})),
            // speech.rs:175
            (ToolbarEvent::Speech { speaking: on }, json!({"kind": "speech", "speaking": on})),
            // navigation.rs:79
            (ToolbarEvent::Content { kiosk: kiosk_page }, json!({"kind": "content", "kiosk": kiosk_page})),
            // commands.rs:262
            (ToolbarEvent::Display { text, contrast }, json!({"kind": "display", "text": text, "contrast": contrast})),
            // commands.rs:106
            (ToolbarEvent::Language { lang: code.into() }, json!({"kind": "language", "lang": code})),
            // network.rs:28, 30
            (ToolbarEvent::Offline { value: offline }, json!({"kind": "offline", "value": offline})),
            // input.rs:131
            (ToolbarEvent::PrintRequest, json!({"kind": "print-request"})),
            // documents.rs:167
            (ToolbarEvent::UploadRequest, json!({"kind": "upload-request"})),
            // auth.rs:30-35
            (
                ToolbarEvent::AuthRequest { host: host.into(), proxy, retry },
                json!({
                    "kind": "auth-request",
                    "host": host,
                    "proxy": proxy,
                    "retry": retry,
                }),
            ),
            // auth.rs:46
            (ToolbarEvent::AuthCancelled, json!({"kind": "auth-cancelled"})),
            // documents.rs:114, 150
            (ToolbarEvent::DocumentsChanged, json!({"kind": "documents-changed"})),
            (
                ToolbarEvent::Hours { mode: "closed", next: "Prochaine ouverture : mardi à 9 h".into(), usable: true },
                json!({"kind": "hours", "mode": "closed", "next": "Prochaine ouverture : mardi à 9 h", "usable": true}),
            ),
            // laptop.rs (battery)
            (
                ToolbarEvent::Battery { percent: 12, plugged: false, low: true },
                json!({"kind": "battery", "percent": 12, "plugged": false, "low": true}),
            ),
        ];
        for (event, want) in &cases {
            assert_eq!(&serde_json::to_value(event).unwrap(), want, "{event:?}");
        }
        // Every kind toolbar.js's onKioskEvent handles, and no other.
        let toolbar_js = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/js/toolbar.js"));
        let handled: Vec<&str> = toolbar_js
            .split("case '")
            .skip(1)
            .filter_map(|s| s.split('\'').next())
            .filter(|k| {
                k.contains('-')
                    || ["speech", "content", "display", "language", "offline", "hours", "battery"].contains(k)
            })
            .collect();
        for (event, want) in &cases {
            let kind = want["kind"].as_str().unwrap();
            assert!(handled.contains(&kind), "{event:?}: toolbar.js has no case '{kind}'");
        }
    }

    #[test]
    fn display_and_offline_also_go_to_the_content_view() {
        assert!(ToolbarEvent::Display { text: 100, contrast: false }.also_to_content());
        assert!(ToolbarEvent::Offline { value: true }.also_to_content());
        assert!(!ToolbarEvent::IdleCancel.also_to_content());
        assert!(!ToolbarEvent::Language { lang: "fr".into() }.also_to_content());
    }
}
