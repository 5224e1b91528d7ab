//! « Écouter »: runs the offline voice (espeak-ng) that `borne_core::speech` decides on.
//!
//! One thread owns the synthesizer's process, off the GTK main thread: a new utterance stops the
//! one playing (one voice at a time), « Arrêter » stops it, and the end of the session stops it and
//! waits until the process is gone before the next person comes. The text goes to espeak-ng's
//! standard input and nowhere else: never logged, never in a file, never in a command line.
//!
//! The text of a kiosk page (the portal, an open help sheet, the blocked and network-error pages)
//! and a person's selection on a site are read from the content view by a script run in an
//! isolated script world: the page's own scripts cannot see it nor change what it reads.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use borne_core::speech::{self, Output, Utterance};
use tauri::{AppHandle, Manager};

use crate::glue::emit_toolbar;

/// How long the end of the session waits for the voice to be stopped.
const STOP_WAIT: Duration = Duration::from_secs(2);
/// How long the content view may take to give its text.
pub const READ_WAIT: Duration = Duration::from_secs(3);
/// Most characters the content view's script hands back (the core cuts further).
const SCRIPT_CAP: usize = 20_000;

enum Order {
    Say(Utterance),
    Stop(Option<mpsc::Sender<()>>),
}

/// The voice's state: the thread's mailbox (the volume is the person's session's, `borne_core::person`).
#[derive(Default)]
pub struct Speech {
    orders: Mutex<Option<mpsc::Sender<Order>>>,
}

impl Speech {
    /// Says `u`, stopping whatever is being said.
    pub fn say(&self, u: Utterance) -> bool {
        self.send(Order::Say(u))
    }

    /// Stops the voice (returns at once).
    pub fn stop(&self) {
        self.send(Order::Stop(None));
    }

    /// The end of a session: the voice stopped (waited for, [`STOP_WAIT`] at most). The volume is
    /// the session's (`borne_core::person`), new for the next person.
    pub fn end_session(&self) {
        let (tx, rx) = mpsc::channel();
        if self.send(Order::Stop(Some(tx))) && rx.recv_timeout(STOP_WAIT).is_err() {
            tracing::warn!("the voice did not stop in time at the end of the session");
        }
    }

    fn send(&self, order: Order) -> bool {
        self.orders.lock().ok().and_then(|o| o.as_ref().map(|tx| tx.send(order).is_ok())).unwrap_or(false)
    }
}

/// Starts the voice's thread.
pub fn start(app: &AppHandle) {
    let (tx, rx) = mpsc::channel();
    let out = Output::from_env_value(std::env::var_os(speech::OUT_ENV));
    let a = app.clone();
    let spawned = std::thread::Builder::new().name("speech".into()).spawn(move || run(&a, &rx, &out));
    match spawned {
        Ok(_) => {
            if let Ok(mut o) = app.state::<Speech>().orders.lock() {
                *o = Some(tx);
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot start the voice's thread; « Écouter » is off"),
    }
}

fn run(app: &AppHandle, orders: &mpsc::Receiver<Order>, out: &Output) {
    let mut child: Option<Child> = None;
    loop {
        match orders.recv_timeout(Duration::from_millis(100)) {
            Ok(Order::Say(u)) => {
                stop(&mut child);
                child = spawn(&u, out);
                speaking(app, child.is_some());
            }
            Ok(Order::Stop(ack)) => {
                let was = child.is_some();
                stop(&mut child);
                if was {
                    speaking(app, false);
                }
                if let Some(ack) = ack {
                    let _ = ack.send(());
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                // Reaps a voice that has finished on its own.
                if let Some(c) = child.as_mut() {
                    match c.try_wait() {
                        Ok(Some(status)) => {
                            if !status.success() {
                                tracing::warn!(%status, "the voice ended with an error");
                            }
                            child = None;
                            speaking(app, false);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot check the voice's process");
                            stop(&mut child);
                            speaking(app, false);
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                stop(&mut child);
                return;
            }
        }
    }
}

/// Starts espeak-ng and hands it the text on its standard input (closed after, so it ends).
fn spawn(u: &Utterance, out: &Output) -> Option<Child> {
    let mut cmd = Command::new(speech::PROGRAM);
    cmd.args(u.args(out)).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, program = speech::PROGRAM, "cannot start the voice");
            return None;
        }
    };
    // The text is at most a few tens of kilobytes: it fits in the pipe, so this never blocks.
    if let Some(mut stdin) = child.stdin.take() {
        if let Err(e) = stdin.write_all(u.text.as_bytes()) {
            tracing::warn!(error = %e, "the voice did not take its text");
        }
    }
    tracing::debug!(voice = u.voice, volume = u.volume.level(), "voice started");
    Some(child)
}

/// Kills the voice now and reaps it: when this returns, no sound of it is left.
fn stop(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        if let Err(e) = c.wait() {
            tracing::warn!(error = %e, "cannot reap the voice's process");
        }
    }
}

fn speaking(app: &AppHandle, on: bool) {
    emit_toolbar(app, borne_core::toolbar::ToolbarEvent::Speech { speaking: on });
}

/// What the content view gives to be read: its text and the language it is marked in.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Readable {
    /// The text (at most [`SCRIPT_CAP`] characters).
    #[serde(default)]
    pub text: String,
    /// The `lang` of the element holding it, or of the page.
    #[serde(default)]
    pub lang: String,
}

/// What to read from the content view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The kiosk page shown (or its open dialog: a help sheet).
    Page,
    /// The text the person selected.
    Selection,
}

