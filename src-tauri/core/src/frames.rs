//! What the person sees when the content view's navigation hook refuses a load: the blocked page,
//! or nothing at all because the load was a frame's (the page, and what the person typed in it,
//! stays; the frame stays empty).
//!
//! Tauri's navigation hook sees a URL and nothing else, and WebKit asks it for every frame. For a
//! server redirect (or a form answered by one) the page cannot tell whose load it was: the frame's
//! own address is an allowed one, and nobody clicked. So the shell reads two facts off WebKit and
//! hands them here:
//! - what WebKit is deciding now ([`Deciding`]): the request's URI and whether the navigation is a
//!   redirect (`webkit_navigation_action_is_redirect`), read by an emission hook on `decide-policy`
//!   that runs before any handler and never changes a decision;
//! - whether the main frame has a load in flight ([`MainFrame`]: `load-changed` started or
//!   redirected and not yet committed; `load-failed`). A main-frame redirect happens only then; a
//!   frame exists only in a committed page.
//!
//! A refused redirect while the main frame is committed was therefore a frame's. Any other refused
//! load with a host is checked in the page (the shell's `FRAME_CHECK_JS`, which looks for a frame
//! pointing at the host); one without a host shows the blocked page at once.
//!
//! The shell's code it replaces (`src-tauri/src/`):
//! - `frames.rs`: the thread-local `DECIDING` keeps a [`Deciding`] (filled in `decide_policy_hook`,
//!   lines 98-102), `deciding_redirect` (lines 32-34) becomes [`Deciding::is_redirect_to`];
//!   `MAIN_PROVISIONAL` becomes a [`MainFrame`] fed by `watch`'s `connect_load_changed` (line 45:
//!   [`MainFrame::load_changed`]) and `connect_load_failed` (line 48: [`MainFrame::load_failed`]),
//!   and `main_frame_provisional` (lines 37-39) becomes [`MainFrame::is_provisional`];
//! - `navigation.rs`, `on_content_navigation`'s `Decision::Block` arm (lines 159-165) and the head
//!   of `show_blocked_unless_frame` (lines 177-181): `frames::refused(&decision, url, deciding,
//!   main.is_provisional())` says which of the three [`Refused`] outcomes to carry out. The GLib
//!   emission hook and the JavaScript check stay in the shell.

use url::Url;

use crate::policy::Decision;

/// What WebKit's `decide-policy` is deciding now, as the emission hook read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deciding {
    /// The navigation action's request URI.
    pub uri: String,
    /// `webkit_navigation_action_is_redirect`: a server redirect or a redirect hop.
    pub redirect: bool,
}

impl Deciding {
    /// True when the navigation to `url` is the one being decided and it is a redirect.
    pub fn is_redirect_to(&self, url: &Url) -> bool {
        self.redirect && Url::parse(&self.uri).is_ok_and(|u| u == *url)
    }
}

/// A main-frame load event of the content view (`WebKitLoadEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainLoad {
    /// `WEBKIT_LOAD_STARTED`.
    Started,
    /// `WEBKIT_LOAD_REDIRECTED`.
    Redirected,
    /// `WEBKIT_LOAD_COMMITTED`.
    Committed,
    /// `WEBKIT_LOAD_FINISHED`.
    Finished,
}

/// Whether the content view's main frame has a load started and not yet committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MainFrame {
    provisional: bool,
}

impl MainFrame {
    /// A new view: nothing in flight.
    pub fn new() -> MainFrame {
        MainFrame::default()
    }

    /// `load-changed`.
    pub fn load_changed(&mut self, event: MainLoad) {
        self.provisional = matches!(event, MainLoad::Started | MainLoad::Redirected);
    }

    /// `load-failed`: nothing in flight any more.
    pub fn load_failed(&mut self) {
        self.provisional = false;
    }

    /// Between a load's start and its commit.
    pub fn is_provisional(&self) -> bool {
        self.provisional
    }
}

/// What the shell does about a load the policy refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A frame's redirect (or form answered by a redirect) while the page is committed: the frame
    /// stays empty, the page and what the person typed stay. Nothing is shown.
    FrameRedirect,
    /// Ask the page whether a frame points at `host` (`FRAME_CHECK_JS`): yes, the page stays;
    /// no (or the check cannot run), the blocked page naming `host`.
    CheckFrame {
        /// The refused host.
        host: String,
    },
    /// The blocked page, with no host to name (a refused scheme, a malformed URL).
    BlockedPage,
}

