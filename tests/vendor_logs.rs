//! `proviso audit` on logs as the vendors write them: the records of the
//! vendors' own documented examples, in the shapes their documentation
//! prints (pretty-printed objects one after another, `{"records": […]}`
//! documents, byte-order marks), each read with no `--field` flag, and
//! what the user sees counted exactly: records, requests, violations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;

/// A rule every request violates (so `--findings` shows what was read of
/// each), in force from 1990.
const PROBE: &str = "agreement probe \"probe\"\nsource s \"s\" dated 2000-01-01\n\
    terms all \"all\" effective 1990-01-01 {\n  clause everything \"every record\" {\n\
    cite s \"x\"\n    severity error\n    require host == \"zzz-never\"\n  }\n}\n";

/// What an audit of `file` (or of `stdin` when `file` is `-`) with the
/// probe rule reports: the JSON report and each finding's fields (with
/// its line and timestamp). Flags come before the paths, as users type.
fn probe(
    file: &str,
    stdin: Option<&[u8]>,
    extra: &[&str],
) -> (serde_json::Value, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("probe.proviso");
    std::fs::write(&rules, PROBE).unwrap();
    let findings = dir.path().join("findings.jsonl");
    let mut args = vec![
        "audit",
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
        "--findings",
        findings.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(file);
    let mut audit = proviso(&args);
    if let Some(input) = stdin {
        audit = audit.stdin(input);
    }
    let run = audit.run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|_| panic!("{}\n{}", run.stdout, run.stderr));
    let records = std::fs::read_to_string(&findings)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut f = d["fields"].clone();
            f["line"] = d["line"].clone();
            f["timestamp"] = d["timestamp"].clone();
            f
        })
        .collect();
    let s = &doc["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("judged") + n("not_applicable") + n("outside_terms") + n("not_requests") + n("malformed"),
        "{s}"
    );
    assert_eq!(
        n("requests"),
        n("records") - n("malformed") - n("not_requests")
    );
    (doc, records)
}

fn summary(doc: &serde_json::Value) -> [u64; 6] {
    let s = &doc["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    [
        n("records"),
        n("requests"),
        n("judged"),
        n("outside_terms"),
        n("not_requests"),
        n("malformed"),
    ]
}

/// Microsoft's documented examples, verbatim and one after another as the
/// documentation prints them: a (classic) access record and a WAF record
/// as pretty-printed objects, then a health probe record in a
/// `{"records": […]}` document. One request, two records that are not
/// requests, by kind; the placeholder `xxx.xxx.xxx.xxx` is no client
/// address. Under the bundled rules the request (of 2020) is before any
/// terms.
#[test]
fn front_door_records_as_microsoft_documents_them() {
    let (doc, found) = probe("fixtures/logs/vendors/frontdoor-docs.json", None, &[]);
    // records, requests, judged, outside the terms, not requests, malformed
    assert_eq!(summary(&doc), [3, 1, 1, 0, 2, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["host"], "wafdemofrontdoorwebapp.azurefd.net");
    assert!(found[0].get("client_ip").is_none(), "{}", found[0]);
    let run = proviso(&[
        "audit",
        "--rules",
        "rules",
        "--format",
        "json",
        "fixtures/logs/vendors/frontdoor-docs.json",
    ])
    .run();
    // Nothing judged is not a pass: the one request is outside the terms.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("proviso::audit::outside_terms"),
        "{}",
        run.stderr
    );
    let bundled: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        summary(&bundled),
        [3, 1, 0, 1, 2, 0],
        "{}",
        bundled["summary"]
    );
    assert_eq!(doc["summary"]["kinds"]["health_probe"], 1);
    assert_eq!(doc["summary"]["kinds"]["waf"], 1);
    assert_eq!(doc["inputs"][0]["format"], "azure-frontdoor");

    // The same records dated 2026 (and sent to an Azure OpenAI host), the
    // file saved with a byte-order mark: the request is judged, once (its
    // WAF record is not a second request).
    let (doc, found) = probe("fixtures/logs/vendors/frontdoor-docs-2026.json", None, &[]);
    assert_eq!(summary(&doc), [3, 1, 1, 0, 2, 0], "{}", doc["summary"]);
    assert_eq!(doc["clauses"][0]["violations"], 1);
    assert_eq!(found.len(), 1);
    let r = &found[0];
    assert_eq!(r["line"], 1);
    assert_eq!(r["host"], "eastus2.openai.azure.com");
    assert_eq!(r["path"], "/v1/chat/completions");
    assert_eq!(r["method"], "GET");
    assert_eq!(r["status"], "403");
    assert_eq!(r["kind"], "request");
    assert_eq!(r["cloud"], "azure");
    assert!(r.get("client_ip").is_none(), "{r}");
    assert_eq!(r["timestamp"], "2026-03-02T09:15:17.8383427Z");
}

