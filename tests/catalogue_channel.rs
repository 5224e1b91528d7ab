//! The signed catalogue channel end to end without a display: the federation makes a key and signs
//! a publication folder with `bornectl catalogue`, a static HTTP server on 127.0.0.1 serves it, and a
//! borne (`bornectl catalogue check --apply`, then `borne_core::load` as the kiosk loads) takes the
//! good versions and refuses the others, keeping the last good one in force.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use borne_core::load::{load, Paths};
use borne_core::policy::LoadKind;
use borne_tests::{bin, repo};

/// A static file server on 127.0.0.1 for `root` (GET only, one request a connection), as any web
/// server the federation already has would serve the folder.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            let mut out = &stream;
            let _ = match std::fs::read(root.join(&path)).ok().filter(|_| !path.contains("..")) {
                Some(body) => out
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                            .as_bytes(),
                    )
                    .and_then(|()| out.write_all(&body)),
                None => out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    format!("http://{addr}/borne/")
}

fn bornectl(paths: &Paths, args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(bin("bornectl"))
        .args(args)
        .arg("--config")
        .arg(&paths.config_dir)
        .arg("--state")
        .arg(&paths.state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bornectl runs (build it with `cargo build -p bornectl`)");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// Writes version `version` of the publication: the shipped files, with `edit` applied to each
/// (catalogue, sheets).
fn write_version(folder: &Path, version: u64, edit: impl Fn(&str, String) -> String) {
    std::fs::create_dir_all(folder).unwrap();
    for name in ["catalogue.toml", "demarches.toml"] {
        let text = std::fs::read_to_string(repo().join("config").join(name)).unwrap();
        std::fs::write(folder.join(name), edit(name, format!("version = {version}\n{text}"))).unwrap();
    }
}

/// `bornectl catalogue sign` on the folder, the key's password (if any) on standard input.
fn sign(paths: &Paths, folder: &Path, key: &Path, password: &str) -> (i32, String) {
    bornectl(paths, &["catalogue", "sign", "--key", key.to_str().unwrap(), folder.to_str().unwrap()], password)
}

fn publish(paths: &Paths, folder: &Path, key: &Path, version: u64, password: &str) {
    write_version(folder, version, |_, t| t);
    let (code, out) = sign(paths, folder, key, password);
    assert_eq!(code, 0, "{out}");
}

fn allowed(paths: &Paths, url: &str) -> bool {
    load(paths).effective.policy.decide_str(url, LoadKind::Navigation).is_allowed()
}

const NEW_TILE: &str = "\n[[services]]\nid = \"mon-espace-sante\"\nname = \"Mon espace santé\"\n\
    description = \"Votre carnet de santé en ligne\"\ntheme = \"sante\"\npictogram = \"sante\"\n\
    url = \"https://www.monespacesante.fr/\"\nhosts = [\"www.monespacesante.fr\"]\n";

#[test]
fn a_borne_takes_good_signed_versions_from_a_static_server_and_refuses_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: dir.path().join("config"), state_dir: dir.path().join("state") };
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    std::fs::create_dir_all(&paths.state_dir).unwrap();
    std::fs::copy(repo().join("config/catalogue.toml"), paths.catalogue()).unwrap();
    std::fs::copy(repo().join("config/demarches.toml"), paths.demarches()).unwrap();

    // The federation: two keys (the second for the next rotation), none committed anywhere.
    let keys = dir.path().join("keys");
    let (code, out) =
        bornectl(&paths, &["catalogue", "keygen", "--dir", keys.join("a").to_str().unwrap(), "--unencrypted"], "");
    assert_eq!(code, 0, "{out}");
    let (code, out) = bornectl(
        &paths,
        &["catalogue", "keygen", "--dir", keys.join("b").to_str().unwrap()],
        "un mot de passe long\nun mot de passe long\n",
    );
    assert_eq!(code, 0, "{out}");
    let public = |k: &str| {
        std::fs::read_to_string(keys.join(k).join("federation.pub")).unwrap().lines().nth(1).unwrap().to_string()
    };
    let (key_a, key_b) = (keys.join("a/federation.key"), keys.join("b/federation.key"));
    let www = dir.path().join("www");
    let folder = www.join("borne");
    let url = serve(www.clone());
    let settings = std::fs::read_to_string(repo().join("config/borne.toml"))
        .unwrap()
        .replace("channel_url = \"\"", &format!("channel_url = \"{url}\""))
        .replace("public_keys = []", &format!("public_keys = [\"{}\"]", public("a")));
    std::fs::write(paths.settings(), &settings).unwrap();
    // The référent hid a tile the next version removes.
    std::fs::write(paths.local(), "hidden = [\"ants\"]\n").unwrap();
    assert!(!allowed(&paths, "https://www.monespacesante.fr/"));
    let check = |stdin: &str| bornectl(&paths, &["catalogue", "check", "--apply"], stdin);

    // Nothing published yet: an ordinary error, the borne unchanged.
    let (code, out) = check("");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("injoignable"), "{out}");

    // Version 10: a new tile, the ANTS tile and its sheet removed.
    write_version(&folder, 10, |name, c| {
        if name == "demarches.toml" {
            return c
                .split("[[demarches]]")
                .filter(|s| !s.contains("service = \"ants\""))
                .collect::<Vec<_>>()
                .join("[[demarches]]");
        }
        let start = c.find("id = \"ants\"").unwrap();
        let begin = c[..start].rfind("[[services]]").unwrap();
        let end = c[start..].find("[[services]]").map_or(c.len(), |e| start + e);
        format!("{}{}{NEW_TILE}", &c[..begin], &c[end..])
    });
    let (code, out) = sign(&paths, &folder, &key_a, "");
    assert_eq!(code, 0, "{out}");
    let (code, out) = check("");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Version 10 enregistrée"), "{out}");
    assert!(out.contains("« ants » n'est plus dans le catalogue national"), "{out}");
    let l = load(&paths);
    assert!(l.problems.is_empty(), "{:?}", l.problems);
    assert_eq!(l.national.version, 10);
    assert!(allowed(&paths, "https://www.monespacesante.fr/"), "the new tile's host opens");
    assert!(!l.effective.services.iter().any(|s| s.id == "ants"));
    assert_eq!(l.local.set_aside.len(), 1);
    let (code, out) = bornectl(&paths, &["check-config"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Catalogue national : version 10 (mise à jour signée de la fédération)."), "{out}");
    assert!(out.contains("- La tuile « ants » n'est plus dans le catalogue national"), "{out}");
    let (code, out) = check("");
    assert_eq!((code, out.contains("à jour (version 10)")), (0, true), "{out}");

    // Refused, each with its reason, version 10 kept: tampered, unsigned, another key, replay, broken.
    let good_sig = std::fs::read(folder.join("catalogue.toml.minisig")).unwrap();
    let good = std::fs::read_to_string(folder.join("catalogue.toml")).unwrap();
    std::fs::write(folder.join("catalogue.toml"), good.replace("www.monespacesante.fr", "evil.example")).unwrap();
    let (code, out) = check("");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("modifié après sa signature"), "{out}");
    std::fs::write(folder.join("catalogue.toml"), &good).unwrap();
    std::fs::remove_file(folder.join("catalogue.toml.minisig")).unwrap();
    let (code, out) = check("");
    assert!(code == 1 && out.contains("n'est pas signé"), "{out}");
    publish(&paths, &folder, &key_b, 11, "un mot de passe long\n");
    let (code, out) = check("");
    assert!(code == 1 && out.contains("clé qui n'est pas celle"), "{out}");
    std::fs::write(folder.join("catalogue.toml"), &good).unwrap();
    std::fs::write(folder.join("catalogue.toml.minisig"), &good_sig).unwrap();
    publish(&paths, &folder, &key_a, 9, "");
    let (code, out) = check("");
    assert!(code == 1 && out.contains("plus ancienne que la version 10"), "{out}");
    publish_broken(&paths, &folder, &key_a, 12);
    let (code, out) = check("");
    assert!(code == 1 && out.contains("les fichiers contiennent"), "{out}");
    let l = load(&paths);
    assert_eq!(l.national.version, 10, "the last good version stays in force");
    assert!(allowed(&paths, "https://www.monespacesante.fr/"));
    let status = std::fs::read_to_string(paths.state_dir.join("catalogue-channel/status.json")).unwrap();
    assert!(status.contains("\"code\": \"invalid\""), "{status}");

    // The rotation: the borne is given both keys, then the new key's version 13 applies; the shipped
    // catalogue is back (the ANTS tile too, the référent's choice on it applies again).
    std::fs::write(
        paths.settings(),
        settings.replace(&format!("[\"{}\"]", public("a")), &format!("[\"{}\", \"{}\"]", public("a"), public("b"))),
    )
    .unwrap();
    publish(&paths, &folder, &key_b, 13, "un mot de passe long\n");
    let (code, out) = check("");
    assert_eq!(code, 0, "{out}");
    let l = load(&paths);
    assert_eq!(l.national.version, 13);
    assert!(!allowed(&paths, "https://www.monespacesante.fr/"), "a removed host is blocked again");
    assert!(l.local.hidden.contains(&"ants".to_string()));
}

/// A broken catalogue signed anyway (by hand, as a careless federation could): `sign` itself refuses it.
fn publish_broken(paths: &Paths, folder: &Path, key: &Path, version: u64) {
    write_version(folder, version, |name, t| {
        if name == "catalogue.toml" {
            format!("version = {version}\n[[services]\nid = ")
        } else {
            t
        }
    });
    let (code, out) = sign(paths, folder, key, "");
    assert_eq!(code, 1, "sign refuses a broken file: {out}");
    let text = std::fs::read_to_string(key).unwrap();
    let sk = minisign::SecretKey::from_unencrypted_box(minisign::SecretKeyBox::from_string(&text).unwrap()).unwrap();
    for name in ["catalogue.toml", "demarches.toml"] {
        let data = std::fs::read(folder.join(name)).unwrap();
        let comment = borne_core::channel::signature::trusted_comment(name, version);
        let sig = minisign::sign(None, &sk, std::io::Cursor::new(data), Some(&comment), None).unwrap();
        std::fs::write(folder.join(format!("{name}.minisig")), sig.into_string()).unwrap();
    }
}
