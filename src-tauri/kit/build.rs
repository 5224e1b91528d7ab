//! Builds the table of pictograms (`ui/pictograms/*.svg`) into the program, as the kiosk builds ui/
//! in: the kit draws the same pictures as the portal, with nothing to install beside the binary.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("../../ui/pictograms");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("ui/pictograms is in the repository")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".svg")).map(str::to_string))
        .collect();
    names.sort();
    let mut out =
        String::from("/// The pictograms of `ui/pictograms`, by name.\npub static PICTOGRAMS: &[(&str, &[u8])] = &[\n");
    for n in &names {
        let path = dir.join(format!("{n}.svg"));
        writeln!(out, "    ({n:?}, include_bytes!({:?})),", path.display().to_string()).expect("write to a String");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("pictograms.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
