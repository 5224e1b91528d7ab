//! Build script: generates Tauri's context and the commands' permissions.
fn main() {
    tauri_build::build()
}
