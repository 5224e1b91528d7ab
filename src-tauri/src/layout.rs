//! Where the views are in the window: the toolbar above the content view and able to cover it
//! (dialogs, countdown), both in a `gtk::Overlay`; a new content view put in place of the last.

use tauri::Manager;

use crate::state::{CONTENT, TOOLBAR, TOOLBAR_HEIGHT};

/// Where the content view goes in the window (logical pixels): below the toolbar.
pub fn content_rect(window: &tauri::Window) -> tauri::Result<(f64, f64, f64, f64)> {
    let size = window.inner_size()?.to_logical::<f64>(window.scale_factor()?);
    Ok((0.0, TOOLBAR_HEIGHT, size.width, (size.height - TOOLBAR_HEIGHT).max(100.0)))
}

/// The GTK widget of a webview, as a child of the window's box.
fn widget_in_box(window: &tauri::Window, webview: &tauri::Webview) -> Option<gtk::Widget> {
    use gtk::prelude::*;
    let children = window.default_vbox().ok()?.children();
    let (tx, rx) = std::sync::mpsc::channel();
    webview
        .with_webview(move |pv| {
            let _ = tx.send(pv.inner().upcast::<gtk::Widget>().as_ptr() as usize);
        })
        .ok()?;
    let ptr = rx.recv_timeout(std::time::Duration::from_secs(5)).ok()?;
    children.into_iter().find(|c| c.as_ptr() as usize == ptr)
}

/// Moves a new content view from the window's box into the overlay, in place of the previous one.
pub fn place_content(window: &tauri::Window, content: &tauri::Webview) -> tauri::Result<()> {
    use gtk::prelude::*;
    let Some(widget) = widget_in_box(window, content) else {
        tracing::error!("new content view not found in the window's box; layout left as is");
        return Ok(());
    };
    let vbox = window.default_vbox()?;
    TOOLBAR_OVERLAY.with(|o| {
        if let Some((overlay, _)) = o.borrow().as_ref() {
            if let Some(old) = overlay.child() {
                overlay.remove(&old);
            }
            vbox.remove(&widget);
            widget.set_margin_top(TOOLBAR_HEIGHT as i32);
            overlay.add(&widget);
            widget.show_all();
            overlay.queue_resize();
        }
    });
    Ok(())
}

/// Tauri packs child webviews side by side in the window's box on Linux. The kiosk wants the toolbar
/// *above* the content and able to cover it (dialogs, countdown): both go into a `gtk::Overlay`, the
/// content as its main child below a margin, the toolbar as an overlay child.
pub fn stack_views(window: &tauri::Window) -> tauri::Result<()> {
    use gtk::prelude::*;
    let vbox = window.default_vbox()?;
    let app = window.app_handle();
    let find = |name: &str| widget_in_box(window, &app.get_webview(name)?);
    let (Some(content), Some(toolbar)) = (find(CONTENT), find(TOOLBAR)) else {
        tracing::error!("webviews not found in the window's box; layout left as is");
        return Ok(());
    };
    vbox.remove(&content);
    vbox.remove(&toolbar);
    let overlay = gtk::Overlay::new();
    content.set_margin_top(TOOLBAR_HEIGHT as i32);
    overlay.add(&content);
    overlay.add_overlay(&toolbar);
    // The toolbar's rectangle is set here, not by size requests (a webview keeps its last natural
    // size): a bar at the top, or the whole window while a dialog or the countdown shows.
    let covering = std::rc::Rc::new(std::cell::Cell::new(false));
    let c = covering.clone();
    overlay.connect_get_child_position(move |overlay, _child| {
        let a = overlay.allocation();
        let h = if c.get() { a.height() } else { (TOOLBAR_HEIGHT as i32).min(a.height()) };
        Some(gtk::Rectangle::new(0, 0, a.width(), h))
    });
    vbox.pack_start(&overlay, true, true, 0);
    overlay.show_all();
    TOOLBAR_OVERLAY.with(|o| *o.borrow_mut() = Some((overlay, covering)));
    Ok(())
}

type OverlayState = (gtk::Overlay, std::rc::Rc<std::cell::Cell<bool>>);

thread_local! {
    /// The overlay holding both views, and whether the toolbar covers the window (main thread only).
    static TOOLBAR_OVERLAY: std::cell::RefCell<Option<OverlayState>> = const { std::cell::RefCell::new(None) };
}

/// With `overlay` the toolbar covers the whole window (dialogs, countdown); without, it is a bar.
pub fn layout(app: &tauri::AppHandle, overlay: bool) {
    use gtk::prelude::*;
    let app2 = app.clone();
    let _ = app.run_on_main_thread(move || {
        TOOLBAR_OVERLAY.with(|o| {
            if let Some((ov, covering)) = o.borrow().as_ref() {
                covering.set(overlay);
                ov.queue_resize();
            }
        });
        if overlay {
            if let Some(t) = app2.get_webview(TOOLBAR) {
                let _ = t.set_focus();
            }
        }
    });
}
