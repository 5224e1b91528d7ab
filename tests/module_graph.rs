//! The modules of a crate import in one direction (issue 15, item 1): a test that reads every `.rs`
//! file of a crate's `src` with a real Rust parser (`syn`), builds the graph of which top-level module
//! refers to which, and fails with each cycle printed, edge by edge, with where the reference is.
//!
//! What counts as a reference from module `m` to module `n` (both top-level modules of the crate; a
//! module's submodules, in files or inline, count as the module itself):
//! - a `use` of `crate::n…`, `super::…` or `self::…` that lands in `n`, groups and nesting included
//!   (`use crate::{a, b::{c, d}}`), renames and globs too;
//! - any path in code naming `crate::n::…` (or reaching `n` through `super::`): expressions, types,
//!   patterns, trait bounds, macro names;
//! - the same paths inside macro calls' tokens (`json!({"k": crate::n::f()})`, `format!`…), which
//!   `syn` does not parse as Rust: their tokens are scanned for `crate :: ident` and `super :: …`;
//! - in the crate root's own file, a path starting with a top-level module's name (`input::f()`).
//!
//! A path to an item of the crate root itself (`crate::Kiosk` defined in `lib.rs`) is an edge to the
//! root, written `crate`. A `mod n;` declaration is not a reference. Code under `#[cfg(test)]` (a
//! module's tests, beside it or in its own file) is left out: a test may reach any module for its
//! fixtures without that being a dependency of the module. Files are found by following the `mod`
//! declarations from `lib.rs` (or `main.rs`), as the compiler does, so a stray file is not read.
//!
//! `borne-core`, `bornectl` and the shell (`src-tauri/src`, whose order is written in its `lib.rs`)
//! must have no cycle.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The crate root's name in the graph.
const ROOT: &str = "crate";

/// Where one reference is written.
#[derive(Debug, Clone)]
struct Site {
    file: String,
    line: usize,
    path: String,
}

/// Which top-level module refers to which, with the sites of each edge.
#[derive(Debug, Default)]
struct Graph {
    modules: BTreeSet<String>,
    edges: BTreeMap<(String, String), Vec<Site>>,
}