/// The script run in the content view, in its own script world. For a page: the open dialog if
/// there is one, else the parts marked `data-speak` (else `main`), as they are rendered.
fn script(source: Source) -> String {
    let kind = match source {
        Source::Page => "page",
        Source::Selection => "selection",
    };
    format!(
        r#"(function (kind, cap) {{
  function langOf(n) {{
    var e = n && (n.nodeType === 1 ? n : n.parentElement);
    var l = e && e.closest ? e.closest('[lang]') : null;
    return l ? l.getAttribute('lang') : (document.documentElement.getAttribute('lang') || '');
  }}
  function shown(e) {{ return !e.hidden && e.getClientRects().length > 0; }}
  var text = '', lang = '';
  if (kind === 'selection') {{
    var s = window.getSelection();
    text = s ? s.toString() : '';
    if (s && s.rangeCount) lang = langOf(s.getRangeAt(0).commonAncestorContainer);
  }} else {{
    var open = Array.prototype.filter.call(
      document.querySelectorAll('[role="dialog"], [role="alertdialog"]'), shown);
    var parts = open.length ? open.slice(-1) : Array.prototype.filter.call(document.querySelectorAll('[data-speak]'), shown);
    if (!parts.length && document.querySelector('main')) parts = [document.querySelector('main')];
    text = parts.map(function (e) {{ return e.innerText; }}).join('\n');
    lang = document.documentElement.getAttribute('lang') || '';
  }}
  return JSON.stringify({{ text: String(text).slice(0, cap), lang: String(lang).slice(0, 35) }});
}})({kind:?}, {SCRIPT_CAP})"#,
        kind = kind
    )
}

/// Asks the content view for its text (on the main thread); `done` gets it, or `None` when the
/// view is gone or the script failed.
pub fn read_content(app: &AppHandle, source: Source, done: impl FnOnce(Option<Readable>) + Send + 'static) {
    use webkit2gtk::WebViewExt;
    let Some(c) = app.get_webview(crate::state::CONTENT) else {
        done(None);
        return;
    };
    let done = std::sync::Arc::new(Mutex::new(Some(done)));
    let d2 = std::sync::Arc::clone(&done);
    let res = c.with_webview(move |pv| {
        let d3 = std::sync::Arc::clone(&d2);
        pv.inner().evaluate_javascript(
            &script(source),
            Some("borne-speech"),
            None,
            None::<&gio::Cancellable>,
            move |r| {
                use javascriptcore::ValueExt;
                let got = r
                    .map_err(|e| tracing::warn!(error = %e, "the content view gave no text to read"))
                    .ok()
                    .and_then(|v| serde_json::from_str::<Readable>(v.to_str().as_str()).ok());
                if let Some(f) = d3.lock().ok().and_then(|mut f| f.take()) {
                    f(got);
                }
            },
        );
    });
    if res.is_err() {
        if let Some(f) = done.lock().ok().and_then(|mut f| f.take()) {
            f(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_its_source_and_cap() {
        assert!(script(Source::Page).contains(r#"})("page", 20000)"#));
        assert!(script(Source::Selection).contains(r#"})("selection", 20000)"#));
    }
}
