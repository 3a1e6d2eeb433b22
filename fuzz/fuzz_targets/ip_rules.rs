//! Rule lines and country tables as typed by people: parsing must refuse, never panic.
#![no_main]

use kagiya_core::iprules::{CountryTable, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = CountryTable::from_csv(text);
        for line in text.lines() {
            let _ = RuleSet::parse_rule(line);
        }
    }
});
