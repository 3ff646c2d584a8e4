//! Plan owners, share links, trip lists and the response cache against real SQLite files in
//! temporary folders: every operation, isolation between owners, refused input that leaves
//! everything as it was, versioned writes from two "tabs", and persistence across restarts.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use sqlx::{Connection, SqliteConnection};
use tripwright_domain::{ItemId, ListId, ListItem, MAX_NOTES_CHARS, OwnerId, TripList};
use tripwright_store::{
    Entity, ItemPatch, PlanSummary, SqliteStore, StoppedPlan, Store, StoreError,
};

use super::common::{
    TestDb, assert_invalid, count_rows, o, open, pid, raw, sample_plan, temp_path, temp_store,
};

const ALICE: &str = "browser-alice";
const BOB: &str = "browser-bob";

fn names(list: &TripList) -> Vec<&str> {
    list.items.iter().map(|i| i.name.as_str()).collect()
}

fn item<'a>(list: &'a TripList, name: &str) -> &'a ListItem {
    list.items
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("{name} missing from {:?}", names(list)))
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(e @ StoreError::NotFound { .. }) => {
            let message = e.to_string();
            assert!(message.starts_with(what), "{message:?} should name {what}")
        }
        other => panic!("expected NotFound({what} …), got {other:?}"),
    }
}

/// A refused duplicate of `entity`: its message.
#[track_caller]
fn assert_duplicate<T: std::fmt::Debug>(result: Result<T, StoreError>, entity: Entity) -> String {
    match result {
        Err(e @ StoreError::Duplicate { entity: got, .. }) if got == entity => e.to_string(),
        other => panic!("expected a duplicate {entity}, got {other:?}"),
    }
}

/// A lost versioned write on `entity`: the versions seen and stored, and the message, which
/// says to reload.
#[track_caller]
fn assert_changed<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    entity: Entity,
) -> (i64, i64, String) {
    match result {
        Err(
            e @ StoreError::VersionConflict {
                entity: got,
                seen,
                current,
            },
        ) if got == entity => {
            let message = e.to_string();
            assert!(message.contains("reload"), "{message}");
            (seen, current, message)
        }
        other => panic!("expected a version conflict on the {entity}, got {other:?}"),
    }
}

fn patch() -> ItemPatch {
    ItemPatch::default()
}

/// A patch that ticks an item as taken.
fn taken() -> ItemPatch {
    ItemPatch {
        taken: Some(true),
        ..patch()
    }
}

/// A patch that renames an item.
fn renamed(name: &str) -> ItemPatch {
    ItemPatch {
        name: Some(name.to_owned()),
        ..patch()
    }
}

/// A new list of Alice's, attached to the plan `plan` if given.
async fn new_list(store: &Arc<dyn Store>, title: &str, plan: Option<&str>) -> TripList {
    store
        .create_list(&o(ALICE), title, plan.map(pid).as_ref())
        .await
        .expect("create")
}

/// A store in a new temporary folder holding Alice's empty "Trip list".
async fn store_with_list() -> (TestDb, Arc<dyn Store>, TripList) {
    let (dir, store) = temp_store().await;
    let list = new_list(&store, "Trip list", None).await;
    (dir, store, list)
}

/// Adds an item to Alice's list `list`.
async fn add(store: &Arc<dyn Store>, list: &ListId, name: &str, home: i64, take: i64) -> ListItem {
    store
        .add_item(&o(ALICE), list, name, home, take)
        .await
        .expect("add")
}

/// Alice's list `id` as stored now.
async fn current(store: &Arc<dyn Store>, id: &ListId) -> TripList {
    store.list(&o(ALICE), id).await.expect("list")
}

/// Applies `patch` to an item of Alice's list.
async fn update(
    store: &Arc<dyn Store>,
    list: &ListId,
    item: &ItemId,
    patch: ItemPatch,
    expected_version: Option<i64>,
) -> Result<ListItem, StoreError> {
    store
        .update_item(&o(ALICE), list, item, &patch, expected_version)
        .await
}

/// The owner of the saved plan `plan`.
async fn owner_of(store: &Arc<dyn Store>, plan: &str) -> Option<OwnerId> {
    store.plan_owner(&pid(plan)).await.expect("owner")
}

/// The share token of the saved plan `plan`, `new_token` if it had none.
async fn share(store: &Arc<dyn Store>, plan: &str, new_token: &str) -> String {
    store
        .share_token(&pid(plan), new_token)
        .await
        .expect("share")
}

