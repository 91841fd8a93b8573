//! Tables for people, JSON for scripts.

use clap::ValueEnum;
use serde_json::Value;

/// `-o table|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns.
    Table,
    /// One JSON document per command.
    Json,
}

/// Prints `json` under `-o json`, else the table of `headers` and `rows`.
pub fn emit(output: Output, json: &Value, headers: &[&str], rows: &[Vec<String>]) {
    match output {
        Output::Json => println!("{json}"),
        Output::Table => print!("{}", table(headers, rows)),
    }
}

/// Prints a message for people, or `json` for scripts.
pub fn say(output: Output, json: &Value, text: &str) {
    match output {
        Output::Json => println!("{json}"),
        Output::Table => println!("{text}"),
    }
}

/// Left-aligned columns, two spaces apart, headers first.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.push_str(cell);
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let t = table(
            &["TOPIC", "P"],
            &[
                vec!["orders".into(), "6".into()],
                vec!["a".into(), "12".into()],
            ],
        );
        assert_eq!(t, "TOPIC   P\norders  6\na       12\n");
    }
}
