//! Trip lists, notes, suggestions, the list PDF and supermarkets, end to end on the server
//! without a language model, driven as a browser (cookie and CSRF token) or an API client
//! would. Each test is its own user. The restart test starts two servers, one after the
//! other, over its own data directory.

use std::path::Path;

use serde_json::{Value, json};
use tripwright_testkit::server::{Browser, Server, check_shops, haversine_km, pdf_text};

use crate::support::{base, browser};

/// Starts a server over `data_dir` (the language model off).
fn start(data_dir: &Path) -> Server {
    let mut config = tripwright_testkit::server::config(data_dir);
    config.web.max_running = 8;
    Server::start(config, None)
}

/// What a test does with lists, as a browser's JavaScript would.
trait ListClient {
    /// Makes a list and returns it.
    async fn new_list(&mut self, title: &str) -> Value;
    /// Adds an item and returns it.
    async fn add(&mut self, list: &str, name: &str, home: i64, take: i64) -> Value;
    /// A list as JSON.
    async fn list(&mut self, id: &str) -> Value;
}

impl ListClient for Browser {
    async fn new_list(&mut self, title: &str) -> Value {
        let a = self.post("/api/lists", &json!({"title": title})).await;
        assert_eq!(a.status, 201, "{}", a.text());
        a.json()
    }