#[tokio::test]
async fn lists_and_items_round_trip() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");
    store.save_owned_plan(&o(ALICE), &plan).await.expect("save");

    let before = Utc::now();
    let first = new_list(&store, "  Helsinki in July  ", Some("plan-1")).await;
    assert_eq!(first.title, "Helsinki in July");
    assert_eq!(first.plan_id.as_ref(), Some(&pid("plan-1")));
    assert_eq!(first.version, 1);
    assert_eq!(first.notes, "");
    assert_eq!(first.notes_saved_at, None);
    assert!(first.items.is_empty());
    assert_eq!(uuid_version(first.id.as_str()), 4, "{}", first.id);
    assert!(first.created_at >= before - chrono::Duration::seconds(1));
    let second = new_list(&store, "Weekend", None).await;

    // Newest first.
    let all = store.lists(&o(ALICE)).await.expect("lists");
    assert_eq!(
        all.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        [second.id.as_str(), first.id.as_str()]
    );
    let for_plan = async |plan: &str| store.list_for_plan(&o(ALICE), &pid(plan)).await;
    assert_eq!(
        for_plan("plan-1").await.expect("for plan").map(|l| l.id),
        Some(first.id.clone())
    );
    assert_eq!(for_plan("plan-2").await.expect("none"), None);

    let socks = add(&store, &first.id, "  Socks ", 4, 3).await;
    assert_eq!(
        (
            socks.name.as_str(),
            socks.qty_home,
            socks.qty_take,
            socks.taken,
            socks.version
        ),
        ("Socks", 4, 3, false, 1)
    );
    assert_eq!(uuid_version(socks.id.as_str()), 4);
    let jacket = add(&store, &first.id, "Rain jacket", 1, 1).await;
    let adapter = add(&store, &first.id, "Plug adapter", 0, 12).await;
    assert!(socks.position < jacket.position && jacket.position < adapter.position);

    let ticked = update(&store, &first.id, &jacket.id, taken(), Some(1))
        .await
        .expect("tick");
    assert!(ticked.taken);
    assert_eq!(ticked.version, 2);
    assert_eq!((ticked.qty_home, ticked.qty_take), (1, 1));
    let change = ItemPatch {
        qty_take: Some(5),
        ..renamed(" Wool socks ")
    };
    let renamed = update(&store, &first.id, &socks.id, change, None)
        .await
        .expect("rename item");
    assert_eq!(
        (renamed.name.as_str(), renamed.qty_home, renamed.qty_take),
        ("Wool socks", 4, 5)
    );

    // An empty patch changes nothing, version included.
    let same = update(&store, &first.id, &adapter.id, patch(), Some(1))
        .await
        .expect("empty patch");
    assert_eq!(same, adapter);

    let list = current(&store, &first.id).await;
    assert_eq!(names(&list), ["Wool socks", "Rain jacket", "Plug adapter"]);
    assert_eq!(list.progress(), (1, 3));
    assert_eq!(
        list.version, 1,
        "item changes leave the list's version alone"
    );
    assert_eq!(item(&list, "Rain jacket"), &ticked);

    let list = store
        .rename_list(&o(ALICE), &first.id, "Helsinki, July", Some(1))
        .await
        .expect("rename");
    assert_eq!((list.title.as_str(), list.version), ("Helsinki, July", 2));
    assert_eq!(list.items.len(), 3);

    let remove = async || store.remove_item(&o(ALICE), &first.id, &jacket.id).await;
    remove().await.expect("remove");
    assert_eq!(
        names(&current(&store, &first.id).await),
        ["Wool socks", "Plug adapter"]
    );
    assert_not_found(remove().await, "item ");
    // An item is reached only through its own list.
    assert_not_found(
        update(&store, &second.id, &socks.id, patch(), None).await,
        "item ",
    );

    let delete = async || store.delete_list(&o(ALICE), &first.id).await;
    delete().await.expect("delete");
    assert_not_found(store.list(&o(ALICE), &first.id).await, "list ");
    assert_not_found(delete().await, "list ");
    assert_eq!(for_plan("plan-1").await.expect("none"), None);
    // The items went with their list.
    assert_eq!(count_rows(&mut raw(&path).await, "list_items").await, 0);
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), [second]);
}

/// The version nibble of a hyphenated UUID.
fn uuid_version(id: &str) -> u32 {
    assert_eq!(id.len(), 36, "{id} is not a hyphenated UUID");
    id.chars()
        .nth(14)
        .and_then(|c| c.to_digit(16))
        .expect("hex digit")
}

#[tokio::test]
async fn unknown_ids_are_not_found_with_a_short_id() {
    let (_dir, store) = temp_store().await;
    let id = "1234567890abcdef";
    let err = store
        .list(&o(ALICE), &id.into())
        .await
        .expect_err("missing");
    assert_eq!(err.to_string(), "list 12345678… not found");
    let err = store
        .create_list(&o(ALICE), "Trip list", Some(&pid("no-such-plan-id")))
        .await
        .expect_err("missing plan");
    assert_eq!(err.to_string(), "plan no-such-… not found");
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), []);
    let list = new_list(&store, "Trip list", None).await;
    assert_not_found(
        store.move_item(&o(ALICE), &list.id, &"x".into(), 0).await,
        "item x",
    );
    assert_not_found(
        store
            .add_item(&o(ALICE), &"nope".into(), "Socks", 1, 1)
            .await,
        "list nope",
    );
}

