//! Text given on the command line as a file, or `-` for standard input
//! (`--value-file`, `--password-file`).

use std::path::Path;

use anyhow::anyhow;

/// Text from a file or (`-`) standard input, at most `max` bytes, without one
/// trailing newline. Errors never quote the content.
pub fn read_text(file: &Path, flag: &str, max: u64) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin().take(max + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(max + 1).read_to_string(&mut text))
    };
    let name = if file == Path::new("-") {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    read.map_err(|e| anyhow!("{flag}: cannot read {name}: {e}"))?;
    if text.len() as u64 > max {
        let size = if max >= 1 << 20 {
            format!("{} MiB", max >> 20)
        } else {
            format!("{max} bytes")
        };
        return Err(anyhow!("{flag}: {name} is larger than {size}"));
    }
    if let Some(t) = text.strip_suffix('\n') {
        let t = t.strip_suffix('\r').unwrap_or(t);
        text = t.to_owned();
    }
    Ok(text)
}
