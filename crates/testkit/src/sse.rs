//! Server-sent events as the tests read them.

use serde_json::Value;

/// The events of a whole SSE body: (event name, JSON data). Comments (keep-alives) and
/// events without a name are skipped; data that is not JSON fails the test.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut event = None;
        let mut data = String::new();
        for line in block.lines() {
            if let Some(e) = line.strip_prefix("event:") {
                event = Some(e.trim().to_owned());
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
        if let Some(event) = event {
            let value = serde_json::from_str(&data)
                .unwrap_or_else(|e| panic!("event {event} has bad JSON ({e}): {data}"));
            out.push((event, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_their_json_are_read() {
        let body = ": keep-alive\n\nevent: agent\ndata: {\"a\":1}\n\nevent: done\ndata: {}\n\n";
        let got = parse_sse(body);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "agent");
        assert_eq!(got[0].1["a"], 1);
        assert_eq!(got[1].0, "done");
    }
}