#[tokio::test]
async fn owners_cannot_reach_each_others_lists_or_plans() {
    let (_dir, store) = temp_store().await;
    store
        .save_owned_plan(
            &o(ALICE),
            &sample_plan("plan-a", "2025-05-05T08:00:00Z", "Helsinki"),
        )
        .await
        .expect("save");
    let list = new_list(&store, "Alice's list", Some("plan-a")).await;
    let socks = add(&store, &list.id, "Socks", 2, 2).await;
    let list = store
        .save_notes(&o(ALICE), &list.id, "passport!", None)
        .await
        .expect("notes");

    let bob = o(BOB);
    assert_eq!(store.lists(&bob).await.expect("lists"), []);
    assert_not_found(store.list(&bob, &list.id).await, "list ");
    assert_eq!(
        store
            .list_for_plan(&bob, &pid("plan-a"))
            .await
            .expect("for plan"),
        None
    );
    let (id, socks) = (&list.id, &socks.id);
    assert_not_found(
        store.rename_list(&bob, id, "Bob's now", None).await,
        "list ",
    );
    assert_not_found(store.save_notes(&bob, id, "mine", None).await, "list ");
    assert_not_found(store.add_item(&bob, id, "Hat", 1, 1).await, "list ");
    assert_not_found(
        store.update_item(&bob, id, socks, &taken(), None).await,
        "list ",
    );
    assert_not_found(store.move_item(&bob, id, socks, 0).await, "list ");
    assert_not_found(store.remove_item(&bob, id, socks).await, "list ");
    assert_not_found(store.delete_list(&bob, id).await, "list ");

    // Nothing Bob tried changed Alice's list.
    assert_eq!(current(&store, &list.id).await, list);

    // Nor does Bob see Alice's plans.
    assert_eq!(store.list_owned_plans(&bob, 10).await.expect("plans"), []);
    assert_eq!(
        store
            .list_owned_plans(&o(ALICE), 10)
            .await
            .expect("plans")
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["plan-a"]
    );
    // An empty owner cannot own anything.
    assert_invalid(store.create_list(&o(" "), "Trip list", None).await);
    assert_invalid(
        store
            .save_owned_plan(&o(""), &sample_plan("p", "2025-05-05T08:00:00Z", "Oulu"))
            .await,
    );
}

#[tokio::test]
async fn item_names_are_unique_per_list_ignoring_case() {
    let (_dir, store, list) = store_with_list().await;
    let other = new_list(&store, "Other", None).await;
    let jacket = add(&store, &list.id, "Rain jacket", 1, 1).await;
    let add_to =
        async |list: &ListId, name: &str| store.add_item(&o(ALICE), list, name, 0, 1).await;
    let message = assert_duplicate(add_to(&list.id, "  rain JACKET ").await, Entity::Item);
    assert_eq!(
        message,
        "an item named \"Rain jacket\" is already on the list"
    );
    // Beyond ASCII too.
    add_to(&list.id, "Äidin kakku").await.expect("add");
    assert_duplicate(add_to(&list.id, "äIDIN KAKKU").await, Entity::Item);
    // Another list may hold the same name.
    add_to(&other.id, "rain jacket").await.expect("other list");

    let towel = add(&store, &list.id, "Towel", 1, 1).await;
    let before = current(&store, &list.id).await;
    assert_duplicate(
        update(&store, &list.id, &towel.id, renamed("RAIN JACKET"), None).await,
        Entity::Item,
    );
    assert_eq!(current(&store, &list.id).await, before);
    // An item may change the case of its own name.
    let recased = update(
        &store,
        &list.id,
        &jacket.id,
        renamed("RAIN JACKET"),
        Some(1),
    )
    .await
    .expect("recase");
    assert_eq!((recased.name.as_str(), recased.version), ("RAIN JACKET", 2));
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let (_dir, store, list) = store_with_list().await;
    let socks = add(&store, &list.id, "Socks", 2, 2).await;
    let before = current(&store, &list.id).await;
    let huge = "x".repeat(10_000);
    let add_to_list =
        async |name: &str, home, take| store.add_item(&o(ALICE), &list.id, name, home, take).await;
    let rename_list = async |title: &str| store.rename_list(&o(ALICE), &list.id, title, None).await;
    let save_notes = async |notes: &str| store.save_notes(&o(ALICE), &list.id, notes, None).await;

    for (home, take) in [
        (-1, 1),
        (1, -1),
        (13, 1),
        (1, 13),
        (i64::MAX, 0),
        (i64::MIN, 0),
    ] {
        let message = assert_invalid(add_to_list("Hat", home, take).await);
        assert!(message.contains("between 0 and 12"), "{message}");
    }
    for bad in [
        ItemPatch {
            qty_home: Some(-1),
            ..patch()
        },
        ItemPatch {
            qty_take: Some(13),
            ..taken()
        },
        renamed(&huge),
        ItemPatch {
            qty_home: Some(3),
            ..renamed("   ")
        },
        renamed("tab\there"),
    ] {
        assert_invalid(update(&store, &list.id, &socks.id, bad, None).await);
    }
    let message = assert_invalid(add_to_list(&huge, 1, 1).await);
    assert!(message.contains("at most 80 characters"), "{message}");
    assert_invalid(add_to_list("", 1, 1).await);
    assert_invalid(rename_list(&huge).await);
    assert_invalid(rename_list(" \t ").await);
    assert_invalid(rename_list("a\nb").await);
    let message = assert_invalid(save_notes(&"é".repeat(MAX_NOTES_CHARS + 1)).await);
    assert!(message.contains("at most 20000 characters"), "{message}");

    assert_eq!(current(&store, &list.id).await, before);

    // Bad input for a new list creates nothing.
    assert_invalid(store.create_list(&o(ALICE), &huge, None).await);
    assert_invalid(store.create_list(&o(ALICE), "", None).await);
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), [before]);

    // The limits themselves are accepted.
    let title = "t".repeat(120);
    assert_eq!(rename_list(&title).await.expect("120 chars").title, title);
    add_to_list(&"ü".repeat(80), 0, 12)
        .await
        .expect("80 chars, 12 to take");
    let notes = "é".repeat(MAX_NOTES_CHARS);
    assert_eq!(save_notes(&notes).await.expect("20000 chars").notes, notes);
}

