//! Launch options: where the data lives, whether to fill it with demo data, and an idle-lock
//! override. Read from the command line (and `KAGIYA_DATA_DIR`), never from the webview.

use std::path::PathBuf;

/// What `--idle-lock-seconds` accepts: up to the longest idle-lock setting (two hours). The
/// console also keeps it at or below the branch's own setting.
pub const IDLE_LOCK_SECONDS: std::ops::RangeInclusive<u32> = 1..=7200;

/// Options given at launch.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// `--data-dir DIR` or `KAGIYA_DATA_DIR`; otherwise the OS data directory.
    pub data_dir: Option<PathBuf>,
    /// `--demo`: fill an empty database with the demo branch.
    pub demo: bool,
    /// `--idle-lock-seconds N`: lock after N seconds of inactivity instead of the setting.
    pub idle_lock_seconds: Option<u32>,
    /// `--export-dir DIR`: where CSV exports go (default: the OS Downloads folder).
    pub export_dir: Option<PathBuf>,
}

impl LaunchOptions {
    /// Parses the arguments after the program name. Unknown arguments are reported, not fatal
    /// (the OS may pass its own, e.g. macOS's `-psn_…`).
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env_data_dir: Option<String>,
    ) -> (Self, Vec<String>) {
        let mut o = LaunchOptions {
            data_dir: env_data_dir.filter(|s| !s.is_empty()).map(PathBuf::from),
            ..Default::default()
        };
        let mut ignored = Vec::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let (key, inline) = match a.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (a.clone(), None),
            };
            match key.as_str() {
                "--demo" => o.demo = true,
                "--data-dir" => match inline.or_else(|| it.next()) {
                    Some(v) if !v.is_empty() => o.data_dir = Some(PathBuf::from(v)),
                    _ => ignored.push(a),
                },
                "--export-dir" => match inline.or_else(|| it.next()) {
                    Some(v) if !v.is_empty() => o.export_dir = Some(PathBuf::from(v)),
                    _ => ignored.push(a),
                },
                "--idle-lock-seconds" => {
                    match inline
                        .or_else(|| it.next())
                        .and_then(|v| v.parse::<u32>().ok())
                    {
                        Some(n) if IDLE_LOCK_SECONDS.contains(&n) => o.idle_lock_seconds = Some(n),
                        _ => ignored.push(a),
                    }
                }
                _ => ignored.push(a),
            }
        }
        (o, ignored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_every_option_in_both_spellings() {
        let (o, ignored) = LaunchOptions::parse(
            args(&["--demo", "--data-dir", "/tmp/k", "--idle-lock-seconds=5"]),
            None,
        );
        assert_eq!(
            o,
            LaunchOptions {
                data_dir: Some("/tmp/k".into()),
                demo: true,
                idle_lock_seconds: Some(5),
                export_dir: None,
            }
        );
        assert!(ignored.is_empty());
    }

    #[test]
    fn the_command_line_beats_the_environment_and_bad_values_are_reported() {
        let (o, ignored) = LaunchOptions::parse(
            args(&["--data-dir=/a", "--idle-lock-seconds", "0", "-psn_0_123"]),
            Some("/env".into()),
        );
        assert_eq!(o.data_dir, Some("/a".into()));
        assert_eq!(o.idle_lock_seconds, None);
        assert_eq!(ignored, args(&["--idle-lock-seconds", "-psn_0_123"]));
        let (o, ignored) = LaunchOptions::parse(args(&["--idle-lock-seconds=7201"]), None);
        assert_eq!((o.idle_lock_seconds, ignored.len()), (None, 1), "bounded");
        let (o, _) = LaunchOptions::parse(args(&[]), Some("/env".into()));
        assert_eq!(o.data_dir, Some("/env".into()));
    }
}
