//! A laptop borne's battery (issue 18, nomad mode): its charge and whether it charges, read from the
//! kernel's power-supply class (`/sys/class/power_supply/<name>/{type,capacity,status}`), and when to
//! warn calmly that it runs low. A desktop PC has no battery: nothing is shown.
//!
//! The shell reads it every minute or so, off the GTK thread (sysfs reads are quick, but a firmware
//! may stall them), and shows the level in the toolbar.

use std::path::{Path, PathBuf};

/// Where the kernel lists power supplies.
pub const SYSFS: &str = "/sys/class/power_supply";
/// At or below this charge, not charging, the toolbar warns (calmly: the person may finish).
pub const LOW_PERCENT: u8 = 15;

/// The battery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Battery {
    /// Charge, 0 to 100 (the mean of the batteries when there are several).
    pub percent: u8,
    /// On the mains (charging, full, or not discharging).
    pub plugged: bool,
}

impl Battery {
    /// Time for the calm warning: low and not plugged in.
    pub fn low(&self) -> bool {
        self.percent <= LOW_PERCENT && !self.plugged
    }
}

fn read_trim(p: PathBuf) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

/// The batteries under `root` (the kernel's [`SYSFS`] folder), as one [`Battery`]; `None` when
/// there is none (a desktop PC) or none can be read.
pub fn read(root: &Path) -> Option<Battery> {
    let mut charges = Vec::new();
    let mut plugged = false;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for dir in entries {
        match read_trim(dir.join("type")).as_deref() {
            Some("Battery") => {
                // A peripheral's battery (a wireless mouse's) says `scope = Device`: not the PC's.
                if read_trim(dir.join("scope")).as_deref() == Some("Device") {
                    continue;
                }
                let Some(c) = read_trim(dir.join("capacity")).and_then(|c| c.parse::<u8>().ok()) else { continue };
                charges.push(c.min(100));
                if matches!(read_trim(dir.join("status")).as_deref(), Some("Charging" | "Full" | "Not charging")) {
                    plugged = true;
                }
            }
            Some("Mains") if read_trim(dir.join("online")).as_deref() == Some("1") => plugged = true,
            _ => {}
        }
    }
    if charges.is_empty() {
        return None;
    }
    let percent = (charges.iter().map(|&c| u32::from(c)).sum::<u32>() / charges.len() as u32) as u8;
    Some(Battery { percent, plugged })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supply(root: &Path, name: &str, files: &[(&str, &str)]) {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in files {
            std::fs::write(d.join(f), format!("{v}\n")).unwrap();
        }
    }

    #[test]
    fn a_desktop_has_no_battery_and_a_missing_folder_is_none() {
        let t = tempfile::tempdir().unwrap();
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "1")]);
        assert_eq!(read(t.path()), None);
        assert_eq!(read(&t.path().join("absent")), None);
    }

    #[test]
    fn a_laptop_on_battery_then_on_the_mains() {
        let t = tempfile::tempdir().unwrap();
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "0")]);
        supply(t.path(), "BAT0", &[("type", "Battery"), ("capacity", "12"), ("status", "Discharging")]);
        let b = read(t.path()).unwrap();
        assert_eq!(b, Battery { percent: 12, plugged: false });
        assert!(b.low());
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "1")]);
        let b = read(t.path()).unwrap();
        assert!(b.plugged && !b.low(), "plugged in: no warning even when low");
    }

    #[test]
    fn two_batteries_average_and_a_mouse_battery_does_not_count() {
        let t = tempfile::tempdir().unwrap();
        supply(t.path(), "BAT0", &[("type", "Battery"), ("capacity", "80"), ("status", "Discharging")]);
        supply(t.path(), "BAT1", &[("type", "Battery"), ("capacity", "40"), ("status", "Discharging")]);
        supply(t.path(), "hid-mouse", &[("type", "Battery"), ("scope", "Device"), ("capacity", "5")]);
        assert_eq!(read(t.path()), Some(Battery { percent: 60, plugged: false }));
        supply(t.path(), "BAT1", &[("type", "Battery"), ("capacity", "140"), ("status", "Full")]);
        assert_eq!(read(t.path()), Some(Battery { percent: 90, plugged: true }), "a capacity over 100 counts as 100");
    }
}