#[tokio::test]
async fn two_tabs_conflict_only_on_the_same_item() {
    let (_dir, store, list) = store_with_list().await;
    let socks = add(&store, &list.id, "Socks", 2, 2).await;
    let hat = add(&store, &list.id, "Hat", 1, 1).await;

    // Both tabs load the list: everything at version 1.
    let tab1 = current(&store, &list.id).await;
    let tab2 = current(&store, &list.id).await;
    assert_eq!(tab1, tab2);
    assert!(tab1.items.iter().all(|i| i.version == 1));

    let change = ItemPatch {
        qty_take: Some(4),
        ..patch()
    };
    let seen = Some(item(&tab1, "Socks").version);
    let updated = update(&store, &list.id, &socks.id, change, seen)
        .await
        .expect("tab 1 writes");
    assert_eq!(updated.version, 2);

    let seen = Some(item(&tab2, "Socks").version);
    let (seen, now, message) = assert_changed(
        update(&store, &list.id, &socks.id, taken(), seen).await,
        Entity::Item,
    );
    assert_eq!((seen, now), (item(&tab2, "Socks").version, updated.version));
    assert_eq!(
        message,
        "the item was changed elsewhere (another tab or device) since you loaded it \
         (version 1, now 2); reload it and try again"
    );
    assert_eq!(
        current(&store, &list.id).await.items[0],
        updated,
        "the refused write changed nothing"
    );

    // Tab 2 changing another item is fine.
    let seen = Some(item(&tab2, "Hat").version);
    let hat2 = update(&store, &list.id, &hat.id, taken(), seen)
        .await
        .expect("tab 2 writes another item");
    assert!(hat2.taken);

    // A write without a version changes only its own field: tab 1's quantity stays.
    let socks3 = update(&store, &list.id, &socks.id, taken(), None)
        .await
        .expect("unversioned");
    assert_eq!(
        (socks3.qty_take, socks3.taken, socks3.version),
        (4, true, 3)
    );

    // The list's own fields work the same way.
    let rename = async |title: &str, seen| {
        store
            .rename_list(&o(ALICE), &list.id, title, Some(seen))
            .await
    };
    let save_notes = async |notes: &str, seen| {
        store
            .save_notes(&o(ALICE), &list.id, notes, Some(seen))
            .await
    };
    let renamed = rename("Tab 1's title", tab1.version)
        .await
        .expect("tab 1 renames");
    assert_eq!(renamed.version, 2);
    assert_changed(
        save_notes("tab 2's notes", tab2.version).await,
        Entity::List,
    );
    assert_changed(rename("Tab 2's title", tab2.version).await, Entity::List);
    let now = current(&store, &list.id).await;
    assert_eq!(
        (now.title.as_str(), now.notes.as_str()),
        ("Tab 1's title", "")
    );
    let saved = save_notes("tab 2's notes", now.version)
        .await
        .expect("after reloading");
    assert_eq!(saved.version, 3);
}

#[tokio::test]
async fn move_item_reorders_and_clamps() {
    let (_dir, store, list) = store_with_list().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        ids.push(add(&store, &list.id, name, 0, 1).await.id);
    }
    let positions = |list: &TripList| list.items.iter().map(|i| i.position).collect::<Vec<_>>();
    let move_to = async |item: &ItemId, to| store.move_item(&o(ALICE), &list.id, item, to).await;

    let moved = move_to(&ids[3], 0).await.expect("move");
    assert_eq!(names(&moved), ["d", "a", "b", "c", "e"]);
    assert_eq!(positions(&moved), [0, 1, 2, 3, 4]);
    // Only the items whose position changed got a new version.
    let versions: Vec<i64> = moved.items.iter().map(|i| i.version).collect();
    assert_eq!(versions, [2, 2, 2, 2, 1]);
    assert_eq!(current(&store, &list.id).await, moved);

    let moved = move_to(&ids[3], 99).await.expect("clamped");
    assert_eq!(names(&moved), ["a", "b", "c", "e", "d"]);
    let moved = move_to(&ids[1], 1).await.expect("to where it is");
    assert_eq!(names(&moved), ["a", "b", "c", "e", "d"]);

    // After a removal leaves a gap, and with appends after a move.
    store
        .remove_item(&o(ALICE), &list.id, &ids[2])
        .await
        .expect("remove");
    let f = add(&store, &list.id, "f", 0, 1).await;
    let moved = move_to(&f.id, 1).await.expect("move");
    assert_eq!(names(&moved), ["a", "f", "b", "e", "d"]);
    assert_eq!(positions(&moved), [0, 1, 2, 3, 4]);
    let moved = move_to(&ids[0], 3).await.expect("move down");
    assert_eq!(names(&moved), ["f", "b", "e", "a", "d"]);
    let g = add(&store, &list.id, "g", 0, 1).await;
    assert_eq!(names(&current(&store, &list.id).await).last(), Some(&"g"));
    assert!(g.position > 4);
}