impl Graph {
    /// The graph of the crate whose root file is `src/lib.rs` (or `src/main.rs`).
    fn of_crate(src: &Path) -> Graph {
        let root_file =
            ["lib.rs", "main.rs"].iter().map(|f| src.join(f)).find(|p| p.exists()).expect("lib.rs or main.rs");
        let root_ast = parse(&root_file);
        let top: BTreeSet<String> = root_ast
            .items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Mod(m) => Some(m.ident.to_string()),
                _ => None,
            })
            .collect();
        let mut g = Graph { modules: top.clone(), ..Graph::default() };
        g.modules.insert(ROOT.into());
        // (file, its module path, the directory its `mod x;` children live in)
        let mut queue = VecDeque::from([(root_file, Vec::<String>::new(), src.to_path_buf())]);
        while let Some((file, module, child_dir)) = queue.pop_front() {
            let ast = parse(&file);
            let shown = file.strip_prefix(src.parent().unwrap_or(src)).unwrap_or(&file).display().to_string();
            let mut v = Refs {
                top: &top,
                file: shown,
                module: module.clone(),
                inline: Vec::new(),
                found: Vec::new(),
                children: Vec::new(),
            };
            v.visit_file(&ast);
            for (name, inline) in v.children {
                let mut dir = child_dir.clone();
                dir.extend(&inline);
                let candidates = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")];
                let Some(child) = candidates.into_iter().find(|p| p.exists()) else { continue };
                let mut m = module.clone();
                m.extend(inline.iter().cloned());
                m.push(name.clone());
                // `x.rs` and `x/mod.rs` both keep their own children in `x/`.
                queue.push_back((child, m, dir.join(&name)));
            }
            let from = module.first().cloned().unwrap_or_else(|| ROOT.into());
            for (to, site) in v.found {
                if to != from {
                    g.edges.entry((from.clone(), to)).or_default().push(site);
                }
            }
        }
        g
    }

    /// The knots: each strongly connected component of more than one module, with the shortest
    /// cycle through each of its modules (each cycle once, whichever module it was found from).
    fn cycles(&self) -> Vec<(Vec<Vec<String>>, BTreeSet<String>)> {
        let mut out = Vec::new();
        for scc in self.components() {
            if scc.len() < 2 {
                continue;
            }
            let mut cycles: Vec<Vec<String>> = Vec::new();
            let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
            for m in &scc {
                let c = self.shortest_cycle(m, &scc);
                // The same cycle found from another of its modules: compare the rotation that
                // starts at its smallest name.
                let ring = &c[..c.len() - 1];
                let at = ring.iter().enumerate().min_by_key(|(_, n)| n.as_str()).map_or(0, |(i, _)| i);
                let key: Vec<String> = ring[at..].iter().chain(&ring[..at]).cloned().collect();
                if seen.insert(key) {
                    cycles.push(c);
                }
            }
            out.push((cycles, scc));
        }
        out
    }

    fn successors<'a>(&'a self, m: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.edges.keys().filter(move |(a, _)| a == m).map(|(_, b)| b)
    }

    /// Strongly connected components (Kosaraju: order by finish time, then the reversed graph).
    fn components(&self) -> Vec<BTreeSet<String>> {
        fn finish(g: &Graph, m: &str, seen: &mut BTreeSet<String>, order: &mut Vec<String>) {
            if !seen.insert(m.to_string()) {
                return;
            }
            for n in g.successors(m) {
                finish(g, n, seen, order);
            }
            order.push(m.to_string());
        }
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        for m in &self.modules {
            finish(self, m, &mut seen, &mut order);
        }
        let mut assigned = BTreeSet::new();
        let mut out = Vec::new();
        for m in order.iter().rev() {
            if assigned.contains(m) {
                continue;
            }
            let mut comp = BTreeSet::new();
            let mut stack = vec![m.clone()];
            while let Some(x) = stack.pop() {
                if !assigned.insert(x.clone()) {
                    continue;
                }
                comp.insert(x.clone());
                for (a, b) in self.edges.keys() {
                    if b == &x && !assigned.contains(a) {
                        stack.push(a.clone());
                    }
                }
            }
            out.push(comp);
        }
        out
    }

    /// The shortest path from `start` back to itself within `within` (breadth first).
    fn shortest_cycle(&self, start: &str, within: &BTreeSet<String>) -> Vec<String> {
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([start.to_string()]);
        while let Some(x) = queue.pop_front() {
            for n in self.successors(&x) {
                if !within.contains(n) {
                    continue;
                }
                if n == start {
                    let mut path = vec![x.clone()];
                    let mut cur = x.clone();
                    while let Some(p) = prev.get(&cur) {
                        path.push(p.clone());
                        cur = p.clone();
                    }
                    path.reverse();
                    if path[0] != start {
                        path.insert(0, start.to_string());
                    }
                    path.push(start.to_string());
                    return path;
                }
                if n != start && !prev.contains_key(n) {
                    prev.insert(n.clone(), x.clone());
                    queue.push_back(n.clone());
                }
            }
        }
        vec![start.to_string()]
    }

    /// The cycles in words, each edge with up to three of its sites.
    fn report(&self) -> String {
        let mut s = String::new();
        for (cycles, scc) in self.cycles() {
            let names: Vec<&str> = scc.iter().map(String::as_str).collect();
            s.push_str(&format!("knot of {} modules: {}\n", scc.len(), names.join(", ")));
            for cycle in cycles {
                s.push_str(&format!("cycle: {}\n", cycle.join(" -> ")));
                for pair in cycle.windows(2) {
                    let sites = &self.edges[&(pair[0].clone(), pair[1].clone())];
                    s.push_str(&format!("  {} -> {} ({} reference(s)):\n", pair[0], pair[1], sites.len()));
                    for site in sites.iter().take(3) {
                        s.push_str(&format!("    {}:{}: {}\n", site.file, site.line, site.path));
                    }
                }
            }
        }
        s
    }
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Whether these attributes hold `#[cfg(test)]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
}

/// The references of one file.
struct Refs<'a> {
    top: &'a BTreeSet<String>,
    file: String,
    /// The module being visited: the file's module, then inline `mod x { … }` inside it.
    module: Vec<String>,
    /// The inline modules around the item being visited, within this file.
    inline: Vec<String>,
    /// (top-level module or `crate`, where).
    found: Vec<(String, Site)>,
    /// Out-of-line `mod x;` declarations not under `#[cfg(test)]`, with the inline modules around them.
    children: Vec<(String, Vec<String>)>,
}

