//! `commerce admin:user:password` with the real binary (issue 12, item 9):
//! the new password from a file, from standard input or generated; the
//! user's sessions end; blank, short and too-long passwords and unknown users
//! are refused with one line; usernames are one user whatever their case;
//! first start names this command. On SQLite and on PostgreSQL.

use std::process::Stdio;

use crate::common::{admin_login, cli_owned, command, with_db, Out, Server};
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;

testkit::both_backends!(crate::common::Db; fn change_passwords);

/// `commerce ARGS` with `input` on standard input.
async fn cli_stdin(data: &std::path::Path, args: &[String], input: &str) -> Out {
    let started = std::time::Instant::now();
    let mut child = command(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn commerce");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    drop(stdin);
    let output = child.wait_with_output().await.expect("run commerce");
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

async fn key_status_code(base: &str, sid: &str) -> StatusCode {
    crate::common::http()
        .get(format!("{base}/admin/api/v1/channels/amazon/key-status"))
        .header(COOKIE, format!("adm_sid={sid}"))
        .send()
        .await
        .expect("key status")
        .status()
}

async fn change_passwords(db: &crate::common::Db) {
    let db = db.url();
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let args = |a: &[&str]| with_db(a, db.as_deref());
    let run = |a: &[&str]| cli_owned(data, args(a));

    // First start: the generated password, and the command that changes it.
    let mut serve = vec!["serve", "admin", "--admin-addr", "127.0.0.1:0"];
    serve.extend(["--account-url", "http://127.0.0.1:9"]);
    let serve_args = args(&serve);
    let serve_argv: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let server = Server::start(data, &serve_argv, "Commerce Admin: ").await;
    let first = server
        .value("Admin user created: ")
        .expect("the first admin line");
    assert!(
        first.contains("change it with admin:user:password"),
        "{first}"
    );
    assert!(!first.contains("admin:user:create"), "{first}");
    let base = server.admin_base();
    let generated = server.admin_password().expect("a generated password");
    let (status, sid) = admin_login(&base, "admin", &generated).await;
    assert_eq!(status, StatusCode::OK);
    let sid = sid.expect("signed in");
    assert_eq!(key_status_code(&base, &sid).await, StatusCode::OK);

    // From a file (one trailing newline dropped), typed in another case: the
    // session of before ends; the old password no longer works.
    let file = data.join("new-password.txt");
    std::fs::write(&file, "a new admin password\n").expect("test setup");
    let file_arg = file.display().to_string();
    let out = run(&[
        "admin:user:password",
        "--username",
        "ADMIN",
        "--password-file",
        &file_arg,
    ])
    .await;
    assert!(out.ok(), "{out:?}");
    assert!(!out.stdout.contains("a new admin password"), "{out:?}");
    assert!(out.stdout.contains("sessions were ended"), "{out:?}");
    assert_eq!(key_status_code(&base, &sid).await, StatusCode::UNAUTHORIZED);
    let (status, _) = admin_login(&base, "admin", &generated).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, sid) = admin_login(&base, "admin", "a new admin password").await;
    assert_eq!(status, StatusCode::OK);
    let sid = sid.expect("signed in");

    // From standard input.
    let out = cli_stdin(
        data,
        &args(&[
            "admin:user:password",
            "--username",
            "admin",
            "--password-file",
            "-",
        ]),
        "from standard input\n",
    )
    .await;
    assert!(out.ok(), "{out:?}");
    assert_eq!(key_status_code(&base, &sid).await, StatusCode::UNAUTHORIZED);
    let (status, _) = admin_login(&base, "admin", "from standard input").await;
    assert_eq!(status, StatusCode::OK);

    // Generated and printed once.
    let out = run(&["admin:user:password", "--username", "admin"]).await;
    assert!(out.ok(), "{out:?}");
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("New password for admin: "))
        .expect("the generated password line");
    let (printed, note) = line.split_once(' ').expect("a note after the password");
    assert_eq!(note, "(shown once)");
    let (status, _) = admin_login(&base, "admin", printed).await;
    assert_eq!(status, StatusCode::OK);

    // Refused, with one line and the right words, nothing changed.
    for (content, says) in [
        ("            \n".to_owned(), "must not be blank"),
        ("short pw\n".to_owned(), "at least 12"),
        ("a password with\0a NUL\n".to_owned(), "NUL byte"),
        ("a password with\ta tab!\n".to_owned(), "control character"),
        (format!("{}\n", "x".repeat(300)), "at most 256"),
    ] {
        std::fs::write(&file, &content).expect("test setup");
        let out = run(&[
            "admin:user:password",
            "--username",
            "admin",
            "--password-file",
            &file_arg,
        ])
        .await;
        out.assert_clean_error(&format!("password {content:?}"));
        assert!(out.stderr.contains(says), "{content:?}: {}", out.stderr);
        assert!(!content.trim().is_empty() || !out.stderr.contains("            "));
        assert!(content.trim().is_empty() || !out.stderr.contains(content.trim()));
    }
    let out = run(&["admin:user:password", "--username", "nobody"]).await;
    out.assert_clean_error("unknown user");
    assert!(out.stderr.contains("no admin user"), "{}", out.stderr);
    assert!(
        out.stdout.is_empty(),
        "no password printed for nobody: {out:?}"
    );
    let missing = data.join("nope.txt").display().to_string();
    let out = run(&[
        "admin:user:password",
        "--username",
        "admin",
        "--password-file",
        &missing,
    ])
    .await;
    out.assert_clean_error("missing file");
    let (status, _) = admin_login(&base, "admin", printed).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refused changes changed nothing"
    );

    // One user whatever the case: creating `Admin` is refused.
    let out = run(&[
        "admin:user:create",
        "--username",
        "Admin",
        "--password",
        "long enough pass",
        "--email",
        "a2@example.com",
    ])
    .await;
    out.assert_clean_error("Admin beside admin");
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    // A blank password on create is refused too.
    let out = run(&[
        "admin:user:create",
        "--username",
        "dave",
        "--password",
        "              ",
        "--email",
        "d@example.com",
    ])
    .await;
    out.assert_clean_error("blank password on create");
    assert!(out.stderr.contains("must not be blank"), "{}", out.stderr);

    assert_eq!(server.terminate().await, Some(0));
}