#[tokio::test]
async fn saving_notes_stamps_the_time() {
    let (_dir, path) = temp_path();
    let store = open(&path).await;
    let list = new_list(&store, "Trip list", None).await;
    assert_eq!(list.notes_saved_at, None);
    let before = Utc::now();
    let notes = "Passport, tickets.\nCall grandma — 🧳";
    let save_notes = async |notes: &str, seen| {
        store
            .save_notes(&o(ALICE), &list.id, notes, Some(seen))
            .await
    };
    let saved = save_notes(notes, 1).await.expect("save");
    assert_eq!(saved.notes, notes);
    assert_eq!(saved.version, 2);
    let at = saved.notes_saved_at.expect("stamped");
    let drift = at - before;
    assert!(
        drift >= chrono::Duration::seconds(-1) && drift <= chrono::Duration::seconds(5),
        "{drift}"
    );
    assert_eq!(current(&store, &list.id).await, saved);

    // Times are stored as UTC text of one width (microseconds), so that they sort as text.
    let (created, stamped): (String, String) =
        sqlx::query_as("SELECT created_at, notes_saved_at FROM trip_lists")
            .fetch_one(&mut raw(&path).await)
            .await
            .expect("times");
    for text in [&created, &stamped] {
        assert_eq!(text.len(), "2025-01-01T00:00:00.000000Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text} is not UTC");
    }
    assert_eq!(stamped.parse::<chrono::DateTime<Utc>>().expect("time"), at);

    // Empty notes are notes too.
    let cleared = save_notes("", 2).await.expect("clear");
    assert_eq!((cleared.notes.as_str(), cleared.version), ("", 3));
    assert!(cleared.notes_saved_at.is_some());
}

#[tokio::test]
async fn owned_plans_and_share_tokens() {
    let (_dir, store) = temp_store().await;
    let older = sample_plan("plan-old", "2025-05-05T08:00:00Z", "Helsinki");
    let newer = sample_plan("plan-new", "2025-05-06T08:00:00+03:00", "Oulu");
    let cli = sample_plan("plan-cli", "2025-05-07T08:00:00Z", "Turku");
    let bobs = sample_plan("plan-bob", "2025-05-08T08:00:00Z", "Tampere");
    for (owner, plan) in [(ALICE, &older), (ALICE, &newer), (BOB, &bobs)] {
        store.save_owned_plan(&o(owner), plan).await.expect("save");
    }
    store.save_plan(&cli).await.expect("save");

    assert_eq!(owner_of(&store, "plan-old").await, Some(o(ALICE)));
    assert_eq!(owner_of(&store, "plan-cli").await, None);
    assert_eq!(owner_of(&store, "nope").await, None);
    let mine = store.list_owned_plans(&o(ALICE), 10).await.expect("mine");
    assert_eq!(
        mine.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["plan-new", "plan-old"]
    );
    assert_eq!(mine[0].destination, "Oulu");
    // What the list shows of each plan is read from its body.
    assert_eq!(mine[0].start_date, Some(newer.itinerary.start_date));
    assert_eq!(mine[0].prefs, newer.request.prefs);
    assert_eq!(mine[0].budget, newer.request.budget);
    assert_eq!(mine[0].currency, newer.summary.cost.currency);
    assert!(!mine[0].prefs.is_empty() && !mine[0].currency.is_empty());
    assert_eq!(
        store
            .list_owned_plans(&o(ALICE), 1)
            .await
            .expect("one")
            .len(),
        1
    );
    // The plain history still shows every plan.
    assert_eq!(store.list_plans(10).await.expect("all").len(), 4);

    // Bob cannot overwrite Alice's plan.
    let mut hijack = older.clone();
    hijack.destination.name = "Hijacked".into();
    match store.save_owned_plan(&o(BOB), &hijack).await {
        Err(
            e @ StoreError::OwnedByAnother {
                entity: Entity::Plan,
                ..
            },
        ) => {
            assert!(e.to_string().contains("belongs to someone else"), "{e}");
        }
        other => panic!("expected OwnedByAnother, got {other:?}"),
    }
    let stored = async |id: &str| store.plan(&pid(id)).await;
    assert_eq!(stored("plan-old").await.expect("get"), Some(older.clone()));
    // Alice can replace hers, and an unowned plan is adopted.
    let mut edited = older.clone();
    edited.warnings.push("edited".into());
    store
        .save_owned_plan(&o(ALICE), &edited)
        .await
        .expect("replace");
    assert_eq!(stored("plan-old").await.expect("get"), Some(edited.clone()));
    store.save_owned_plan(&o(ALICE), &cli).await.expect("adopt");
    assert_eq!(owner_of(&store, "plan-cli").await, Some(o(ALICE)));
    // Same validation as save_plan (a creation time is a typed time now: only numbers can
    // make a plan unreadable).
    let mut bad = sample_plan("plan-bad", "2025-05-05T08:00:00Z", "Oulu");
    bad.hotels[0].price_per_night = f64::NAN;
    assert_invalid(store.save_owned_plan(&o(ALICE), &bad).await);
    assert_eq!(stored("plan-bad").await.expect("get"), None);

    // Share tokens: created once, then always the same.
    let shared = async |token: &str| store.plan_by_share_token(token).await;
    assert_eq!(shared("tok-1").await.expect("get"), None);
    assert_eq!(share(&store, "plan-old", "tok-1").await, "tok-1");
    assert_eq!(share(&store, "plan-old", "tok-2").await, "tok-1");
    assert_eq!(shared("tok-1").await.expect("get"), Some(edited.clone()));
    assert_eq!(shared("tok-2").await.expect("get"), None);
    assert_not_found(store.share_token(&pid("nope"), "tok-3").await, "plan nope");
    // A token is one plan's only.
    assert_duplicate(
        store.share_token(&pid("plan-new"), "tok-1").await,
        Entity::ShareLink,
    );
    assert_invalid(store.share_token(&pid("plan-new"), "").await);
    assert_eq!(share(&store, "plan-new", "tok-4").await, "tok-4");
    // Saving the plan again keeps its link, whichever way it is saved.
    store
        .save_owned_plan(&o(ALICE), &edited)
        .await
        .expect("save");
    store.save_plan(&edited).await.expect("save");
    assert_eq!(share(&store, "plan-old", "tok-5").await, "tok-1");
    assert_eq!(owner_of(&store, "plan-old").await, Some(o(ALICE)));

    // A revoked link opens nothing; sharing again makes a new one.
    assert!(store.revoke_share(&pid("plan-old")).await.expect("revoke"));
    assert_eq!(shared("tok-1").await.expect("get"), None);
    assert!(!store.revoke_share(&pid("plan-old")).await.expect("again"));
    assert_eq!(share(&store, "plan-old", "tok-6").await, "tok-6");
    assert_eq!(shared("tok-6").await.expect("get"), Some(edited.clone()));
    assert_not_found(store.revoke_share(&pid("nope")).await, "plan nope");

    // Deleted by its owner (not by another): hidden at once, back when restored, gone for good
    // at its purge time.
    let at = |t: &str| t.parse::<chrono::DateTime<Utc>>().expect("a time");
    let purge = at("2030-01-01T00:10:00Z");
    assert!(
        !store
            .delete_owned_plan(&o(BOB), &pid("plan-old"), purge)
            .await
            .expect("bob")
    );
    assert!(
        store
            .delete_owned_plan(&o(ALICE), &pid("plan-old"), purge)
            .await
            .expect("alice")
    );
    assert!(
        !store
            .delete_owned_plan(&o(ALICE), &pid("plan-old"), purge)
            .await
            .expect("twice"),
        "already deleted"
    );
    assert_eq!(store.plan(&pid("plan-old")).await.expect("get"), None);
    assert_eq!(
        shared("tok-6").await.expect("get"),
        None,
        "its link opens nothing"
    );
    let ids = |plans: Vec<PlanSummary>| -> Vec<String> {
        plans.into_iter().map(|p| p.id.into_string()).collect()
    };
    assert_eq!(
        ids(store.list_owned_plans(&o(ALICE), 10).await.expect("mine")),
        ["plan-cli", "plan-new"],
        "all of Alice's plans but the deleted one"
    );
    assert!(
        !store
            .restore_owned_plan(&o(BOB), &pid("plan-old"))
            .await
            .expect("bob")
    );
    assert!(
        store
            .restore_owned_plan(&o(ALICE), &pid("plan-old"))
            .await
            .expect("alice")
    );
    assert_eq!(
        store.plan(&pid("plan-old")).await.expect("get"),
        Some(edited.clone())
    );
    assert_eq!(shared("tok-6").await.expect("get"), Some(edited.clone()));
    assert!(
        !store
            .restore_owned_plan(&o(ALICE), &pid("plan-old"))
            .await
            .expect("again")
    );
    store
        .delete_owned_plan(&o(ALICE), &pid("plan-old"), purge)
        .await
        .expect("delete");
    assert_eq!(
        store
            .delete_expired_plans(at("2030-01-01T00:09:59Z"))
            .await
            .expect("sweep"),
        0,
        "within the undo window"
    );
    assert_eq!(store.delete_expired_plans(purge).await.expect("sweep"), 1);
    assert!(
        !store
            .restore_owned_plan(&o(ALICE), &pid("plan-old"))
            .await
            .expect("gone")
    );
    assert_eq!(owner_of(&store, "plan-old").await, None);
}