impl Refs<'_> {
    /// The top-level module a path names, or `None` when it is not a path into this crate.
    fn target(&self, segments: &[String]) -> Option<String> {
        let first = segments.first()?;
        let absolute: Vec<String> = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" | "self" => {
                let mut base = self.module.clone();
                let mut rest = segments;
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "super" => {
                            base.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            // In the root's own file, `input::f()` names the module `input`.
            name if self.module.is_empty() && self.top.contains(name) && segments.len() > 1 => segments.to_vec(),
            _ => return None,
        };
        Some(match absolute.first() {
            Some(m) if self.top.contains(m) => m.clone(),
            _ => ROOT.to_string(),
        })
    }

    fn record(&mut self, segments: Vec<String>, line: usize) {
        if let Some(to) = self.target(&segments) {
            let site = Site { file: self.file.clone(), line, path: segments.join("::") };
            self.found.push((to, site));
        }
    }

    /// The paths a `use` tree names, each with its line.
    fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_paths(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut p = prefix.clone();
                if n.ident != "self" {
                    p.push(n.ident.to_string());
                }
                out.push((p, n.ident.span().start().line));
            }
            syn::UseTree::Rename(r) => {
                let mut p = prefix.clone();
                if r.ident != "self" {
                    p.push(r.ident.to_string());
                }
                out.push((p, r.ident.span().start().line));
            }
            syn::UseTree::Glob(g) => out.push((prefix.clone(), g.star_token.spans[0].start().line)),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    Self::use_paths(t, prefix, out);
                }
            }
        }
    }

    /// `crate :: a :: b` and `super :: …` sequences in a macro's tokens.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            match &flat[i] {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                TokenTree::Ident(id) if id == "crate" || id == "super" => {
                    let line = id.span().start().line;
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(next))) =
                        (flat.get(j), flat.get(j + 1), flat.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.record(segments, line);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::ExternCrate(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::ForeignMod(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::TraitAlias(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => &[],
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        match &m.content {
            None => self.children.push((m.ident.to_string(), self.inline.clone())),
            Some(_) => {
                self.module.push(m.ident.to_string());
                self.inline.push(m.ident.to_string());
                syn::visit::visit_item_mod(self, m);
                self.inline.pop();
                self.module.pop();
            }
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut out = Vec::new();
        Self::use_paths(&u.tree, &mut Vec::new(), &mut out);
        for (segments, line) in out {
            self.record(segments, line);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = p.segments.first().map(|s| s.ident.span().start().line).unwrap_or(0);
        self.record(segments, line);
        syn::visit::visit_path(self, p);
    }

    /// `pub(crate)`, `pub(super)`, `pub(in crate::x)` say who may see an item, not what it uses.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}

/// Writes a small crate (`files`: path under `src`, text) and returns its graph.
fn graph_of(files: &[(&str, &str)]) -> Graph {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join("src").join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    Graph::of_crate(&dir.path().join("src"))
}

fn edges(g: &Graph) -> Vec<String> {
    g.edges.keys().map(|(a, b)| format!("{a}->{b}")).collect()
}

#[test]
fn the_tool_sees_use_groups_nested_paths_super_macros_and_root_items() {
    let g = graph_of(&[
        ("lib.rs", "mod a; mod b; mod c; mod d; mod e; pub struct Kiosk; fn run() { e::go(); }"),
        // A group with nesting and a rename.
        ("a.rs", "use crate::{b::{self, X}, c as _};"),
        // A path in an expression, through a submodule in its own file.
        ("b.rs", "mod inner;"),
        ("b/inner.rs", "fn f() -> u8 { super::super::d::VALUE }"),
        // Inside a macro's tokens; and a root item.
        ("c.rs", "fn f() { println!(\"{}\", crate::e::NAME); let _k: crate::Kiosk; }"),
        // A type path, and a test-only reference left out.
        ("d.rs", "fn f(_: crate::a::T) {} #[cfg(test)] mod tests { use crate::e; }"),
        ("e.rs", "mod sub { fn g() { self::h(); super::super::b::f(); } }"),
    ]);
    assert_eq!(edges(&g), ["a->b", "a->c", "b->d", "c->crate", "c->e", "crate->e", "d->a", "e->b"], "{:#?}", g.edges);
    // a -> b -> d -> a, and crate -> e -> b -> d -> a -> c -> crate: one knot.
    let cycles = g.cycles();
    assert_eq!(cycles.len(), 1, "{}", g.report());
    assert_eq!(cycles[0].1.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "b", "c", "crate", "d", "e"]);
    let report = g.report();
    assert!(report.starts_with("knot of 6 modules: a, b, c, crate, d, e\ncycle: a -> b -> d -> a\n"), "{report}");
    // Each module's shortest cycle, each cycle once: a-b-d from a, b and d; c-e-b-d-a from c and e.
    let starts: Vec<&str> = report.lines().filter(|l| l.starts_with("cycle: ")).collect();
    assert_eq!(
        starts,
        [
            "cycle: a -> b -> d -> a",
            "cycle: c -> e -> b -> d -> a -> c",
            "cycle: crate -> e -> b -> d -> a -> c -> crate",
        ],
        "{report}"
    );
    assert!(report.contains("src/b/inner.rs:1: super::super::d::VALUE"), "{report}");
}

#[test]
fn a_crate_that_imports_in_one_direction_has_no_cycle() {
    let g = graph_of(&[
        ("lib.rs", "pub mod top; pub mod bottom; pub use bottom::Thing;"),
        ("top.rs", "use crate::bottom::Thing; #[cfg(test)] mod tests;"),
        // A test file reaching up is not a dependency of the module.
        ("top/tests.rs", "use crate::top::x;"),
        ("bottom.rs", "pub struct Thing; #[cfg(test)] mod tests { use crate::top; }"),
    ]);
    assert_eq!(edges(&g), ["crate->bottom", "top->bottom"]);
    assert!(g.cycles().is_empty(), "{}", g.report());
}

/// `borne-core`'s modules import in one direction.
#[test]
fn the_core_has_no_import_cycle() {
    let g = Graph::of_crate(&borne_tests::repo().join("src-tauri/core/src"));
    assert!(g.modules.len() > 20, "{:?}", g.modules);
    let report = g.report();
    assert!(report.is_empty(), "borne-core's modules refer to each other in a circle:\n{report}");
}

/// Prints every edge of the core (`--ignored --nocapture`), for whoever untangles it.
#[test]
#[ignore = "a listing, not a check"]
fn list_the_core_edges() {
    let g = Graph::of_crate(&borne_tests::repo().join("src-tauri/core/src"));
    for ((a, b), sites) in &g.edges {
        println!(
            "{a} -> {b}: {}",
            sites.iter().map(|s| format!("{}:{} {}", s.file, s.line, s.path)).collect::<Vec<_>>().join(" | ")
        );
    }
}

/// `bornectl`'s too.
#[test]
fn bornectl_has_no_import_cycle() {
    let g = Graph::of_crate(&borne_tests::repo().join("src-tauri/cli/src"));
    let report = g.report();
    assert!(report.is_empty(), "bornectl's modules refer to each other in a circle:\n{report}");
}

/// The shell's modules: state at the bottom, lib (run) at the top, events raised through
/// `state::dispatch` rather than by calling the session module (issue 15).
#[test]
fn the_shell_has_no_import_cycle() {
    let g = Graph::of_crate(&borne_tests::repo().join("src-tauri/src"));
    let report = g.report();
    assert!(report.is_empty(), "the shell's modules refer to each other in a circle:\n{report}");
}
