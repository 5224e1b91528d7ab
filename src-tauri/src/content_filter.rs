//! Installs the WebKit content filter (the core's JSON rule list) into a view's user content manager.
//!
//! The compiled filter is kept and given to every new content view while the rule list is the same:
//! compiling again for each person replaced the stored file under the previous filter, whose
//! mapping (a deleted file and a shared-memory descriptor in the kiosk's process) then stayed open
//! for good, one more each session (tests/bench/day-of-use.sh).
//!
//! The webkit2gtk crate does not wrap `WebKitUserContentFilterStore`, so this module reaches it through
//! the crate's own FFI (`webkit2gtk::ffi`). It is the only unsafe code of the project; each call follows
//! WebKitGTK's documented ownership rules.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::CString;
use std::path::Path;

use glib::translate::{from_glib_full, ToGlibPtr};
use glib::ObjectType;
use webkit2gtk::ffi;
use webkit2gtk::WebViewExt;

type Done = Box<dyn FnOnce(Result<(), String>)>;

struct Pending {
    store: *mut ffi::WebKitUserContentFilterStore,
    manager: webkit2gtk::UserContentManager,
    json: String,
    done: Done,
}

/// The last compiled filter and the rule list it was compiled from (main thread only).
struct Compiled {
    json: String,
    filter: *mut ffi::WebKitUserContentFilter,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        // SAFETY: `filter` is the reference this value took in `finished`.
        unsafe { ffi::webkit_user_content_filter_unref(self.filter) };
    }
}

thread_local! {
    static COMPILED: RefCell<Option<Compiled>> = const { RefCell::new(None) };
}

/// Replaces the manager's filters with `filter`.
///
/// # Safety
/// `filter` must be a live filter reference (the manager takes its own).
unsafe fn apply(manager: &webkit2gtk::UserContentManager, filter: *mut ffi::WebKitUserContentFilter) {
    let m = manager.as_ptr();
    // SAFETY: the manager is alive (borrowed); the caller guarantees the filter.
    unsafe {
        ffi::webkit_user_content_manager_remove_all_filters(m);
        ffi::webkit_user_content_manager_add_filter(m, filter);
    }
}

/// Compiles `json` into a filter stored under `store_dir` (or takes the one already compiled from the
/// same rule list), then replaces the view's filters with it. `done` runs on the main loop, later,
/// with the outcome.
pub fn install(store_dir: &Path, json: &str, view: &webkit2gtk::WebView, done: Done) {
    let Some(manager) = view.user_content_manager() else {
        done(Err("the view has no user content manager".into()));
        return;
    };
    let reused = COMPILED.with(|c| match c.borrow().as_ref() {
        Some(compiled) if compiled.json == json => {
            // SAFETY: the kept reference is alive while it is in COMPILED.
            unsafe { apply(&manager, compiled.filter) };
            true
        }
        _ => false,
    });
    if reused {
        glib::idle_add_local_once(move || done(Ok(())));
        return;
    }
    let (Ok(path), Ok(id)) = (CString::new(store_dir.to_string_lossy().as_bytes()), CString::new("allow-list")) else {
        done(Err("bad store path".into()));
        return;
    };
    let bytes = glib::Bytes::from(json.as_bytes());
    let json = json.to_owned();
    // SAFETY: `store_new` returns a new reference that `finished` releases; `bytes` is borrowed for the
    // duration of the call (WebKit takes its own reference); `pending` is leaked into the callback's
    // user data and reclaimed exactly once there.
    unsafe {
        let store = ffi::webkit_user_content_filter_store_new(path.as_ptr());
        let pending = Box::new(Pending { store, manager, json, done });
        ffi::webkit_user_content_filter_store_save(
            store,
            id.as_ptr(),
            bytes.to_glib_none().0,
            std::ptr::null_mut(),
            Some(finished),
            Box::into_raw(pending) as glib::ffi::gpointer,
        );
    }
}

unsafe extern "C" fn finished(
    _source: *mut glib::gobject_ffi::GObject,
    result: *mut gio::ffi::GAsyncResult,
    user_data: glib::ffi::gpointer,
) {
    // SAFETY: `user_data` is the `Box<Pending>` leaked by `install`, reclaimed here once.
    let pending = unsafe { Box::from_raw(user_data as *mut Pending) };
    let mut error: *mut glib::ffi::GError = std::ptr::null_mut();
    // SAFETY: finishing the save started on this store; a non-null filter is a new reference.
    let filter = unsafe { ffi::webkit_user_content_filter_store_save_finish(pending.store, result, &mut error) };
    let outcome = if filter.is_null() {
        // SAFETY: on failure WebKit sets `error` to a new GError we take ownership of.
        let e: glib::Error = unsafe { from_glib_full(error) };
        Err(e.to_string())
    } else {
        // SAFETY: the manager is alive (we hold a reference); the new reference moves into COMPILED,
        // which releases the one it held before.
        unsafe { apply(&pending.manager, filter) };
        let json = pending.json.clone();
        COMPILED.with(|c| *c.borrow_mut() = Some(Compiled { json, filter }));
        Ok(())
    };
    // SAFETY: releases the store reference taken in `install`.
    unsafe { glib::gobject_ffi::g_object_unref(pending.store as *mut _) };
    (pending.done)(outcome);
}
