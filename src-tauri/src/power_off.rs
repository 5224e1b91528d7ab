//! Power-off after closing, the shell's side (issue 18, item 1): when the opening hours say
//! `Mode::PowerOff` (closed, no session, the screen dark for `dark_after_minutes`, the next opening
//! more than two hours away), the kiosk asks root for it through a request file
//! (`borne_core::power_off`: written once per such period, atomically, into the folder only the
//! kiosk's user and root may write). The image's `borne-power-off.service` checks the request against
//! the settings and the hours, sets the firmware's wake alarm with rtcwake and powers off. The screen
//! stays dark meanwhile, and stays dark if root refuses (its journal says why): the kiosk never gets
//! root, and has nothing else to do.

use std::sync::{Mutex, PoisonError};

use borne_core::hours::Mode;
use borne_core::power_off::{Asking, REQUEST_DIR};

static ASKING: Mutex<Option<Asking>> = Mutex::new(None);

/// Called with each mode the hours give (`hours::show`, every tick): asks root once for each
/// power-off period; the outcome is logged by the core.
pub fn on_mode(mode: &Mode) {
    let mut asking = ASKING.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = asking.get_or_insert_with(|| Asking::new(REQUEST_DIR)).on_mode(mode);
}
