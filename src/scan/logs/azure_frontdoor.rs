//! Azure Front Door access logs (category `FrontDoorAccessLog`), as
//! exported by a diagnostic setting: one JSON record per line, the request
//! under `properties`.
//!
//! Field names are those of the Standard/Premium access log: `time`,
//! `resourceId`, `category`, `operationName`, and under `properties`
//! `trackingReference`, `httpMethod`, `httpVersion`, `requestUri`,
//! `hostName`, `requestBytes`, `responseBytes`, `userAgent`, `clientIp`,
//! `clientPort`, `socketIp`, `timeToFirstByte`, `timeTaken`,
//! `requestProtocol`, `securityProtocol`, `httpStatusCode`, `pop`,
//! `cacheStatus`, `errorInfo`, `endpoint`, `originIp`, `originName`, … .
//! Rules reach them by path (`properties.pop`). Every request was served
//! by Azure, so `cloud` is `azure`; Front Door logs name an edge (`pop`),
//! not a region, so `region` is absent unless IP ranges give it.

use super::Transform;
use super::jsonl::JsonVocab;

pub const VOCAB: JsonVocab = &[
    ("timestamp", "time", Transform::None),
    ("host", "properties.hostName", Transform::Host),
    // The classic Front Door log (`FrontdoorAccessLog`) has no `hostName`:
    // its `requestUri` is the full URL.
    ("host", "properties.requestUri", Transform::Host),
    ("path", "properties.requestUri", Transform::Path),
    ("method", "properties.httpMethod", Transform::None),
    ("status", "properties.httpStatusCode", Transform::None),
    ("client_ip", "properties.clientIp", Transform::Ip),
    ("target_ip", "properties.originIp", Transform::Ip),
    ("bytes_in", "properties.requestBytes", Transform::None),
    ("bytes_out", "properties.responseBytes", Transform::None),
];

/// Whether a file starts as a `{"records": [...]}` document: Azure's
/// diagnostic logs as they go to Event Hubs (one such object per
/// message), and as Microsoft's documentation prints them. Records
/// inside are read one by one (see [`unwrap_records`]).
pub fn is_records_document(head: &[u8]) -> bool {
    let text = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(head);
    let mut rest = text.trim_ascii_start();
    let Some(after) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest = after.trim_ascii_start();
    rest.starts_with(b"\"records\"")
}

/// The records of a stream of JSON values (objects `{"records": [...]}`,
/// or plain records, one after the other, on one line or many), one per
/// line, each on the line of the input it starts on, or on the next free
/// one when several start on the same line (a one-line document's
/// records are lines 1, 2, 3, ...). A record's own line breaks become
/// spaces (JSON strings hold none). From a value that is not JSON on, the
/// input's lines are passed on as they are, to be counted as malformed
/// (or read, where a line is a record by itself).
pub fn unwrap_records(doc: &[u8]) -> Vec<u8> {
    #[derive(serde::Deserialize)]
    struct Wrapper<'a> {
        #[serde(borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    let mut out = Vec::with_capacity(doc.len() + doc.len() / 16);
    // Lines written to `out` so far; the line of `at` in `doc`.
    let mut lines_out = 0usize;
    let (mut at, mut line) = (0usize, 1usize);
    let mut line_of = |offset: usize| {
        line += doc
            .get(at..offset)
            .map_or(0, |s| s.iter().filter(|&&c| c == b'\n').count());
        at = at.max(offset);
        line
    };
    let mut emit = |out: &mut Vec<u8>, text: &[u8], line: usize| {
        while lines_out + 1 < line {
            out.push(b'\n');
            lines_out += 1;
        }
        out.extend(
            text.iter()
                .map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }),
        );
        out.push(b'\n');
        lines_out += 1;
    };
    let offset_in = |s: &str| (s.as_ptr() as usize).saturating_sub(doc.as_ptr() as usize);
    let mut values =
        serde_json::Deserializer::from_slice(doc).into_iter::<&serde_json::value::RawValue>();
    let mut last_end = 0;
    loop {
        match values.next() {
            None => break,
            Some(Ok(value)) => {
                last_end = values.byte_offset();
                match serde_json::from_str::<Wrapper<'_>>(value.get()) {
                    Ok(w) => {
                        for record in w.records {
                            let l = line_of(offset_in(record.get()));
                            emit(&mut out, record.get().as_bytes(), l);
                        }
                    }
                    Err(_) => {
                        let l = line_of(offset_in(value.get()));
                        emit(&mut out, value.get().as_bytes(), l);
                    }
                }
            }
            Some(Err(_)) => {
                // Not JSON from here: the rest, line by line.
                let rest = doc.get(last_end..).unwrap_or(&[]);
                let first = line_of(last_end);
                for (k, text) in rest.split(|&c| c == b'\n').enumerate() {
                    if !text.trim_ascii().is_empty() {
                        emit(&mut out, text, first + k);
                    }
                }
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(doc: &str) -> Vec<String> {
        String::from_utf8(unwrap_records(doc.as_bytes()))
            .unwrap()
            .split('\n')
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn records_documents_become_one_record_per_line() {
        let pretty = "{\n  \"records\": [\n    {\n      \"time\": \"t1\"\n    },\n    {\"time\": \"t2\"}\n  ]\n}\n";
        assert!(is_records_document(pretty.as_bytes()));
        let l = lines(pretty);
        // Each record on the line it starts on.
        assert_eq!(l[2], "{       \"time\": \"t1\"     }");
        assert_eq!(l[5], "{\"time\": \"t2\"}");
        assert!(l[..2].iter().all(String::is_empty));
        // One message per line, several records each: the next free line.
        let messages = "{\"records\":[{\"a\":1},{\"a\":2}]}\n{\"records\":[{\"a\":3}]}\n";
        assert_eq!(
            lines(messages)[..3],
            ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]
        );
        // Plain records pass as they are.
        assert_eq!(
            lines("{\"a\":1}\n{\"a\":2}\n")[..2],
            ["{\"a\":1}", "{\"a\":2}"]
        );
        assert!(!is_records_document(b"{\"time\":1}"));
        assert!(is_records_document(
            "\u{feff} { \"records\": []}".as_bytes()
        ));
    }

    #[test]
    fn after_broken_json_the_lines_are_passed_on() {
        let doc = "{\"records\":[{\"a\":1}]}\n{\"records\": [ {\"a\":\n{\"a\":2}\n";
        let l = lines(doc);
        assert_eq!(l[0], "{\"a\":1}");
        assert_eq!(l[1], "{\"records\": [ {\"a\":");
        assert_eq!(l[2], "{\"a\":2}");
    }
}