#[tokio::test]
async fn plans_are_counted_per_owner_and_expired_ones_deleted() {
    let (_dir, store) = temp_store().await;
    let at = |s: &str| s.parse::<chrono::DateTime<Utc>>().expect("time");
    for (id, when) in [
        ("a1", "2025-05-05T08:00:00Z"),
        ("a2", "2025-05-06T08:00:00Z"),
        ("a3", "2025-05-06T09:00:00Z"),
    ] {
        let plan = sample_plan(id, when, "Helsinki");
        store.save_owned_plan(&o(ALICE), &plan).await.expect("save");
    }
    let bobs = sample_plan("b1", "2025-05-06T08:30:00Z", "Oulu");
    store.save_owned_plan(&o(BOB), &bobs).await.expect("save");
    let since = async |owner: &str, t: &str| {
        store
            .owned_plans_since(&o(owner), at(t))
            .await
            .expect("count")
    };
    assert_eq!(since(ALICE, "2025-05-01T00:00:00Z").await, 3);
    assert_eq!(since(ALICE, "2025-05-06T08:00:00Z").await, 2, "inclusive");
    assert_eq!(since(BOB, "2025-05-01T00:00:00Z").await, 1);
    assert_eq!(since("nobody", "2025-05-01T00:00:00Z").await, 0);

    // Alice's a2 and Bob's b1 expire; only what ran out by `now` goes, with its list kept.
    store
        .expire_plan(&pid("a2"), at("2025-05-10T00:00:00Z"))
        .await
        .expect("expire");
    store
        .expire_plan(&pid("b1"), at("2025-05-20T00:00:00Z"))
        .await
        .expect("expire");
    assert_not_found(
        store
            .expire_plan(&pid("nope"), at("2025-05-10T00:00:00Z"))
            .await,
        "plan nope",
    );
    let list = store
        .create_list(&o(ALICE), "For a2", Some(&pid("a2")))
        .await
        .expect("list");
    let deleted = async |t: &str| store.delete_expired_plans(at(t)).await.expect("delete");
    assert_eq!(deleted("2025-05-09T23:59:59Z").await, 0);
    assert_eq!(deleted("2025-05-10T00:00:00Z").await, 1);
    assert_eq!(store.plan(&pid("a2")).await.expect("get"), None);
    assert!(store.plan(&pid("a1")).await.expect("get").is_some());
    assert!(store.plan(&pid("b1")).await.expect("get").is_some());
    let kept = store.list(&o(ALICE), &list.id).await.expect("list stays");
    assert_eq!(kept.plan_id, None);
    assert_eq!(deleted("2025-06-01T00:00:00Z").await, 1);
    assert_eq!(since(BOB, "2025-05-01T00:00:00Z").await, 0);
}

