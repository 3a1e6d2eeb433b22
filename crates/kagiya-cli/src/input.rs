//! Secrets from standard input, one per line, in the order each command documents. Nothing
//! secret is ever taken from the command line, where it would end up in shell history and `ps`.

use std::io::BufRead;

use kagiya_core::secret::Secret;
use kagiya_core::Error;

/// Reads the lines of stdin lazily.
pub struct Stdin {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Stdin {
    pub fn new() -> Stdin {
        Stdin {
            lines: std::io::stdin().lock().lines(),
        }
    }

    /// The next line as a secret (without its line ending); `what` names it in the error.
    pub fn secret(&mut self, what: &'static str) -> Result<Secret, Error> {
        match self.lines.next() {
            Some(Ok(line)) => Ok(Secret::new(line.trim_end_matches('\r').to_owned())),
            _ => Err(Error::InvalidValue(what)),
        }
    }
}

/// The `login_id` column of a CSV file, or the IDs given on the command line.
pub fn targets(ids: &[String], csv: Option<&std::path::Path>) -> Result<Vec<String>, Error> {
    let mut out: Vec<String> = ids.to_vec();
    if let Some(path) = csv {
        let bytes = crate::context::read_file(path, crate::context::limits::TABLE)?;
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let col = r
            .headers()
            .map_err(|e| Error::File(e.to_string()))?
            .iter()
            .position(|h| h.trim() == "login_id")
            .ok_or(Error::InvalidValue("csv: login_id column"))?;
        for rec in r.records() {
            let rec = rec.map_err(|e| Error::File(e.to_string()))?;
            if let Some(v) = rec.get(col).map(str::trim).filter(|v| !v.is_empty()) {
                out.push(v.to_owned());
            }
        }
    }
    if out.is_empty() {
        return Err(Error::InvalidValue("login_ids"));
    }
    Ok(out)
}
