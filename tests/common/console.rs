//! The real binary on the console, with a data folder of its own (for tests of the CLI).

#![allow(dead_code)]

use std::process::Command;

// A test crate using both harnesses (tests/notices.rs) loads it twice; it holds no state.
#[allow(clippy::duplicate_mod)]
#[path = "database.rs"]
pub mod database;

pub struct Console {
    pub dir: tempfile::TempDir,
    /// The test's own database when not the default (PostgreSQL, see [`database`]).
    pub database: Option<String>,
}

impl Console {
    pub fn new() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let database = database::test_database_url(dir.path());
        Console { dir, database }
    }

    /// `nanbyo-accounts ARGS` reading this console's data folder and database and no Rocket.toml.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"));
        cmd.args(args)
            .env("NANBYO_DATA_DIR", self.dir.path())
            .env("ROCKET_CONFIG", self.dir.path().join("none.toml"));
        self.configure(&mut cmd);
        cmd
    }

    /// Points another command (a script that runs the binary) at this console's database.
    pub fn configure(&self, cmd: &mut Command) {
        if let Some(url) = &self.database {
            cmd.env("ROCKET_DATABASES", database::rocket_databases(url));
        }
    }

    /// The database the binary uses (the SQLite file in the data folder, or the PostgreSQL one).
    pub fn database_url(&self) -> String {
        database::effective_url(self.database.as_deref(), self.dir.path())
    }

    /// One value of a query on the console's database, read as text.
    pub fn query_one(&self, sql: &'static str) -> String {
        database::query_value_blocking(&self.database_url(), sql)
    }

    /// (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
        let out = self
            .command(args)
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    /// 新宿区 and 東京中央病院 (1311234567).
    pub fn add_hospital(&self) {
        assert!(
            self.run(&[
                "municipality",
                "add",
                "--code",
                "131041",
                "--name",
                "新宿区"
            ])
            .0
        );
        assert!(
            self.run(&[
                "institution",
                "add",
                "--code",
                "1311234567",
                "--name",
                "東京中央病院",
                "--municipality",
                "131041"
            ])
            .0
        );
    }

    /// `bootstrap` of the 難病DB 責任者 of 東京中央病院 (医事課), with `extra` arguments.
    pub fn bootstrap(&self, name: [&str; 4], extra: &[&str]) -> (bool, String, String) {
        let [family, given, family_kana, given_kana] = name;
        let mut args = vec![
            "bootstrap",
            "--institution",
            "1311234567",
            "--db",
            "nanbyo",
            "--family",
            family,
            "--given",
            given,
            "--family-kana",
            family_kana,
            "--given-kana",
            given_kana,
            "--department",
            "医事課",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().to_string()
    }
}

/// The `ログインID: …` line the console prints.
pub fn login_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("ログインID: "))
        .expect("a ログインID line")
        .to_string()
}
