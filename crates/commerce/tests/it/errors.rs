//! Bad command-line input: one clear line on stderr, a non-zero exit, no
//! panic, and nothing stored. On the SQLite data dir and on PostgreSQL.

use crate::common::{cli, db_args, KEY_PATH};

testkit::both_backends!(crate::common::Db; fn bad_input);

async fn bad_input(db: &crate::common::Db) {
    let db = db.url();
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let db_args = db_args(db.as_deref());
    let with_db = |args: &[&'static str]| -> Vec<String> {
        args.iter()
            .copied()
            .chain(db_args.iter().copied())
            .map(str::to_owned)
            .collect()
    };

    // (args, what stderr names)
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with_db(&["frobnicate"]), "frobnicate"),
        (with_db(&["config:set", "nope/x/y", "v"]), "nope/x/y"),
        (
            with_db(&[
                "config:set",
                KEY_PATH,
                "v",
                "--scope",
                "websites",
                "--scope-code",
                "base",
            ]),
            "default scope",
        ),
        (
            with_db(&["config:set", KEY_PATH, "v", "--scope", "websites"]),
            "--scope-code",
        ),
        (
            with_db(&[
                "config:set",
                "general/store_information/name",
                "v",
                "--scope",
                "stores",
                "--scope-code",
                "nope",
            ]),
            "nope",
        ),
        (
            with_db(&["config:set", KEY_PATH, "v", "--scope", "galaxy"]),
            "galaxy",
        ),
        (
            with_db(&[
                "config:set",
                "services_connector/production_gateway_url",
                "not a url",
            ]),
            "http://",
        ),
        (with_db(&["config:show", "nope"]), "nope"),
        (
            vec![
                "serve".into(),
                "--data-dir".into(),
                "/dev/null/commerce".into(),
                "--trusted-proxy".into(),
                "10.0.0.0/33".into(),
            ],
            "--trusted-proxy: \"10.0.0.0/33\" is not an IP address or CIDR range",
        ),
        (with_db(&["config:set"]), "required"),
        // Usage errors name the missing argument.
        (with_db(&["config:set"]), "<PATH>"),
        (
            vec!["admin:user:create".into(), "--password".into(), "x".into()],
            "--username",
        ),
        (
            vec![
                "channel:amazon:verify".into(),
                "--database-url".into(),
                "mysql://localhost/x".into(),
            ],
            "unsupported database URL",
        ),
    ];
    for (args, names) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli(data, &argv).await;
        out.assert_clean_error(&format!("{argv:?}"));
        assert!(
            out.stderr.contains(names),
            "{argv:?}: stderr names {names:?}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{argv:?}: nothing on stdout: {out:?}"
        );
        assert!(!out.stderr.contains("\"v\""), "{argv:?}");
    }

    // Nothing was stored by any of them.
    let mut show = vec!["config:show"];
    show.extend(db_args.iter().copied());
    let out = cli(data, &show).await;
    assert!(out.ok(), "{out:?}");
    assert!(!out.stdout.contains(KEY_PATH), "{}", out.stdout);
    assert!(!out.stdout.contains("nope"), "{}", out.stdout);
    assert!(!out.stdout.contains("general/store_information/name"));

    // A data dir that cannot be created: one line too. (config:show only
    // reads: it creates no data dir, so a writing command is asked.)
    let out = cli(
        std::path::Path::new("/dev/null/commerce"),
        &["config:set", "general/store_information/name", "Shop"],
    )
    .await;
    out.assert_clean_error("an impossible data dir");
    assert!(out.stderr.contains("/dev/null/commerce"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_and_version_exit_zero() {
    let dir = tempfile::tempdir().expect("test setup");
    let out = cli(dir.path(), &["--help"]).await;
    assert!(out.ok(), "{out:?}");
    for cmd in [
        "serve",
        "admin:user:create",
        "config:set",
        "config:show",
        "channel:amazon:verify",
    ] {
        assert!(out.stdout.contains(cmd), "--help lists {cmd}");
    }
    let out = cli(dir.path(), &["--version"]).await;
    assert!(out.ok(), "{out:?}");
    assert!(out.stdout.starts_with("commerce "));
}