    async fn add(&mut self, list: &str, name: &str, home: i64, take: i64) -> Value {
        let a = self
            .post(
                &format!("/api/lists/{list}/items"),
                &json!({"name": name, "qty_home": home, "qty_take": take}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.text());
        a.json()
    }

    async fn list(&mut self, id: &str) -> Value {
        let a = self.get(&format!("/api/lists/{id}")).await;
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_and_items_are_made_changed_moved_and_removed() {
    let mut b = browser().await;
    // A list without a title is "Trip list".
    let a = b.post("/api/lists", &json!({})).await;
    assert_eq!(a.status, 201, "{}", a.text());
    let plain = a.json();
    assert_eq!(plain["title"], "Trip list");
    assert_eq!(plain["progress"]["text"], "0 out of 0 items taken (0%)");

    let list = b.new_list("Weekend in Helsinki").await;
    let id = list["id"].as_str().expect("id").to_owned();
    assert_eq!(list["url"], format!("/lists/{id}"));
    let socks = b.add(&id, "Socks", 2, 4).await;
    assert_eq!(socks["qty_home"], 2);
    assert_eq!(socks["qty_take"], 4);
    assert_eq!(socks["taken"], false);
    // Quantities default to 0 at home, 1 to take.
    let a = b
        .post(
            &format!("/api/lists/{id}/items"),
            &json!({"name": "  Rain jacket "}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
    let jacket = a.json();
    assert_eq!(jacket["name"], "Rain jacket", "trimmed");
    assert_eq!(
        (jacket["qty_home"].as_i64(), jacket["qty_take"].as_i64()),
        (Some(0), Some(1))
    );
    let charger = b.add(&id, "Phone charger", 1, 1).await;
    assert_eq!(
        names(&b.list(&id).await),
        ["Socks", "Rain jacket", "Phone charger"]
    );

    // Tick one: the progress follows.
    let item = |v: &Value| v["id"].as_str().expect("id").to_owned();
    let a = b
        .patch(
            &format!("/api/lists/{id}/items/{}", item(&socks)),
            &json!({"taken": true, "version": socks["version"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    let ticked = a.json();
    assert_eq!(ticked["taken"], true);
    assert_eq!(ticked["qty_take"], 4, "fields not sent stay as they were");
    assert!(ticked["version"].as_i64() > socks["version"].as_i64());
    let now = b.list(&id).await;
    assert_eq!(
        now["progress"],
        json!({"taken": 1, "total": 3, "percent": 33, "text": "1 out of 3 items taken (33%)"})
    );

    // Slide the quantities, rename an item.
    let a = b
        .patch(
            &format!("/api/lists/{id}/items/{}", item(&jacket)),
            &json!({"qty_home": 12, "qty_take": 0, "name": "Rain coat"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["qty_home"], 12);
    assert_eq!(a.json()["name"], "Rain coat");

    // Move the charger to the top, then the socks to the end (past the end is the end).
    let a = b
        .post(
            &format!("/api/lists/{id}/items/{}/move", item(&charger)),
            &json!({"to": 0}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(names(&a.json()), ["Phone charger", "Socks", "Rain coat"]);
    let a = b
        .post(
            &format!("/api/lists/{id}/items/{}/move", item(&socks)),
            &json!({"to": 99}),
        )
        .await;
    assert_eq!(names(&a.json()), ["Phone charger", "Rain coat", "Socks"]);

    // Rename the list.
    let a = b
        .patch(
            &format!("/api/lists/{id}"),
            &json!({"title": "Helsinki, June", "version": list["version"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["title"], "Helsinki, June");

    // Remove an item, then the list.
    let a = b
        .delete(&format!("/api/lists/{id}/items/{}", item(&charger)))
        .await;
    assert_eq!(a.status, 204);
    assert_eq!(names(&b.list(&id).await), ["Rain coat", "Socks"]);
    let all = b.get("/api/lists").await.json();
    let ids: Vec<&str> = all
        .as_array()
        .expect("lists")
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id.as_str()));
    assert_eq!(b.delete(&format!("/api/lists/{id}")).await.status, 204);
    let a = b.get(&format!("/api/lists/{id}")).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.code(), "not_found");
    assert_eq!(
        b.get("/api/lists")
            .await
            .json()
            .as_array()
            .expect("lists")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let mut b = browser().await;
    let list = b.new_list("Bad input").await;
    let id = list["id"].as_str().expect("id").to_owned();
    let socks = b.add(&id, "Socks", 1, 2).await;
    let sid = socks["id"].as_str().expect("id").to_owned();
    let before = b.list(&id).await;

    let items = format!("/api/lists/{id}/items");
    let long = "x".repeat(10 * 1024);
    for (body, code, needle) in [
        (
            json!({"name": "Hat", "qty_take": -1}),
            "invalid_quantity",
            "between 0 and 12",
        ),
        (
            json!({"name": "Hat", "qty_home": 13}),
            "invalid_quantity",
            "between 0 and 12",
        ),
        (json!({"name": ""}), "invalid_name", "needs a name"),
        (json!({"name": "   "}), "invalid_name", "needs a name"),
        (
            json!({"name": long}),
            "invalid_name",
            "at most 80 characters",
        ),
        (
            json!({"name": "Hat", "colour": "red"}),
            "invalid_json",
            "unknown field",
        ),
        (
            json!({"name": "Hat", "qty_take": 2.5}),
            "invalid_json",
            "qty_take",
        ),
    ] {
        let a = b.post(&items, &body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text());
        assert_eq!(a.code(), code, "{body}");
        assert!(a.message().contains(needle), "{body}: {}", a.message());
    }
    // A duplicate name, whatever its case.
    let a = b.post(&items, &json!({"name": "sOCKS"})).await;
    assert_eq!(a.status, 409);
    assert_eq!(a.code(), "duplicate_item");
    assert!(
        a.message().contains("already on the list"),
        "{}",
        a.message()
    );

    let item = format!("/api/lists/{id}/items/{sid}");
    for (body, code) in [
        (json!({"qty_take": 13}), "invalid_quantity"),
        (json!({"qty_home": -3}), "invalid_quantity"),
        (json!({"name": long}), "invalid_name"),
        (json!({"name": ""}), "invalid_name"),
        (json!({"taken": "yes"}), "invalid_json"),
    ] {
        let a = b.patch(&item, &body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text());
        assert_eq!(a.code(), code, "{body}");
    }
    let a = b
        .patch(
            &format!("/api/lists/{id}"),
            &json!({"title": "t".repeat(121)}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "invalid_title");
    let a = b
        .patch(&format!("/api/lists/{id}"), &json!({"title": ""}))
        .await;
    assert_eq!(a.code(), "invalid_title");
    let a = b.post("/api/lists", &json!({"title": "a\u{7}b"})).await;
    assert_eq!(a.status, 400);
    let a = b
        .put(
            &format!("/api/lists/{id}/notes"),
            &json!({"notes": "n".repeat(20_001)}),
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.code(), "notes_too_long");
    let a = b.post(&format!("{item}/move"), &json!({"to": -1})).await;
    assert_eq!(a.status, 400);

    // Unknown ids.
    let nobody = "00000000-0000-4000-8000-000000000000";
    for a in [
        b.get(&format!("/api/lists/{nobody}")).await,
        b.patch(
            &format!("/api/lists/{id}/items/{nobody}"),
            &json!({"taken": true}),
        )
        .await,
        b.delete(&format!("/api/lists/{id}/items/{nobody}")).await,
        b.post(
            &format!("/api/lists/{nobody}/items"),
            &json!({"name": "Hat"}),
        )
        .await,
        b.get(&format!("/api/lists/{nobody}/pdf")).await,
        b.get("/api/lists/not-even-a-uuid").await,
    ] {
        assert_eq!(a.status, 404, "{}", a.text());
        assert!(a.message().contains("not found"), "{}", a.message());
    }

    // Another user's ids are "not found" too, for every route.
    let mut other = browser().await;
    for a in [
        other.get(&format!("/api/lists/{id}")).await,
        other
            .patch(&format!("/api/lists/{id}"), &json!({"title": "Mine now"}))
            .await,
        other.post(&items, &json!({"name": "Hat"})).await,
        other.patch(&item, &json!({"taken": true})).await,
        other.post(&format!("{item}/move"), &json!({"to": 0})).await,
        other
            .put(&format!("/api/lists/{id}/notes"), &json!({"notes": "hi"}))
            .await,
        other.get(&format!("/api/lists/{id}/pdf")).await,
        other.delete(&item).await,
        other.delete(&format!("/api/lists/{id}")).await,
    ] {
        assert_eq!(a.status, 404, "{}", a.text());
    }
    assert_eq!(other.get(&format!("/lists/{id}")).await.status, 404);
    assert_eq!(other.get(&format!("/lists/{id}/notes")).await.status, 404);
    assert_eq!(other.get("/api/lists").await.json(), json!([]));

    // Nothing changed.
    assert_eq!(b.list(&id).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_version_answers_409_and_the_item_keeps_the_newer_change() {
    let mut b = browser().await;
    let list = b.new_list("Two tabs").await;
    let id = list["id"].as_str().expect("id").to_owned();
    let hat = b.add(&id, "Hat", 0, 1).await;
    let url = format!("/api/lists/{id}/items/{}", hat["id"].as_str().expect("id"));
    let seen = hat["version"].clone();
    // Tab one ticks it.
    let a = b
        .patch(&url, &json!({"taken": true, "version": seen}))
        .await;
    assert_eq!(a.status, 200);
    // Tab two, with the version it loaded, changes the quantity.
    let a = b
        .patch(&url, &json!({"qty_take": 5, "version": seen}))
        .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.code(), "changed_elsewhere");
    assert!(
        a.message().contains("changed in another tab — reloaded"),
        "{}",
        a.message()
    );
    let now = b.list(&id).await;
    assert_eq!(now["items"][0]["taken"], true);
    assert_eq!(
        now["items"][0]["qty_take"], 1,
        "the stale change was not applied"
    );
    // The same for the list's title and notes.
    let a = b
        .put(
            &format!("/api/lists/{id}/notes"),
            &json!({"notes": "one", "version": list["version"]}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = b
        .put(
            &format!("/api/lists/{id}/notes"),
            &json!({"notes": "two", "version": list["version"]}),
        )
        .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.code(), "changed_elsewhere");
    assert_eq!(b.list(&id).await["notes"], "one");
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_holders_must_send_the_csrf_token() {
    let mut b = browser().await;
    let list = b.new_list("CSRF").await;
    let id = list["id"].as_str().expect("id").to_owned();
    let token = b.csrf.take().expect("token");
    for a in [
        b.post("/api/lists", &json!({"title": "no token"})).await,
        b.post(&format!("/api/lists/{id}/items"), &json!({"name": "Hat"}))
            .await,
        b.put(&format!("/api/lists/{id}/notes"), &json!({"notes": "x"}))
            .await,
        b.delete(&format!("/api/lists/{id}")).await,
    ] {
        assert_eq!(a.status, 403, "{}", a.text());
        assert_eq!(a.code(), "csrf");
    }
    let a = b.form("/lists", &[("title", "Form list")], false).await;
    assert_eq!(a.status, 403);
    b.csrf = Some(token);
    let a = b.form("/lists", &[("title", "Form list")], true).await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!(
        names(&b.list(&id).await),
        Vec::<String>::new(),
        "nothing was added"
    );
    // An API client without a cookie needs no token (and is a new user each time).
    let mut api = Browser::on(base());
    let a = api
        .post("/api/lists", &json!({"title": "API client"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_work_without_javascript() {
    let mut b = browser().await;
    let a = b.get("/lists").await;
    assert_eq!(a.status, 200);
    let html = a.text();
    assert!(html.contains("No lists yet"), "{html}");
    assert!(html.contains("<form id=\"new-list-form\""));
    assert!(
        !html.contains("style=") && !html.contains("<script>"),
        "no inline styles or scripts"
    );

    // Make a list with the form.
    let a = b
        .form("/lists", &[("title", "Packing <b>list</b>")], true)
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let url = a.header("location").to_owned();
    let id = url.strip_prefix("/lists/").expect("list url").to_owned();
    let a = b.get(&url).await;
    assert_eq!(a.status, 200);
    let html = a.text();
    // askama escapes `<` and `>` as numeric references.
    assert!(
        html.contains("Packing &#60;b&#62;list&#60;/b&#62;"),
        "escaped title: {html}"
    );
    assert!(!html.contains("<b>list"), "the title is never markup");
    assert!(html.contains("<p id=\"list-progress\" role=\"status\" aria-live=\"polite\">0 out of 0 items taken (0%)</p>"));
    assert!(html.contains("<progress id=\"list-progress-bar\""));
    assert!(html.contains("<table id=\"list-table\">"));
    assert!(html.contains("<script type=\"module\" src=\"/static/lists.mjs\"></script>"));

    // Add two items with the form; a refused one comes back with the message and the name.
    for (name, take) in [("Sunscreen", "2"), ("<script>alert(1)</script>", "1")] {
        let a = b
            .form(
                &format!("/lists/{id}/items"),
                &[("name", name), ("qty_home", "0"), ("qty_take", take)],
                true,
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.text());
    }
    let a = b
        .form(
            &format!("/lists/{id}/items"),
            &[("name", "sunscreen"), ("qty_home", "0"), ("qty_take", "1")],
            true,
        )
        .await;
    assert_eq!(a.status, 409);
    let html = a.text();
    assert!(html.contains("already on the list"), "{html}");
    assert!(
        html.contains("value=\"sunscreen\""),
        "the typed name comes back"
    );
    let a = b
        .form(
            &format!("/lists/{id}/items"),
            &[("name", "Hat"), ("qty_take", "13")],
            true,
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.text().contains("between 0 and 12"));

    let list = b.list(&id).await;
    assert_eq!(names(&list), ["Sunscreen", "<script>alert(1)</script>"]);
    let sun = list["items"][0].clone();
    let sid = sun["id"].as_str().expect("id");
    // Save a row: quantities and the tick.
    let a = b
        .form(
            &format!("/lists/{id}/items/{sid}"),
            &[
                ("action", "save"),
                ("name", "Sunscreen SPF 50"),
                ("qty_home", "1"),
                ("qty_take", "3"),
                ("taken", "1"),
                ("version", &sun["version"].to_string()),
            ],
            true,
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let html = b.get(&url).await.text();
    assert!(html.contains("1 out of 2 items taken (50%)"), "{html}");
    assert!(html.contains("value=\"Sunscreen SPF 50\""));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "escaped item: {html}"
    );
    assert!(
        !html.contains("<script>alert"),
        "the item name is never markup"
    );
    assert!(!html.contains("<script>alert(1)</script>"));
    // The same form with the old version is a conflict, shown on the page.
    let a = b
        .form(
            &format!("/lists/{id}/items/{sid}"),
            &[
                ("action", "save"),
                ("qty_take", "4"),
                ("version", &sun["version"].to_string()),
            ],
            true,
        )
        .await;
    assert_eq!(a.status, 409);
    assert!(a.text().contains("changed in another tab — reloaded"));
    // Move down, then remove.
    let a = b
        .form(
            &format!("/lists/{id}/items/{sid}"),
            &[("action", "down")],
            true,
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(names(&b.list(&id).await)[1], "Sunscreen SPF 50");
    let a = b
        .form(
            &format!("/lists/{id}/items/{sid}"),
            &[("action", "remove")],
            true,
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(names(&b.list(&id).await), ["<script>alert(1)</script>"]);

    // Notes: /notes goes to the only list's notes; saving shows the time.
    let a = b.get("/notes").await;
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), format!("/lists/{id}/notes"));
    let html = b.get(&format!("/lists/{id}/notes")).await.text();
    assert!(html.contains("Not saved yet"));
    let version = b.list(&id).await["version"].to_string();
    let a = b
        .form(
            &format!("/lists/{id}/notes"),
            &[
                ("notes", "Buy a SIM card\nat the airport"),
                ("version", &version),
            ],
            true,
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    let html = b.get(&format!("/lists/{id}/notes")).await.text();
    assert!(
        html.contains("Buy a SIM card\nat the airport</textarea>"),
        "{html}"
    );
    let saved = b.list(&id).await["notes_saved_at"]
        .as_str()
        .expect("saved")
        .to_owned();
    let hm = &saved[11..16];
    assert!(html.contains(&format!("Last saved {hm}")), "{html}");

    // Rename and delete with the forms.
    let version = b.list(&id).await["version"].to_string();
    let a = b
        .form(
            &format!("/lists/{id}/rename"),
            &[("title", "Renamed"), ("version", &version)],
            true,
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(b.list(&id).await["title"], "Renamed");
    // With a second list, /notes lists both.
    b.new_list("Second").await;
    let html = b.get("/notes").await.text();
    assert!(
        html.contains("Renamed") && html.contains("Second"),
        "{html}"
    );
    assert!(html.contains("Buy a SIM card"));
    let a = b.form(&format!("/lists/{id}/delete"), &[], true).await;
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), "/lists");
    assert_eq!(b.get(&url).await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pdf_has_the_items_progress_and_notes_and_both_urls_give_the_same_bytes() {
    let mut b = browser().await;
    let list = b.new_list("Lapland in March").await;
    let id = list["id"].as_str().expect("id").to_owned();
    let boots = b.add(&id, "Winter boots", 1, 1).await;
    b.add(&id, "Wool socks", 2, 6).await;
    b.add(&id, "Headlamp", 0, 1).await;
    let a = b
        .patch(
            &format!(
                "/api/lists/{id}/items/{}",
                boots["id"].as_str().expect("id")
            ),
            &json!({"taken": true}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = b
        .put(
            &format!("/api/lists/{id}/notes"),
            &json!({"notes": "Northern lights tour on Thursday"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.json()["notes_saved_at"].is_string());

    let page = b.get(&format!("/lists/{id}/export.pdf")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.header("content-type"), "application/pdf");
    let disposition = page.header("content-disposition").to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"tripwright-lapland-in-march-"),
        "{disposition}"
    );
    assert!(disposition.ends_with(".pdf\""), "{disposition}");
    let api = b.get(&format!("/api/lists/{id}/pdf")).await;
    assert_eq!(api.status, 200);
    assert!(page.body.starts_with(b"%PDF-"));
    assert_eq!(page.body, api.body, "the same bytes from both URLs");
    let text = pdf_text(&page.body);
    for needle in [
        "Lapland in March",
        "Winter boots",
        "Wool socks",
        "Headlamp",
        "1 out of 3 items taken (33%)",
        "Northern lights tour on Thursday",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_opens_its_list_with_suggestions_from_the_trip() {
    let mut b = browser().await;
    let plan = b
        .make_plan(&json!({"destination": "Helsinki", "days": 2, "month": 1, "prefs": "Hotel with a sauna and a pool"}))
        .await;
    let a = b.get(&format!("/api/plans/{plan}/suggestions")).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let s = a.json();
    assert_eq!(s["plan_id"], plan.as_str());
    assert_eq!(s["list_id"], Value::Null);
    let found = |s: &Value, name: &str| {
        s["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .find(|x| x["name"] == name)
            .cloned()
    };
    let swim = found(&s, "Swimwear").expect("swimwear for a sauna");
    assert!(
        swim["reason"].as_str().expect("reason").contains("sauna"),
        "{swim}"
    );
    assert_eq!(found(&s, "Socks").expect("socks")["qty"], 2);
    // Helsinki in January is below freezing.
    let coat = found(&s, "Winter coat").expect("a coat for January");
    assert!(
        coat["reason"].as_str().expect("reason").contains("January"),
        "{coat}"
    );
    assert!(found(&s, "Sunscreen").is_none());
    assert!(
        found(&s, "Umbrella").is_none(),
        "no rain data: no rain gear"
    );

    // The plan's list: made once, then reopened.
    // Made by a POST with the token (a GET, or a post without it, makes nothing).
    let plan_page = b.get(&format!("/plans/{plan}")).await.text();
    assert!(plan_page.contains(&format!("action=\"/plans/{plan}/list\"")));
    assert_eq!(b.get(&format!("/plans/{plan}/list")).await.status, 405);
    assert_eq!(
        b.form(&format!("/plans/{plan}/list"), &[], false)
            .await
            .status,
        403
    );
    let a = b.form(&format!("/plans/{plan}/list"), &[], true).await;
    assert_eq!(a.status, 303, "{}", a.text());
    let url = a.header("location").to_owned();
    let again = b.form(&format!("/plans/{plan}/list"), &[], true).await;
    assert_eq!(again.header("location"), url);
    let lid = url.strip_prefix("/lists/").expect("list url").to_owned();
    let list = b.list(&lid).await;
    assert_eq!(list["plan_id"], plan.as_str());
    assert_eq!(list["title"], "Trip list — Helsinki");
    let a = b.post("/api/lists", &json!({"plan_id": plan})).await;
    assert_eq!(a.status, 200, "the plan's list is answered, not made again");
    assert_eq!(a.json()["id"], lid.as_str());

    let html = b.get(&url).await.text();
    assert!(html.contains("<section id=\"suggestions\""));
    assert!(html.contains("data-name=\"Swimwear\""));
    assert!(html.contains(&format!("href=\"/plans/{plan}\"")));
    // A swimsuit added by hand is the suggested swimwear: it leaves the suggestions (as an
    // accepted suggestion does).
    let a = b
        .form(
            &format!("/lists/{lid}/items"),
            &[("name", "Swimsuit"), ("qty_home", "0"), ("qty_take", "1")],
            true,
        )
        .await;
    assert_eq!(a.status, 303);
    let s = b
        .get(&format!("/api/plans/{plan}/suggestions"))
        .await
        .json();
    assert_eq!(s["list_id"], lid.as_str());
    assert_eq!(
        found(&s, "Swimwear").expect("still suggested")["on_list"],
        true
    );
    assert_eq!(found(&s, "Socks").expect("socks")["on_list"], false);
    assert!(!b.get(&url).await.text().contains("data-name=\"Swimwear\""));

    // Someone else gets nothing.
    let mut other = browser().await;
    assert_eq!(
        other
            .get(&format!("/api/plans/{plan}/suggestions"))
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .form(&format!("/plans/{plan}/list"), &[], true)
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .post("/api/lists", &json!({"plan_id": plan}))
            .await
            .status,
        404
    );
    assert_eq!(
        b.get("/api/plans/00000000-0000-4000-8000-000000000000/suggestions")
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn supermarkets_near_helsinki_are_real_shops_within_the_radius_nearest_first() {
    let mut b = Browser::on(base());
    let a = b.get("/api/supermarkets?near=Helsinki&radius_km=2").await;
    assert_eq!(a.status, 200, "{}", a.text());
    let r = a.json();
    assert_eq!(r["location"]["label"], "Helsinki, Finland");
    assert_eq!(r["radius_km"], 2.0);
    let (lat, lon) = (
        r["location"]["lat"].as_f64().expect("lat"),
        r["location"]["lon"].as_f64().expect("lon"),
    );
    assert!(
        (60.0..60.4).contains(&lat) && (24.7..25.2).contains(&lon),
        "{lat},{lon}"
    );
    let shops = r["places"].as_array().expect("places");
    assert!(
        shops.len() >= 10,
        "Helsinki's centre has shops: {}",
        shops.len()
    );
    check_shops(&r, lat, lon, 2.0);
    for s in shops {
        assert!(!s["name"].as_str().expect("name").is_empty());
        assert!(s["id"].as_str().expect("id").starts_with("osm:"));
    }
    assert!(
        shops.iter().any(|s| s["opening_hours"].is_string()),
        "some have hours"
    );
    // A smaller radius finds fewer (the test extract covers the centre, so 5 km finds no more
    // than 2 km would); the default is 5 km.
    let narrow = b
        .get("/api/supermarkets?near=Helsinki&radius_km=0.5")
        .await
        .json();
    assert!(narrow["count"].as_u64() < r["count"].as_u64(), "{narrow}");
    let wide = b.get("/api/supermarkets?near=Helsinki").await.json();
    assert_eq!(wide["radius_km"], 5.0);
    assert!(wide["count"].as_u64() >= r["count"].as_u64());
    // Coordinates work too.
    let a = b
        .get("/api/supermarkets?near=60.1699,%2024.9384&radius_km=0.5")
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.json()["location"]["kind"], "coordinates");
    for s in a.json()["places"].as_array().expect("places") {
        let d = haversine_km(
            60.1699,
            24.9384,
            s["lat"].as_f64().expect("lat"),
            s["lon"].as_f64().expect("lon"),
        );
        assert!(d <= 0.5 + 1e-9);
    }

    // Errors.
    let a = b.get("/api/supermarkets?near=Xqzzyville").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.code(), "unknown_location");
    assert!(a.message().contains("Xqzzyville"), "{}", a.message());
    for (q, code) in [
        ("", "missing_location"),
        ("?near=Helsinki&radius_km=30", "invalid_radius"),
        ("?near=Helsinki&radius_km=0.1", "invalid_radius"),
        ("?near=Helsinki&radius_km=far", "invalid_radius"),
        ("?near=95,%2010", "invalid_coordinates"),
    ] {
        let a = b.get(&format!("/api/supermarkets{q}")).await;
        assert_eq!(a.status, 400, "{q}: {}", a.text());
        assert_eq!(a.code(), code, "{q}");
    }

    // The page: a map with the data, a list with km, or a clear message.
    let a = b.get("/supermarkets").await;
    assert_eq!(a.status, 200);
    assert!(a.text().contains("<form id=\"supermarkets-form\""));
    assert!(
        !a.text().contains("supermarkets-map"),
        "no empty map before a search"
    );
    let a = b.get("/supermarkets?near=Helsinki&radius_km=2").await;
    assert_eq!(a.status, 200);
    let html = a.text();
    assert!(html.contains("id=\"supermarkets-map\""));
    assert!(html.contains("data-map=\"{"));
    assert!(html.contains("<ol id=\"supermarket-list\">"));
    assert!(html.contains(" km</span>"));
    assert!(html.contains("/static/vendor/leaflet/leaflet.js"));
    assert!(html.contains(&format!(
        "{} grocery shops within 2 km of Helsinki, Finland",
        shops.len()
    )));
    let a = b.get("/supermarkets?near=Xqzzyville").await;
    assert_eq!(a.status, 404);
    let html = a.text();
    assert!(html.contains("unknown destination"), "{html}");
    assert!(!html.contains("id=\"supermarkets-map\""), "no empty map");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_survives_a_server_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(dir.path());
    let mut b = Browser::signed_in(&first.base).await;
    let list = b.new_list("Survivor").await;
    let id = list["id"].as_str().expect("id").to_owned();
    let hat = b.add(&id, "Hat", 1, 2).await;
    b.add(&id, "Gloves", 0, 1).await;
    let a = b
        .patch(
            &format!("/api/lists/{id}/items/{}", hat["id"].as_str().expect("id")),
            &json!({"taken": true}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = b
        .put(
            &format!("/api/lists/{id}/notes"),
            &json!({"notes": "Kept across restarts"}),
        )
        .await;
    assert_eq!(a.status, 200);
    let before = b.list(&id).await;
    first.stop();

    let second = start(dir.path());
    // Same browser (cookie), new server over the same data directory.
    b.base = second.base.clone();
    let after = b.list(&id).await;
    assert_eq!(after, before);
    assert_eq!(after["progress"]["text"], "1 out of 2 items taken (50%)");
    assert_eq!(after["notes"], "Kept across restarts");
    second.stop();
}