/// The same documents from standard input, and each shape on its own:
/// concatenated pretty-printed records; a `{"records": […]}` document with
/// a byte-order mark (as Event Hubs and some editors write it), whose
/// records all count.
#[test]
fn front_door_documents_in_every_shape_are_read_whole() {
    let docs = std::fs::read("fixtures/logs/vendors/frontdoor-docs-2026.json").unwrap();
    let (doc, _) = probe("-", Some(&docs), &[]);
    assert_eq!(summary(&doc), [3, 1, 1, 0, 2, 0], "{}", doc["summary"]);

    let record = |t: &str, host: &str| {
        format!(
            "{{\"time\": \"{t}\", \"category\": \"FrontDoorAccessLog\", \"properties\": {{\"httpMethod\": \"POST\", \"requestUri\": \"https://{host}:443/v1/embeddings\", \"hostName\": \"{host}\", \"clientIp\": \"192.0.2.1\", \"httpStatusCode\": \"200\"}}}}"
        )
    };
    let records: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            serde_json::from_str(&record(
                &format!("2026-03-01T12:00:0{i}.1234567Z"),
                "api.openai.com",
            ))
            .unwrap()
        })
        .collect();
    let wrapped = format!(
        "\u{feff}{}",
        serde_json::to_string_pretty(&serde_json::json!({ "records": records })).unwrap()
    );
    let (doc, found) = probe("-", Some(wrapped.as_bytes()), &[]);
    assert_eq!(summary(&doc), [3, 3, 3, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found.len(), 3);
    assert_eq!(found[2]["timestamp"], "2026-03-01T12:00:02.1234567Z");
    // One Event Hubs message per line, the same records.
    let messages = format!(
        "{}\n{}\n",
        serde_json::json!({ "records": &records[..2] }),
        serde_json::json!({ "records": &records[2..] })
    );
    let (doc, _) = probe("-", Some(messages.as_bytes()), &[]);
    assert_eq!(summary(&doc), [3, 3, 3, 0, 0, 0], "{}", doc["summary"]);
    // Pretty-printed records one after another (11 lines each), the first
    // cut short: one malformed record, the others read, the next on the
    // line it starts on.
    let pretty: String = records
        .iter()
        .map(|r| serde_json::to_string_pretty(r).unwrap() + "\n")
        .collect();
    let broken = pretty.replacen(
        "\"httpStatusCode\": \"200\"\n  }\n}",
        "\"httpStatusCode\": \"2",
        1,
    );
    let (doc, found) = probe("-", Some(broken.as_bytes()), &[]);
    assert_eq!(summary(&doc), [3, 2, 2, 0, 0, 1], "{}", doc["summary"]);
    assert_eq!(found[0]["line"], 10);
    assert_eq!(
        doc["malformed"][0]["code"],
        "proviso::input::malformed_record"
    );
}

