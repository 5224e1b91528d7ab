//! Installs the WebKit content filter (the core's JSON rule list) into a view's user content manager.
//!
//! The webkit2gtk crate does not wrap `WebKitUserContentFilterStore`, so this module reaches it through
//! the crate's own FFI (`webkit2gtk::ffi`). It is the only unsafe code of the project; each call follows
//! WebKitGTK's documented ownership rules.
#![allow(unsafe_code)]

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
    done: Done,
}

/// Compiles `json` into a filter stored under `store_dir`, then replaces the view's filters with it.
/// `done` runs on the main loop with the outcome.
pub fn install(store_dir: &Path, json: &str, view: &webkit2gtk::WebView, done: Done) {
    let Some(manager) = view.user_content_manager() else {
        done(Err("the view has no user content manager".into()));
        return;
    };
    let (Ok(path), Ok(id)) = (CString::new(store_dir.to_string_lossy().as_bytes()), CString::new("allow-list")) else {
        done(Err("bad store path".into()));
        return;
    };
    let bytes = glib::Bytes::from(json.as_bytes());
    // SAFETY: `store_new` returns a new reference that `finished` releases; `bytes` is borrowed for the
    // duration of the call (WebKit takes its own reference); `pending` is leaked into the callback's
    // user data and reclaimed exactly once there.
    unsafe {
        let store = ffi::webkit_user_content_filter_store_new(path.as_ptr());
        let pending = Box::new(Pending { store, manager, done });
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
        // SAFETY: the manager is alive (we hold a reference); the filter reference is released after use.
        unsafe {
            let m = pending.manager.as_ptr();
            ffi::webkit_user_content_manager_remove_all_filters(m);
            ffi::webkit_user_content_manager_add_filter(m, filter);
            ffi::webkit_user_content_filter_unref(filter);
        }
        Ok(())
    };
    // SAFETY: releases the store reference taken in `install`.
    unsafe { glib::gobject_ffi::g_object_unref(pending.store as *mut _) };
    (pending.done)(outcome);
}