#[tokio::test]
async fn stopped_plans_are_kept_until_they_expire_and_survive_a_restart() {
    let db = TestDb::new().await;
    let store = db.open().await;
    let at = |t: &str| t.parse::<chrono::DateTime<Utc>>().expect("a time");
    let sample = sample_plan("s1", "2025-05-01T10:00:00Z", "Helsinki");
    let stopped = StoppedPlan {
        id: pid("s1"),
        owner: o(ALICE),
        stopped_at: at("2025-05-01T10:00:01.5Z"),
        request: sample.request.clone(),
        destination: sample.destination.clone(),
        message: Some("the server was restarted".into()),
    };
    assert_eq!(store.stopped_plan(&pid("s1")).await.expect("get"), None);
    store
        .save_stopped_plan(&stopped, at("2025-05-08T10:00:00Z"))
        .await
        .expect("saved");
    let cancelled = StoppedPlan {
        id: pid("s2"),
        message: None,
        ..stopped.clone()
    };
    store
        .save_stopped_plan(&cancelled, at("2025-05-09T10:00:00Z"))
        .await
        .expect("saved");
    let refused = assert_invalid(
        store
            .save_stopped_plan(
                &StoppedPlan {
                    owner: o(" "),
                    ..stopped.clone()
                },
                at("2025-05-09T10:00:00Z"),
            )
            .await,
    );
    assert!(refused.contains("owner"), "{refused}");
    drop(store);
    let store = db.open().await;
    assert_eq!(
        store.stopped_plan(&pid("s1")).await.expect("get"),
        Some(stopped.clone())
    );
    assert_eq!(
        store.stopped_plan(&pid("s2")).await.expect("get"),
        Some(cancelled.clone())
    );
    // Listed as the owner's stopped plans, the latest first (same time: by id).
    let listed = store
        .list_owned_stopped_plans(&o(ALICE), 10)
        .await
        .expect("list");
    assert_eq!(listed, [cancelled.clone(), stopped.clone()]);
    assert_eq!(
        store
            .list_owned_stopped_plans(&o(BOB), 10)
            .await
            .expect("list"),
        []
    );
    // Not a plan: it is neither listed nor owned as one.
    assert_eq!(store.plan_owner(&pid("s1")).await.expect("owner"), None);
    assert!(
        store
            .list_owned_plans(&o(ALICE), 10)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        store
            .delete_expired_plans(at("2025-05-08T10:00:00Z"))
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(store.stopped_plan(&pid("s1")).await.expect("get"), None);
    assert_eq!(
        store.stopped_plan(&pid("s2")).await.expect("get"),
        Some(cancelled)
    );
}

#[tokio::test]
async fn cached_values_expire() {
    let (db, store) = temp_store().await;
    let get = async |namespace: &str, key: &str, max_age_secs: u64| {
        store
            .cache_get(namespace, key, max_age_secs)
            .await
            .expect("get")
    };
    let put = async |namespace: &str, key: &str, value: &str| {
        store.cache_put(namespace, key, value).await.expect("put");
    };
    let answer = r#"[{"lat":"60.17","lon":"24.94","display_name":"Helsinki"}]"#;
    assert_eq!(get("nominatim", "helsinki", 3600).await, None);
    put("nominatim", "helsinki", answer).await;
    assert_eq!(
        get("nominatim", "helsinki", 3600).await.as_deref(),
        Some(answer)
    );
    // Namespaces keep apart; a zero max age never hits.
    assert_eq!(get("overpass", "helsinki", 3600).await, None);
    assert_eq!(get("nominatim", "helsinki", 0).await, None);

    // Age the entry by two hours, beneath the trait.
    db.exec("UPDATE response_cache SET stored_at = stored_at - 7200000")
        .await;
    assert_eq!(get("nominatim", "helsinki", 3600).await, None);
    for max_age in [3 * 3600, u64::MAX] {
        assert_eq!(
            get("nominatim", "helsinki", max_age).await.as_deref(),
            Some(answer)
        );
    }
    // Putting again replaces the value and refreshes it.
    put("nominatim", "helsinki", "[]").await;
    assert_eq!(
        get("nominatim", "helsinki", 3600).await.as_deref(),
        Some("[]")
    );

    // And in real time: a one-second max age runs out.
    put("overpass", "q", "v").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(get("overpass", "q", 1).await, None);
    assert_eq!(get("overpass", "q", 60).await.as_deref(), Some("v"));
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let db = TestDb::new().await;
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");

    let store = db.open().await;
    store.save_owned_plan(&o(ALICE), &plan).await.expect("save");
    share(&store, "plan-1", "tok").await;
    let list = new_list(&store, "Trip list", Some("plan-1")).await;
    let socks = add(&store, &list.id, "Socks", 3, 2).await;
    add(&store, &list.id, "Hat", 1, 1).await;
    update(&store, &list.id, &socks.id, taken(), None)
        .await
        .expect("tick");
    store
        .move_item(&o(ALICE), &list.id, &socks.id, 1)
        .await
        .expect("move");
    let list = store
        .save_notes(&o(ALICE), &list.id, "bring snacks", None)
        .await
        .expect("notes");
    store.cache_put("nominatim", "k", "v").await.expect("put");
    store.close().await.expect("close");

    let store = db.open().await;
    assert_eq!(current(&store, &list.id).await, list);
    assert_eq!(names(&list), ["Hat", "Socks"]);
    assert_eq!(
        store.lists(&o(ALICE)).await.expect("lists"),
        std::slice::from_ref(&list)
    );
    assert_eq!(
        store
            .list_for_plan(&o(ALICE), &pid("plan-1"))
            .await
            .expect("for plan"),
        Some(list.clone())
    );
    assert_eq!(owner_of(&store, "plan-1").await, Some(o(ALICE)));
    assert_eq!(
        store.plan_by_share_token("tok").await.expect("shared"),
        Some(plan.clone())
    );
    assert_eq!(
        store
            .cache_get("nominatim", "k", 3600)
            .await
            .expect("get")
            .as_deref(),
        Some("v")
    );

    // Dropped without `close` (a crash, say): the commits stay.
    store
        .delete_list(&o(ALICE), &list.id)
        .await
        .expect("delete");
    let other = new_list(&store, "Second", None).await;
    drop(store);
    let store = db.open().await;
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), [other]);
}

