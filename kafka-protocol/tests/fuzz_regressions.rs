//! Replays fuzzer findings without running the fuzzer.
//!
//! Every file in `fuzz/regressions/<target>/` is an input that once broke an invariant of that
//! cargo-fuzz target; it is fed through the very checks the target runs (the shared
//! `fuzz/src/checks.rs`), so a bug the fuzzer found stays fixed. The golden frames captured from
//! real clients go through the `frame` checks as well, so the checks themselves are exercised on
//! real traffic even while the regression folders are empty.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use kafka_protocol::messages::ApiKey;

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use checks::MessageSelector;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Input files under `dir` (recursively), skipping documentation and placeholders.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            found.extend(inputs(&path));
        } else if !name.starts_with('.') && !name.ends_with(".md") && !name.ends_with(".tsv") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Runs `check` on every input file and fails with the list of files that panic.
fn replay(files: &[PathBuf], check: fn(&[u8])) {
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            catch_unwind(AssertUnwindSafe(|| check(&data)))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect();
    assert!(failures.is_empty(), "inputs that fail: {failures:#?}");
}

fn replay_target(target: &str, check: fn(&[u8])) {
    let dir = fuzz_dir().join("regressions").join(target);
    replay(&inputs(&dir), check);
}

#[test]
fn frame_regressions_pass() {
    replay_target("frame", checks::frame);
}

#[test]
fn message_regressions_pass() {
    replay_target("message", checks::message);
}

#[test]
fn record_batch_regressions_pass() {
    replay_target("record_batch", checks::record_batch);
}

/// Golden request frames are `frame` inputs as they are; response frames need the api key and
/// version of their request in front (the response does not carry them).
#[test]
fn golden_frames_pass_the_frame_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    if !dir.is_dir() {
        return;
    }
    let mut checked = 0;
    for path in inputs(&dir) {
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("");
        let parts: Vec<&str> = name.split('_').collect();
        let [_, api_name, version, side] = parts[..] else {
            continue;
        };
        let Some(api_key) = ApiKey::ALL.iter().find(|k| k.name() == api_name) else {
            continue;
        };
        let Some(Ok(version)) = version.strip_prefix('v').map(str::parse::<i16>) else {
            continue;
        };
        let frame = fs::read(&path).expect("golden frame");
        let input = if side == "resp" {
            let mut input = api_key.key().to_be_bytes().to_vec();
            input.extend_from_slice(&version.to_be_bytes());
            input.extend_from_slice(&frame);
            input
        } else {
            frame
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| checks::frame(&input)));
        assert!(outcome.is_ok(), "{} fails the frame checks", path.display());
        checked += 1;
    }
    assert!(checked > 0, "no golden frames under {}", dir.display());
}

/// The seed generator relies on `to_bytes` selecting exactly what `parse` reads back.
#[test]
fn message_selector_bytes_round_trip_for_every_api_and_version() {
    for &api_key in ApiKey::ALL {
        let range = api_key.versions();
        for version in range.min..=range.max {
            for (response, prefixes) in [(false, false), (true, true)] {
                let selector = MessageSelector {
                    api_key,
                    version,
                    response,
                    prefixes,
                };
                let bytes = selector.to_bytes().expect("selector bytes");
                assert_eq!(MessageSelector::parse(&bytes), Some(selector));
            }
        }
        // One past the highest version is selectable, so the fuzzer checks it is refused.
        let beyond = MessageSelector::parse(&[
            MessageSelector {
                api_key,
                version: range.min,
                response: false,
                prefixes: false,
            }
            .to_bytes()
            .expect("selector bytes")[0],
            u8::try_from(range.max - range.min + 1).expect("version span"),
            0,
            0,
        ]);
        assert_eq!(beyond.map(|s| s.version), Some(range.max + 1));
    }
}
