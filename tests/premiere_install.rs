//! Premiere Pro's panels and the login service as files: the CEP manifest
//! against what Adobe's ExtensionManifest 7.0 schema requires, the UXP
//! manifest against every field Adobe documents for Premiere, and what
//! `integrations premiere install --root` and `service install --root`
//! write for macOS, Windows and Linux (paths and contents), through the
//! real binary. Premiere itself cannot run here; the panels' pages are
//! tried in Chromium by tests/premiere_browser.rs.

mod common;
use common::{run_with_env, Run, TestLedger};
use quick_xml::events::{BytesStart, Event};
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// An XML element: its name, attributes, text and children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }

    /// The element at a path of names below this one.
    fn at(&self, path: &[&str]) -> &Node {
        path.iter().fold(self, |node, name| node.child(name))
    }

    fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }
}

fn node(start: &BytesStart) -> Node {
    Node {
        name: start.name().as_ref().to_string(),
        attributes: start
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (a.key.as_ref().to_string(), a.value.to_string())
            })
            .collect(),
        ..Node::default()
    }
}

/// The document's root element.
fn parse_xml(xml: &str) -> Node {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => stack.push(node(&start)),
            Event::Empty(start) => stack.last_mut().unwrap().children.push(node(&start)),
            Event::End(_) => {
                let mut done = stack.pop().unwrap();
                done.text = done.text.trim().to_string();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(text) => {
                let text = text.xml10_content();
                stack.last_mut().unwrap().text.push_str(&text);
            }
            // `&quot;` and the like arrive as references of their own.
            Event::GeneralRef(reference) => {
                let name = reference.xml10_content();
                let character = match name.as_ref() {
                    "quot" => '"',
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "apos" => '\'',
                    other => panic!("an entity the definitions do not use: {other}"),
                };
                stack.last_mut().unwrap().text.push(character);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "every element closed");
    stack.pop().unwrap().children.pop().expect("a root element")
}

/// `[25.0,99.9]` or `12.0`: a version, or an inclusive range of two, each
/// of one to three numbers.
fn is_version_or_range(text: &str) -> bool {
    let version = |v: &str| {
        let parts: Vec<&str> = v.split('.').collect();
        (1..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(range) => match range.split_once(',') {
            Some((low, high)) => version(low) && version(high),
            None => false,
        },
        None => version(text),
    }
}

fn number(node: &Node) -> u32 {
    node.text
        .parse()
        .unwrap_or_else(|_| panic!("<{}> is a number: {:?}", node.name, node.text))
}

#[test]
fn the_cep_manifest_meets_what_the_extension_manifest_7_schema_requires() {
    let text =
        std::fs::read_to_string(repo("integrations/premiere/cep/CSXS/manifest.xml")).unwrap();
    let root = parse_xml(&text);
    assert_eq!(root.name, "ExtensionManifest");
    assert_eq!(root.attribute("Version"), Some("7.0"));
    // The schema's order of the root's children.
    assert_eq!(
        root.child_names(),
        ["ExtensionList", "ExecutionEnvironment", "DispatchInfoList"]
    );
    let bundle = root.attribute("ExtensionBundleId").unwrap();
    let id_like = |id: &str| {
        !id.is_empty()
            && id.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
    };
    assert!(id_like(bundle), "ExtensionBundleId {bundle}");
    assert!(root
        .attribute("ExtensionBundleVersion")
        .is_some_and(is_version_or_range));
    let extension = root.at(&["ExtensionList", "Extension"]);
    let id = extension.attribute("Id").unwrap();
    assert!(id_like(id) && id.starts_with(&format!("{bundle}.")), "{id}");
    assert!(extension
        .attribute("Version")
        .is_some_and(is_version_or_range));

    let environment = root.child("ExecutionEnvironment");
    assert_eq!(
        environment.child_names(),
        ["HostList", "LocaleList", "RequiredRuntimeList"]
    );
    let host = environment.at(&["HostList", "Host"]);
    assert_eq!(host.attribute("Name"), Some("PPRO"));
    assert_eq!(host.attribute("Version"), Some("[25.0,99.9]"));
    assert!(is_version_or_range(host.attribute("Version").unwrap()));
    let runtime = environment.at(&["RequiredRuntimeList", "RequiredRuntime"]);
    assert_eq!(runtime.attribute("Name"), Some("CSXS"));
    assert_eq!(runtime.attribute("Version"), Some("12.0"));

    let dispatch = root.at(&["DispatchInfoList", "Extension"]);
    assert_eq!(
        dispatch.attribute("Id"),
        Some(id),
        "dispatch info for the listed extension"
    );
    let info = dispatch.child("DispatchInfo");
    assert_eq!(info.child_names(), ["Resources", "Lifecycle", "UI"]);
    let resources = info.child("Resources");
    assert_eq!(
        resources.child_names(),
        ["MainPath", "ScriptPath", "CEFCommandLine"]
    );
    for path in ["MainPath", "ScriptPath"] {
        let value = &resources.child(path).text;
        assert!(value.starts_with("./"), "{path} is ./…: {value}");
        // It names a file that is shipped.
        assert!(
            repo("integrations/premiere/cep")
                .join(&value[2..])
                .is_file(),
            "{path} {value} exists"
        );
    }
    let parameters: Vec<&str> = resources
        .child("CEFCommandLine")
        .children
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    assert!(parameters.contains(&"--enable-nodejs"));
    let ui = info.child("UI");
    assert_eq!(ui.child_names(), ["Type", "Menu", "Geometry"]);
    assert_eq!(ui.child("Type").text, "Panel");
    // Geometry is mandatory since CEP 9; the panel fits 280–400 px.
    let geometry = ui.child("Geometry");
    assert_eq!(geometry.child_names(), ["Size", "MaxSize", "MinSize"]);
    let size = |name: &str| {
        let node = geometry.child(name);
        assert_eq!(node.child_names(), ["Height", "Width"], "{name}");
        (number(node.child("Width")), number(node.child("Height")))
    };
    let (width, height) = size("Size");
    let (min_width, min_height) = size("MinSize");
    let (max_width, max_height) = size("MaxSize");
    assert_eq!((min_width, max_width), (280, 400));
    assert!(min_width <= width && width <= max_width);
    assert!(min_height <= height && height <= max_height);
}

#[test]
fn the_uxp_manifest_has_every_field_adobe_documents_for_premiere() {
    let text = std::fs::read_to_string(repo("integrations/premiere/uxp/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["manifestVersion"], 5);
    assert!(manifest["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(manifest["name"].as_str().is_some_and(|n| !n.is_empty()));
    let version = manifest["version"].as_str().unwrap();
    assert_eq!(version.split('.').count(), 3, "version x.y.z: {version}");
    assert!(version.split('.').all(|p| p.parse::<u32>().is_ok()));
    let main = manifest["main"].as_str().unwrap();
    assert!(repo("integrations/premiere/uxp").join(main).is_file());
    assert_eq!(manifest["host"]["app"], "premierepro");
    assert_eq!(manifest["host"]["minVersion"], "25.6.0");
    let panels: Vec<&serde_json::Value> = manifest["entrypoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "panel")
        .collect();
    assert_eq!(panels.len(), 1);
    let panel = panels[0];
    assert!(panel["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(panel["label"]["default"].as_str().is_some());
    assert_eq!(panel["minimumSize"]["width"], 280);
    assert_eq!(panel["maximumSize"]["width"], 400);
    // The index.js's entrypoint setup names the same panel.
    let script = std::fs::read_to_string(repo("integrations/premiere/uxp/index.js")).unwrap();
    assert!(script.contains(&format!("\"{}\"", panel["id"].as_str().unwrap())));
    let permissions = &manifest["requiredPermissions"];
    let address = serde_json::json!(["http://127.0.0.1:7878"]);
    assert_eq!(permissions["network"]["domains"], address);
    assert_eq!(permissions["webview"]["allow"], "yes");
    assert_eq!(permissions["webview"]["domains"], address);
    assert_eq!(
        permissions["webview"]["enableMessageBridge"],
        "localAndRemote"
    );
    // macOS blocks plain-HTTP `localhost` in Premiere's webview.
    for shell in ["uxp/manifest.json", "uxp/config.js", "cep/config.js"] {
        let text =
            std::fs::read_to_string(repo(&format!("integrations/premiere/{shell}"))).unwrap();
        assert!(!text.contains("localhost"), "{shell} names 127.0.0.1 only");
    }
}

fn gencost(home: &Path, args: &[&str]) -> Run {
    let ledger = home.join("ledger.db");
    run_with_env(
        &format!("sqlite://{}", ledger.display()),
        &home.join("cfg"),
        home,
        args,
        &[],
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files of a zip archive, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a valid zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            (file.name().unwrap().to_string(), text)
        })
        .collect()
}

#[test]
fn premiere_install_lays_out_both_panels_for_macos_and_windows() {
    let cases = [
        (
            "macos",
            "Library/Application Support/Adobe/CEP/extensions/dev.gencost.premiere",
            "Library/Application Support/gencost/premiere/gencost.ccx",
            "defaults write com.adobe.CSXS.12 PlayerDebugMode 1",
            "UnifiedPluginInstallerAgent\" --install",
        ),
        (
            "windows",
            "AppData/Roaming/Adobe/CEP/extensions/dev.gencost.premiere",
            "AppData/Roaming/gencost/config/premiere/gencost.ccx",
            "reg add HKCU\\Software\\Adobe\\CSXS.12 /v PlayerDebugMode /t REG_SZ /d 1 /f",
            "UnifiedPluginInstallerAgent.exe\" /install",
        ),
    ];
    for (os, cep, ccx, debug_mode, installer) in cases {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().display().to_string();
        let run = gencost(
            home.path(),
            &[
                "integrations",
                "premiere",
                "install",
                "--root",
                &root,
                "--os",
                os,
                "--port",
                "7999",
            ],
        );
        assert_eq!(run.code, 0, "{os}: {run:?}");
        let folder = home.path().join(cep);
        for file in [
            "CSXS/manifest.xml",
            "index.html",
            "shell.js",
            "shell.css",
            "config.js",
            "host/project.jsx",
        ] {
            assert!(folder.join(file).is_file(), "{os}: {file}");
            assert!(
                run.stdout
                    .contains(&folder.join(file).display().to_string()),
                "{os}: lists {file}"
            );
        }
        // The port is written into the shell; the rest is as shipped.
        assert!(read(&folder.join("config.js")).contains("\"http://127.0.0.1:7999\""));
        assert_eq!(
            read(&folder.join("CSXS/manifest.xml")),
            read(&repo("integrations/premiere/cep/CSXS/manifest.xml"))
        );
        assert!(run.stdout.contains(debug_mode), "{os}: {}", run.stdout);
        // The .ccx: a zip with the manifest at its root, the port in its domains.
        let files = unzip(&std::fs::read(home.path().join(ccx)).unwrap());
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"manifest.json") && names.contains(&"index.html"),
            "{names:?}"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
                .unwrap();
        let domains = serde_json::json!(["http://127.0.0.1:7999"]);
        assert_eq!(
            manifest["requiredPermissions"]["network"]["domains"],
            domains
        );
        assert_eq!(
            manifest["requiredPermissions"]["webview"]["domains"],
            domains
        );
        assert!(files
            .iter()
            .any(|(n, t)| n == "config.js" && t.contains("127.0.0.1:7999")));
        assert!(run.stdout.contains(installer), "{os}: {}", run.stdout);
        // Nothing lands outside the stand-in home.
        assert!(!run.stdout.contains("ran:"), "{}", run.stdout);

        // Uninstall removes what it wrote, and keeps what someone else put there.
        let theirs = folder.join("notes.txt");
        std::fs::write(&theirs, "mine").unwrap();
        let run = gencost(
            home.path(),
            &[
                "integrations",
                "premiere",
                "uninstall",
                "--root",
                &root,
                "--os",
                os,
            ],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!folder.join("index.html").exists() && !folder.join("CSXS").exists());
        assert_eq!(read(&theirs), "mine");
        assert!(!home.path().join(ccx).exists());
    }
}

#[test]
fn premiere_install_refuses_linux_and_folders_it_did_not_make() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let run = gencost(
        home.path(),
        &[
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "linux",
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.contains("macOS and Windows only"));
    if cfg!(target_os = "linux") {
        let run = gencost(home.path(), &["integrations", "premiere", "install"]);
        assert_eq!(run.code, 2);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        // A rehearsal lays the files out as on macOS.
        let run = gencost(
            home.path(),
            &[
                "integrations",
                "premiere",
                "install",
                "--root",
                &root,
                "--cep",
            ],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.starts_with("as on macOS"));
    }
    // A folder of the same name that gencost did not make stays untouched.
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let folder = home
        .path()
        .join("AppData/Roaming/Adobe/CEP/extensions/dev.gencost.premiere");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("index.html"), "someone else's").unwrap();
    let run = gencost(
        home.path(),
        &[
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "windows",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("was not made by gencost"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&folder.join("index.html")), "someone else's");
    // A dry run writes nothing.
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let run = gencost(
        home.path(),
        &[
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "macos",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("would write"));
    assert!(!home.path().join("Library").exists());
}

/// Task Scheduler's XML, decoded from UTF-16 with its byte-order mark.
fn utf16(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], [0xFF, 0xFE], "UTF-16LE with a BOM");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

#[test]
fn service_install_writes_each_systems_definition_and_keeps_keys_out_of_it() {
    let binary = env!("CARGO_BIN_EXE_gencost");
    let cases = [
        (
            "macos",
            "Library/LaunchAgents/dev.gencost.serve.plist",
            "Library/Application Support/gencost/service.env",
            "launchctl bootstrap gui/",
        ),
        (
            "linux",
            ".config/systemd/user/gencost.service",
            ".config/gencost/service.env",
            "systemctl --user restart gencost.service",
        ),
        (
            "windows",
            "AppData/Roaming/gencost/config/gencost-serve-task.xml",
            "AppData/Roaming/gencost/config/service.env",
            "schtasks /create /tn \"gencost serve\" /xml",
        ),
    ];
    for (os, definition, environment, command) in cases {
        let home = tempfile::tempdir().unwrap();
        let root = home.path().display().to_string();
        let args = [
            "service",
            "install",
            "--root",
            &root,
            "--os",
            os,
            "--addr",
            "127.0.0.1:7999",
            "--now",
        ];
        // A dry run prints the definition and writes nothing.
        let mut dry = args.to_vec();
        dry.push("--dry-run");
        let run = gencost(home.path(), &dry);
        assert_eq!(run.code, 0, "{os}: {run:?}");
        assert!(
            run.stdout.contains("would write") && run.stdout.contains("serve"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(binary), "{}", run.stdout);
        assert!(
            !home.path().join(definition).exists(),
            "{os}: a dry run writes nothing"
        );
        let run = gencost(home.path(), &args);
        assert_eq!(run.code, 0, "{os}: {run:?}");
        let bytes = std::fs::read(home.path().join(definition)).unwrap();
        let text = if os == "windows" {
            utf16(&bytes)
        } else {
            String::from_utf8(bytes).unwrap()
        };
        let environment = home.path().join(environment);
        // The definition runs this binary's serve on the address, with the
        // environment file and the ledger; the key is not in it.
        for part in [
            binary,
            "serve",
            "127.0.0.1:7999",
            "--env-file",
            &environment.display().to_string(),
            "--database",
        ] {
            assert!(text.contains(part), "{os}: {part} in\n{text}");
        }
        match os {
            "macos" => {
                let plist = parse_xml(&text);
                assert_eq!(plist.name, "plist");
                let dict = plist.child("dict");
                let keys: Vec<&str> = dict
                    .children
                    .iter()
                    .filter(|c| c.name == "key")
                    .map(|c| c.text.as_str())
                    .collect();
                for key in ["Label", "ProgramArguments", "RunAtLoad", "KeepAlive"] {
                    assert!(keys.contains(&key), "{key}");
                }
                let arguments: Vec<&str> = dict
                    .child("array")
                    .children
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect();
                assert_eq!(
                    arguments[..4],
                    [binary, "serve", "--addr", "127.0.0.1:7999"]
                );
            }
            "windows" => {
                assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));
                let task = parse_xml(&text);
                assert_eq!(task.name, "Task");
                assert_eq!(
                    task.child_names(),
                    [
                        "RegistrationInfo",
                        "Triggers",
                        "Principals",
                        "Settings",
                        "Actions"
                    ]
                );
                assert!(task
                    .at(&["Triggers", "LogonTrigger"])
                    .child_names()
                    .contains(&"Enabled"));
                assert_eq!(task.at(&["Actions", "Exec", "Command"]).text, binary);
                assert!(task
                    .at(&["Actions", "Exec", "Arguments"])
                    .text
                    .starts_with("serve --addr 127.0.0.1:7999 --env-file"));
                assert_eq!(
                    task.at(&["Principals", "Principal", "RunLevel"]).text,
                    "LeastPrivilege"
                );
            }
            _ => {
                assert!(text.contains("[Service]\nExecStart=\""), "{text}");
                assert!(text.contains("[Install]\nWantedBy=default.target"));
            }
        }
        // Under --root, the commands are printed, not run.
        assert!(
            run.stdout.contains(&format!("run: {command}")),
            "{os}: {}",
            run.stdout
        );
        // The environment file: comments only, readable by its owner only.
        assert!(read(&environment).lines().all(|l| l.starts_with('#')));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&environment)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{os}");
        }
        // Installing again keeps the user's keys and replaces its own definition.
        std::fs::write(&environment, "FAL_KEY=theirs\n").unwrap();
        let run = gencost(home.path(), &args);
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(read(&environment), "FAL_KEY=theirs\n");
        assert!(run.stdout.contains("kept"));
        let status = gencost(
            home.path(),
            &[
                "service",
                "status",
                "--root",
                &root,
                "--os",
                os,
                "--addr",
                "127.0.0.1:9",
            ],
        );
        assert!(
            status.stdout.contains("service: installed"),
            "{}",
            status.stdout
        );
        assert!(status.stdout.contains("not answering"));
        // Uninstall removes the definition and keeps the keys.
        let run = gencost(
            home.path(),
            &["service", "uninstall", "--root", &root, "--os", os],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!home.path().join(definition).exists());
        assert_eq!(read(&environment), "FAL_KEY=theirs\n");
    }
}

#[test]
fn service_install_refuses_a_foreign_definition_and_a_password_in_the_url() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let unit = home.path().join(".config/systemd/user/gencost.service");
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(&unit, "[Service]\nExecStart=/usr/bin/their-gencost\n").unwrap();
    let run = gencost(
        home.path(),
        &["service", "install", "--root", &root, "--os", "linux"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("was not written by gencost"),
        "{}",
        run.stderr
    );
    assert_eq!(read(&unit), "[Service]\nExecStart=/usr/bin/their-gencost\n");
    let run = gencost(
        home.path(),
        &["service", "uninstall", "--root", &root, "--os", "linux"],
    );
    assert_eq!(run.code, 2);
    assert!(unit.exists());

    for url in [
        "postgres://studio:hunter2@db.local/ledger",
        "postgres://studio:hun/ter2@db.local/ledger",
        "postgres://studio@db.local/ledger?sslmode=require&password=hunter2",
    ] {
        let run = gencost(
            home.path(),
            &[
                "--database",
                url,
                "service",
                "install",
                "--root",
                &root,
                "--os",
                "macos",
            ],
        );
        assert_eq!(run.code, 2, "{url}");
        assert!(
            run.stderr.contains("holds a password") && run.stderr.contains("service.env"),
            "{}",
            run.stderr
        );
        assert!(!home.path().join("Library").exists(), "nothing written");
    }
    // An environment file others can read would stop the service at every
    // login: refused at install.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let environment = home.path().join(".config/gencost/service.env");
        std::fs::create_dir_all(environment.parent().unwrap()).unwrap();
        std::fs::write(&environment, "FAL_KEY=x\n").unwrap();
        std::fs::set_permissions(&environment, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::remove_file(&unit).unwrap();
        let run = gencost(
            home.path(),
            &["service", "install", "--root", &root, "--os", "linux"],
        );
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
        assert!(!unit.exists());
        let status = gencost(
            home.path(),
            &["service", "status", "--root", &root, "--os", "linux"],
        );
        assert!(
            status
                .stdout
                .contains("readable by other users: chmod 600 it"),
            "{}",
            status.stdout
        );
    }
    // A service needs a fixed port; `localhost` is the loopback, as for serve.
    let run = gencost(
        home.path(),
        &["service", "install", "--dry-run", "--addr", "127.0.0.1:0"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--addr: a service started at login needs a fixed port"),
        "{}",
        run.stderr
    );
    let run = gencost(
        home.path(),
        &[
            "service",
            "install",
            "--dry-run",
            "--addr",
            "127.0.0.1:99999",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("a port from 1 to 65535"),
        "{}",
        run.stderr
    );
    // A libpq string is refused (its password would show), and a relative
    // SQLite path is made absolute (the service starts elsewhere).
    let run = gencost(
        home.path(),
        &[
            "--database",
            "host=db user=u password=pw",
            "service",
            "install",
            "--dry-run",
            "--os",
            "linux",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--database"), "{}", run.stderr);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_root = fresh.path().display().to_string();
    let run = gencost(
        home.path(),
        &[
            "--database",
            "sqlite://relative.db",
            "service",
            "install",
            "--root",
            &fresh_root,
            "--os",
            "linux",
            "--addr",
            "localhost:7999",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let unit = read(&fresh.path().join(".config/systemd/user/gencost.service"));
    let absolute = std::env::current_dir().unwrap().join("relative.db");
    assert!(
        unit.contains(&format!("\"sqlite://{}\"", absolute.display())),
        "{unit}"
    );
    assert!(unit.contains("\"--addr\" \"127.0.0.1:7999\""), "{unit}");
    // Status asks the installed service's address.
    let status = gencost(
        home.path(),
        &["service", "status", "--root", &fresh_root, "--os", "linux"],
    );
    assert!(
        status
            .stdout
            .contains("not answering at http://127.0.0.1:7999"),
        "{}",
        status.stdout
    );
}

#[test]
fn serve_takes_its_keys_from_an_owner_only_environment_file() {
    let ledger = TestLedger::sqlite();
    let file = ledger.dir.path().join("service.env");
    std::fs::write(&file, "# keys\nGENCOST_TOKEN=token-from-the-service-file\n").unwrap();
    let path = file.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = ledger.run(&["serve", "--addr", "127.0.0.1:0", "--env-file", &path]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("can be read by other users"),
            "{}",
            run.stderr
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(&file, "GENCOST_TOKEN token-from-the-service-file\n").unwrap();
    let run = ledger.run(&["serve", "--addr", "127.0.0.1:0", "--env-file", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("service.env, line 1: expected NAME=value"),
        "{}",
        run.stderr
    );
    std::fs::write(&file, "# keys\nGENCOST_TOKEN=token-from-the-service-file\n").unwrap();
    let server = common::server::Server::start(&ledger, &["--env-file", &path]);
    common::on_own_runtime(move || async move {
        let client = common::server::http_client(true);
        let refused = client.get(server.api("/entries")).send().await.unwrap();
        assert_eq!(
            refused.status(),
            401,
            "the token from the file guards the API"
        );
        let allowed = client
            .get(server.api("/entries"))
            .bearer_auth("token-from-the-service-file")
            .send()
            .await
            .unwrap();
        assert_eq!(allowed.status(), 200);
    });
}

#[test]
fn definitions_quote_paths_with_spaces_quotes_and_percent_signs() {
    let home = tempfile::tempdir().unwrap();
    // A home folder as awkward as a real one can be.
    let odd = home.path().join("Örebro Film's \"cut\" 100% $HOME");
    std::fs::create_dir_all(&odd).unwrap();
    let root = odd.display().to_string();
    let run = gencost(
        &odd,
        &["service", "install", "--root", &root, "--os", "linux"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let unit = read(&odd.join(".config/systemd/user/gencost.service"));
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    // systemd's quoting: each word in double quotes, `"` and `\` escaped,
    // `%` and `$` doubled, so the path arrives as it is.
    let environment = format!("{root}/.config/gencost/service.env")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    assert!(
        exec.contains(&format!("\"--env-file\" \"{environment}\"")),
        "{exec}"
    );
    // Task Scheduler's XML: the path quoted once, XML-escaped.
    let run = gencost(
        &odd,
        &["service", "install", "--root", &root, "--os", "windows"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    // (read raw: the test's reader drops entities)
    let task = utf16(
        &std::fs::read(odd.join("AppData/Roaming/gencost/config/gencost-serve-task.xml")).unwrap(),
    );
    let environment = format!("{root}/AppData/Roaming/gencost/config/service.env")
        .replace('&', "&amp;")
        .replace('"', "\\&quot;");
    assert!(
        task.contains(&format!("--env-file &quot;{environment}&quot;")),
        "{task}"
    );
    // launchd: each word its own string element, XML-escaped, read back whole.
    let run = gencost(
        &odd,
        &["service", "install", "--root", &root, "--os", "macos"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let plist = parse_xml(&read(
        &odd.join("Library/LaunchAgents/dev.gencost.serve.plist"),
    ));
    let words: Vec<&str> = plist
        .at(&["dict", "array"])
        .children
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    assert!(
        words.contains(&format!("{root}/Library/Application Support/gencost/service.env").as_str()),
        "{words:?}"
    );
}

#[test]
fn the_cep_panel_starts_gencost_as_the_service_would() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().display().to_string();
    let config = |home: &Path| {
        read(&home.join(
            "Library/Application Support/Adobe/CEP/extensions/dev.gencost.premiere/config.js",
        ))
    };
    let serve_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("window.GENCOST_SERVE"))
            .unwrap()
            .to_string()
    };
    // Before the service exists: the address only (and the ledger named).
    let run = gencost(
        home.path(),
        &[
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "macos",
            "--cep",
            "--port",
            "7999",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let line = serve_line(&config(home.path()));
    assert!(
        line.starts_with(
            r#"window.GENCOST_SERVE = ["serve","--addr","127.0.0.1:7999","--database","sqlite://"#
        ),
        "{line}"
    );
    // With the service's environment file: that too.
    assert_eq!(
        gencost(
            home.path(),
            &["service", "install", "--root", &root, "--os", "macos"]
        )
        .code,
        0
    );
    gencost(
        home.path(),
        &[
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "macos",
            "--cep",
            "--port",
            "7999",
        ],
    );
    let line = serve_line(&config(home.path()));
    assert!(
        line.contains(r#""--env-file","#) && line.contains("service.env"),
        "{line}"
    );
    // A ledger URL with a password: the panel starts nothing.
    let run = gencost(
        home.path(),
        &[
            "--database",
            "postgres://studio:hunter2@db.local/ledger",
            "integrations",
            "premiere",
            "install",
            "--root",
            &root,
            "--os",
            "macos",
            "--cep",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        serve_line(&config(home.path())),
        "window.GENCOST_SERVE = null;"
    );
    assert!(!config(home.path()).contains("hunter2"));
    assert!(
        run.stdout.contains("will not start gencost itself"),
        "{}",
        run.stdout
    );
}