#[tokio::test]
async fn a_store_from_before_lists_is_upgraded() {
    let (dir, path) = temp_path();
    // Build the store as the first release left it: only the first migration.
    let first = dir.path().join("first-migration");
    std::fs::create_dir(&first).expect("dir");
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_places_embeddings_plans.sql");
    std::fs::copy(&source, first.join("0001_places_embeddings_plans.sql")).expect("copy");
    let migrator = sqlx::migrate::Migrator::new(first.as_path())
        .await
        .expect("migrator");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("create");
    migrator.run(&mut conn).await.expect("first migration");
    let body = serde_json::to_string(&sample_plan("old-plan", "2025-01-01T00:00:00Z", "Oulu"))
        .expect("json");
    sqlx::query(
        "INSERT INTO plans (id, created_at, destination, country, days, body) \
         VALUES ('old-plan', '2025-01-01T00:00:00.000000Z', 'Oulu', 'Finland', 2, ?)",
    )
    .bind(body)
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.expect("upgrade"));
    assert_eq!(owner_of(&store, "old-plan").await, None);
    assert_eq!(store.list_plans(10).await.expect("plans").len(), 1);
    assert_eq!(share(&store, "old-plan", "t").await, "t");
    let list = new_list(&store, "Trip list", Some("old-plan")).await;
    assert_eq!(list.plan_id.as_ref(), Some(&pid("old-plan")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_keep_names_unique_and_positions_distinct() {
    let (_dir, store, list) = store_with_list().await;
    let store = std::sync::Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        let id = list.id.clone();
        // Every name twice (in two cases): exactly one of each pair must land.
        let name = if i % 2 == 0 {
            format!("item {}", i / 2)
        } else {
            format!("ITEM {}", i / 2)
        };
        tasks.push(tokio::spawn(async move {
            store.add_item(&o(ALICE), &id, &name, 1, 1).await
        }));
    }
    let mut added = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => added += 1,
            Err(StoreError::Duplicate {
                entity: Entity::Item,
                ..
            }) => conflicts += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!((added, conflicts), (20, 20));
    let list = current(&store, &list.id).await;
    let mut positions: Vec<i64> = list.items.iter().map(|i| i.position).collect();
    positions.dedup();
    assert_eq!(positions.len(), 20);
}

#[tokio::test]
async fn requests_are_counted_per_key_and_window_across_stores_on_one_database() {
    let (db, store) = temp_store().await;
    // A second replica on the same database.
    let other = db.open().await;
    let start = 1_800_000_000;
    // 40 requests at once, half through each store: every one gets its own count.
    let counts = futures::future::join_all((0..40).map(|i| {
        let s = if i % 2 == 0 { &store } else { &other };
        async move {
            s.count_request("plan:127.0.0.1", start)
                .await
                .expect("count")
        }
    }))
    .await;
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=40).collect::<Vec<u64>>());
    // Another key, another window: counted apart.
    assert_eq!(
        store
            .count_request("plan:10.0.0.2", start)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count_request("tile:127.0.0.1", start)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count_request("plan:127.0.0.1", start + 60)
            .await
            .expect("count"),
        1
    );
    // A window begun long after forgets the old ones: counting in the first window again
    // starts from one.
    let later = start + tripwright_store::RATE_WINDOWS_KEPT_SECS + 60;
    assert_eq!(
        other
            .count_request("plan:127.0.0.1", later)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count_request("plan:127.0.0.1", start)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        store
            .count_request("plan:127.0.0.1", later)
            .await
            .expect("count"),
        2
    );
    other.close().await.expect("close");
    store.close().await.expect("close");
}
