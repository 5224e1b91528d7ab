//! The référent's corner, without a webview: the PIN and the team's staff code, the forms the admin screens edit, the
//! versions of the référent's files, the machine's side (USB sticks, power, log lines), and the
//! screens' typed replies.

pub mod forms;
pub mod history;
pub mod machine;
pub mod pin;
pub mod screens;
pub mod session;
pub mod staff;