/// Field names match the vocabulary without regard to case, in CSV (as a
/// spreadsheet saves it: a byte-order mark, CRLF line ends, quoted cells)
/// and in JSON; the report says which field of each input filled each
/// vocabulary field.
#[test]
fn field_names_match_the_vocabulary_in_any_case() {
    let csv = "\u{feff}Timestamp,Host,Path,Client_IP,Status\r\n\
               2026-03-01T12:00:00Z,API.OpenAI.com,/v1/embeddings,\"3.80.9.1\",200\r\n\
               2026-03-01T12:00:01Z,api.openai.com,\"/v1/chat/completions\",3.80.9.2,201\r\n";
    let (doc, found) = probe("-", Some(csv.as_bytes()), &["--log-format", "csv"]);
    assert_eq!(summary(&doc), [2, 2, 2, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["host"], "api.openai.com");
    assert_eq!(found[0]["client_ip"], "3.80.9.1");
    assert_eq!(found[1]["path"], "/v1/chat/completions");
    assert_eq!(found[1]["status"], "201");
    let from = |doc: &serde_json::Value, field: &str| -> Vec<String> {
        doc["inputs"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["field"] == field)
            .map(|f| format!("{} {}", f["from"].as_str().unwrap(), f["records"]))
            .collect()
    };
    assert_eq!(from(&doc, "timestamp"), ["Timestamp 2"]);
    assert_eq!(from(&doc, "client_ip"), ["Client_IP 2"]);
    // Where the comma is the decimal separator, spreadsheets write `;`.
    let semi = csv.replace(',', ";");
    let (doc, found) = probe("-", Some(semi.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "csv");
    assert_eq!(summary(&doc), [2, 2, 2, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[1]["status"], "201");

    let jsonl = "{\"Timestamp\":\"2026-03-01T12:00:00Z\",\"HOST\":\"api.openai.com\",\"Path\":\"/v1/embeddings\",\"Client_IP\":\"3.80.9.1\"}\n\
                 {\"ts\":\"2026-03-01T12:00:00Z\",\"hostName\":\"api.openai.com\",\"path\":\"/v1/embeddings\",\"properties\":{\"ClientIp\":\"3.80.9.2\"}}\n";
    let (doc, found) = probe("-", Some(jsonl.as_bytes()), &[]);
    assert_eq!(summary(&doc), [2, 2, 2, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["client_ip"], "3.80.9.1");
    assert_eq!(found[1]["host"], "api.openai.com");
    assert_eq!(from(&doc, "timestamp"), ["Timestamp 1", "ts 1"]);
    assert_eq!(from(&doc, "host"), ["HOST 1", "hostName 1"]);

    // The human summary names them too, per input.
    let run = proviso(&["audit", "--rules", "rules", "--log-format", "csv", "-"])
        .stdin(csv.as_bytes())
        .run();
    assert!(
        run.stdout
            .contains("<stdin>: timestamp from `Timestamp`, host from `Host`, path from `Path`"),
        "{}",
        run.stdout
    );
}

/// AWS API Gateway access logs in AWS's documented JSON templates (REST's
/// `resourcePath`, HTTP API's `routeKey`, and the variables users add:
/// `domainName`, `path`, `requestTimeEpoch`), read with no `--field`.
#[test]
fn api_gateway_json_access_logs_are_read_by_their_documented_names() {
    let (doc, found) = probe("fixtures/logs/vendors/apigateway.jsonl", None, &[]);
    assert_eq!(doc["inputs"][0]["format"], "aws-apigateway");
    assert_eq!(summary(&doc), [3, 3, 3, 0, 0, 0], "{}", doc["summary"]);
    let r = &found[0];
    assert_eq!(r["timestamp"], "2026-03-01T10:00:00Z");
    assert_eq!(r["method"], "POST");
    assert_eq!(r["path"], "/v1/chat/completions");
    assert_eq!(r["status"], "200");
    assert_eq!(r["client_ip"], "192.0.2.10");
    assert_eq!(r["bytes_out"], "1532");
    assert_eq!(r["cloud"], "aws");
    assert!(r.get("host").is_none(), "{r}");
    // HTTP API: the route key is a request line.
    assert_eq!(found[1]["path"], "/v1/models");
    assert_eq!(found[1]["method"], "GET");
    // `requestTimeEpoch` (milliseconds) before `requestTime` (seconds);
    // `path` (what was called) before `resourcePath` (the template);
    // `-` is no value.
    let r = &found[2];
    assert_eq!(r["timestamp"], "2026-03-01T10:00:02.345Z");
    assert_eq!(r["host"], "abc123.execute-api.us-east-1.amazonaws.com");
    assert_eq!(r["path"], "/prod/v1/embeddings");
    assert_eq!(r["status"], "201");
    assert!(r.get("bytes_out").is_none(), "{r}");
}

/// Azure Application Gateway's access log as Microsoft's documentation
/// prints it (pretty-printed, `timeStamp`, `properties.*`), and its
/// firewall log in the same `{"records": […]}` document: counted, not a
/// request.
#[test]
fn application_gateway_access_logs_are_read_by_their_documented_names() {
    let (doc, found) = probe("fixtures/logs/vendors/appgateway-docs.json", None, &[]);
    assert_eq!(doc["inputs"][0]["format"], "azure-appgateway");
    assert_eq!(summary(&doc), [1, 1, 1, 0, 0, 0], "{}", doc["summary"]);
    let r = &found[0];
    assert_eq!(r["timestamp"], "2021-10-14T22:17:11Z");
    assert_eq!(r["host"], "20.110.30.194");
    assert_eq!(r["path"], "/");
    assert_eq!(r["method"], "GET");
    assert_eq!(r["status"], "200");
    assert_eq!(r["client_ip"], "185.42.129.24");
    assert_eq!(r["target_ip"], "52.239.221.65");
    assert_eq!(r["bytes_in"], "184");
    assert_eq!(r["bytes_out"], "466");
    assert_eq!(r["cloud"], "azure");

    let access: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("fixtures/logs/vendors/appgateway-docs.json").unwrap(),
    )
    .unwrap();
    let firewall = serde_json::json!({
        "timeStamp": "2021-10-14T22:17:11+00:00",
        "resourceId": "/SUBSCRIPTIONS/{subscriptionId}/RESOURCEGROUPS/{resourceGroupName}/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/{applicationGatewayName}",
        "operationName": "ApplicationGatewayFirewall",
        "category": "ApplicationGatewayFirewallLog",
        "properties": {"instanceId": "appgw_2", "clientIp": "185.42.129.24", "requestUri": "/", "ruleSetType": "OWASP", "action": "Matched", "hostname": "20.110.30.194"}
    });
    let both = serde_json::to_string_pretty(&serde_json::json!({ "records": [access, firewall] }))
        .unwrap();
    let (doc, found) = probe("-", Some(both.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "azure-appgateway");
    assert_eq!(summary(&doc), [2, 1, 1, 0, 1, 0], "{}", doc["summary"]);
    assert_eq!(doc["summary"]["kinds"]["waf"], 1);
    assert_eq!(found.len(), 1);
}

/// An ALB entry (AWS's documented HTTP/2 example) whose request URI has a
/// space in it, which ALB logs as it came: the path keeps it, the method
/// and host are read as before.
#[test]
fn alb_request_uris_with_a_space_are_read_whole() {
    let line = "h2 2026-03-01T12:00:00.049370Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 \"POST https://api.openai.com:443/v1/my files/x?y=1 HTTP/2.0\" \"curl/7.46.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 \"Root=1-58337327-72bd00b0343d75b906739c42\" \"-\" \"-\" 1 2026-03-01T12:00:00.048000Z \"redirect\" \"https://example.com:80/\" \"-\" \"10.0.0.66:9000\" \"200\" \"-\" \"-\" TID_1234abcd5678ef90\n";
    let (doc, found) = probe("-", Some(line.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "alb");
    assert_eq!(summary(&doc), [1, 1, 1, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["path"], "/v1/my files/x");
    assert_eq!(found[0]["host"], "api.openai.com");
    assert_eq!(found[0]["method"], "POST");
    assert_eq!(found[0]["region"], "us-east-2");
    assert_eq!(found[0]["timestamp"], "2026-03-01T12:00:00.049370Z");
}

/// nginx writes `"` in a request line as `\x22` (and other bytes as
/// `\xHH`): the path is read as it was sent. A binary request line (a
/// TLS handshake sent to the HTTP port) is a record with no method, host
/// or path, not a malformed line.
#[test]
fn nginx_escapes_and_binary_request_lines() {
    let log = "192.0.2.7 - - [01/Mar/2026:12:00:00 +0000] \"GET https://api.openai.com/v1/files/a\\x22b HTTP/1.1\" 200 12 \"-\" \"curl/8.0\"\n\
               192.0.2.8 - - [01/Mar/2026:12:00:01 +0000] \"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\" 400 157 \"-\" \"-\"\n";
    let (doc, found) = probe("-", Some(log.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "nginx");
    assert_eq!(summary(&doc), [2, 2, 2, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["path"], "/v1/files/a\"b");
    assert_eq!(found[0]["host"], "api.openai.com");
    let binary = &found[1];
    assert_eq!(binary["status"], "400");
    assert_eq!(binary["client_ip"], "192.0.2.8");
    for absent in ["method", "host", "path"] {
        assert!(binary.get(absent).is_none(), "{binary}");
    }
}

/// CloudFront URL-encodes `cs-uri-stem`: the path is read decoded.
#[test]
fn cloudfront_paths_are_url_decoded() {
    let log = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status x-host-header\n\
               2026-03-01\t12:00:00\tIAD89-C1\t2100\t192.0.2.100\tPOST\td1.cloudfront.net\t/v1/my%20files/%E2%9C%93\t200\tapi.openai.com\n";
    let (doc, found) = probe("-", Some(log.as_bytes()), &[]);
    assert_eq!(summary(&doc), [1, 1, 1, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["path"], "/v1/my files/✓");
}

/// `--findings` carries the fields that decided a violation beyond the
/// vocabulary (`client_cloud` of the cross-cloud clause), and timestamps
/// with every fractional digit the log wrote.
#[test]
fn findings_carry_what_decided_them_at_full_precision() {
    let line = "{\"timestamp\":\"2026-03-02T09:15:17.8383427Z\",\"host\":\"api.openai.com\",\"path\":\"/v1/chat/completions\",\"method\":\"POST\",\"client_ip\":\"3.80.9.1\",\"target_ip\":\"20.41.0.8\"}\n";
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("f.jsonl");
    let run = proviso(&[
        "audit",
        "--rules",
        "rules",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--findings",
        findings.to_str().unwrap(),
        "--ip-ranges",
        "fixtures/ip-ranges/aws-ip-ranges.json",
        "--ip-ranges",
        "fixtures/ip-ranges/azure-service-tags.json",
        "-",
    ])
    .stdin(line.as_bytes())
    .run();
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stderr));
    let written: Vec<serde_json::Value> = std::fs::read_to_string(&findings)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hop = written
        .iter()
        .find(|f| f["clause"] == "cross_cloud_hop")
        .unwrap_or_else(|| panic!("{written:?}\n{}", doc["clauses"]));
    assert_eq!(hop["fields"]["client_cloud"], "aws");
    assert_eq!(hop["fields"]["cloud"], "azure");
    assert_eq!(hop["timestamp"], "2026-03-02T09:15:17.8383427Z");
}

/// CloudFront standard logging v2 delivers JSON (with the text logs'
/// field names, `date` and `time` or `timestamp(ms)`) and delimited text
/// whose header names the fields; both are read with no `--field`.
#[test]
fn cloudfront_standard_logging_v2_in_json_and_csv() {
    let json = "{\"date\":\"2026-03-01\",\"time\":\"12:00:00\",\"x-edge-location\":\"IAD89-C1\",\"sc-bytes\":\"2100\",\"c-ip\":\"192.0.2.100\",\"cs-method\":\"POST\",\"cs(Host)\":\"d111111abcdef8.cloudfront.net\",\"cs-uri-stem\":\"/v1/chat/completions\",\"sc-status\":\"200\",\"x-host-header\":\"api.openai.com\"}\n\
                {\"timestamp(ms)\":\"1772366401234\",\"DistributionId\":\"E1\",\"c-ip\":\"192.0.2.101\",\"cs-method\":\"GET\",\"cs(Host)\":\"d111111abcdef8.cloudfront.net\",\"cs-uri-stem\":\"/v1/my%20files\",\"sc-status\":\"404\"}\n";
    let (doc, found) = probe("-", Some(json.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "cloudfront");
    assert_eq!(summary(&doc), [2, 2, 2, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["timestamp"], "2026-03-01T12:00:00Z");
    assert_eq!(found[0]["host"], "api.openai.com");
    assert_eq!(found[0]["client_ip"], "192.0.2.100");
    assert_eq!(found[0]["bytes_out"], "2100");
    assert_eq!(found[0]["cloud"], "aws");
    assert_eq!(found[1]["timestamp"], "2026-03-01T12:00:01.234Z");
    assert_eq!(found[1]["host"], "d111111abcdef8.cloudfront.net");
    assert_eq!(found[1]["path"], "/v1/my files");

    let csv = "date,time,x-edge-location,sc-bytes,c-ip,cs-method,cs(Host),cs-uri-stem,sc-status,x-host-header\n\
               2026-03-01,12:00:00,IAD89-C1,2100,192.0.2.100,POST,d111111abcdef8.cloudfront.net,/v1/embeddings,200,api.openai.com\n";
    let (doc, found) = probe("-", Some(csv.as_bytes()), &[]);
    assert_eq!(doc["inputs"][0]["format"], "cloudfront");
    assert_eq!(summary(&doc), [1, 1, 1, 0, 0, 0], "{}", doc["summary"]);
    assert_eq!(found[0]["timestamp"], "2026-03-01T12:00:00Z");
    assert_eq!(found[0]["path"], "/v1/embeddings");
    assert_eq!(found[0]["host"], "api.openai.com");
    assert_eq!(found[0]["line"], 2);
}