/// What to do about the content view's navigation to `url`, refused or not: `None` unless the
/// policy's `decision` is a [`Decision::Block`]. `deciding` is what the emission hook saw last,
/// `main_provisional` [`MainFrame::is_provisional`].
pub fn refused(decision: &Decision, url: &Url, deciding: Option<&Deciding>, main_provisional: bool) -> Option<Refused> {
    let Decision::Block { host, .. } = decision else { return None };
    let redirect = deciding.is_some_and(|d| d.is_redirect_to(url));
    Some(if redirect && !main_provisional {
        Refused::FrameRedirect
    } else {
        match host {
            Some(h) => Refused::CheckFrame { host: h.clone() },
            None => Refused::BlockedPage,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{AllowedBy, BlockReason};

    fn block(host: Option<&str>) -> Decision {
        Decision::Block { reason: BlockReason::Malformed, host: host.map(str::to_string) }
    }

    fn deciding(uri: &str, redirect: bool) -> Option<Deciding> {
        Some(Deciding { uri: uri.to_string(), redirect })
    }

    /// (what, the policy's decision, what the hook saw, main frame provisional, outcome)
    type Case = (&'static str, Decision, Option<Deciding>, bool, Option<Refused>);

    const TRACKER: &str = "https://tracker.example/pixel";

    #[test]
    fn each_refused_load_gets_its_outcome() {
        use Refused::*;
        let check = || Some(CheckFrame { host: "tracker.example".into() });
        let cases: Vec<Case> = vec![
            // A frame's server redirect (or a form answered by one) while the page is committed.
            (
                "frame redirect, page committed",
                block(Some("tracker.example")),
                deciding(TRACKER, true),
                false,
                Some(FrameRedirect),
            ),
            // The same redirect while the main frame is loading: the page's own redirect.
            ("main-frame redirect", block(Some("tracker.example")), deciding(TRACKER, true), true, check()),
            // Not a redirect: a click, a frame's src, a form: the page is asked.
            ("no redirect", block(Some("tracker.example")), deciding(TRACKER, false), false, check()),
            ("no redirect, loading", block(Some("tracker.example")), deciding(TRACKER, false), true, check()),
            // The hook saw another navigation (or none): no redirect of this one is known.
            ("other url", block(Some("tracker.example")), deciding("https://other.example/", true), false, check()),
            ("hook saw nothing", block(Some("tracker.example")), None, false, check()),
            ("hook's URI unparsable", block(Some("tracker.example")), deciding("not a url", true), false, check()),
            // No host to name: the blocked page at once (or nothing when a frame redirected).
            ("no host", block(None), deciding(TRACKER, false), false, Some(BlockedPage)),
            ("no host, frame redirect", block(None), deciding(TRACKER, true), false, Some(FrameRedirect)),
            // Allowed or internal loads are not refused.
            ("allowed", Decision::Allow(AllowedBy::Rule(0)), deciding(TRACKER, true), false, None),
            ("allowed blank", Decision::Allow(AllowedBy::AboutBlank), None, true, None),
            ("internal", Decision::Internal, deciding(TRACKER, true), false, None),
        ];
        let url = Url::parse(TRACKER).unwrap();
        for (what, decision, d, provisional, want) in cases {
            assert_eq!(refused(&decision, &url, d.as_ref(), provisional), want, "{what}");
        }
    }

    #[test]
    fn the_hook_uri_is_compared_as_a_url() {
        let url = Url::parse("https://Tracker.Example/pixel").unwrap();
        assert!(Deciding { uri: "https://tracker.example/pixel".into(), redirect: true }.is_redirect_to(&url));
        assert!(Deciding { uri: "https://tracker.example:443/pixel".into(), redirect: true }.is_redirect_to(&url));
        assert!(!Deciding { uri: "https://tracker.example/pixel".into(), redirect: false }.is_redirect_to(&url));
        assert!(!Deciding { uri: "https://tracker.example/pixel?x".into(), redirect: true }.is_redirect_to(&url));
    }

    #[test]
    fn the_main_frame_is_provisional_from_start_to_commit() {
        let mut m = MainFrame::new();
        assert!(!m.is_provisional());
        for (event, want) in [
            (MainLoad::Started, true),
            (MainLoad::Redirected, true),
            (MainLoad::Committed, false),
            (MainLoad::Finished, false),
            (MainLoad::Started, true),
            (MainLoad::Finished, false),
        ] {
            m.load_changed(event);
            assert_eq!(m.is_provisional(), want, "{event:?}");
        }
        m.load_changed(MainLoad::Started);
        m.load_failed();
        assert!(!m.is_provisional(), "a failed load is no load in flight");
    }
}
