//! Plan owners, share links, trip lists and the response cache against real SQLite files in
//! temporary folders: every operation, isolation between owners, refused input that leaves
//! everything as it was, versioned writes from two "tabs", and persistence across restarts.

use std::path::Path;

use chrono::Utc;
use sqlx::{Connection, SqliteConnection};
use tripwright_domain::{ListItem, MAX_NOTES_CHARS, TripList};
use tripwright_store::{
    CacheStore, Entity, ItemPatch, ListStore, PlanStore, SqliteStore, Store, StoreError,
};

use super::common::{o, pid, raw, sample_plan, temp_store};

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

/// A lost versioned write on `entity`: the versions seen and stored, and the message says
/// to reload.
#[track_caller]
fn assert_changed<T: std::fmt::Debug>(result: Result<T, StoreError>, entity: Entity) -> (i64, i64) {
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
            (seen, current)
        }
        other => panic!("expected a version conflict on the {entity}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(e @ StoreError::Invalid(_)) => e.to_string(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn patch() -> ItemPatch {
    ItemPatch::default()
}

#[tokio::test]
async fn lists_and_items_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    let store = SqliteStore::open(&path).await.expect("open");
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");
    store.save_owned_plan(&o(ALICE), &plan).await.expect("save");

    let before = Utc::now();
    let first = store
        .create_list(&o(ALICE), "  Helsinki in July  ", Some(&pid("plan-1")))
        .await
        .expect("create");
    assert_eq!(first.title, "Helsinki in July");
    assert_eq!(first.plan_id.as_ref(), Some(&pid("plan-1")));
    assert_eq!(first.version, 1);
    assert_eq!(first.notes, "");
    assert_eq!(first.notes_saved_at, None);
    assert!(first.items.is_empty());
    assert_eq!(uuid_version(first.id.as_str()), 4, "{}", first.id);
    let created = first.created_at;
    assert!(created >= before - chrono::Duration::seconds(1));
    let second = store
        .create_list(&o(ALICE), "Weekend", None)
        .await
        .expect("create");

    // Newest first.
    let all = store.lists(&o(ALICE)).await.expect("lists");
    assert_eq!(
        all.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        [second.id.as_str(), first.id.as_str()]
    );
    assert_eq!(
        store
            .list_for_plan(&o(ALICE), &pid("plan-1"))
            .await
            .expect("for plan")
            .map(|l| l.id),
        Some(first.id.clone())
    );
    assert_eq!(
        store
            .list_for_plan(&o(ALICE), &pid("plan-2"))
            .await
            .expect("none"),
        None
    );

    let socks = store
        .add_item(&o(ALICE), &first.id, "  Socks ", 4, 3)
        .await
        .expect("add");
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
    let jacket = store
        .add_item(&o(ALICE), &first.id, "Rain jacket", 1, 1)
        .await
        .expect("add");
    let adapter = store
        .add_item(&o(ALICE), &first.id, "Plug adapter", 0, 12)
        .await
        .expect("add");
    assert!(socks.position < jacket.position && jacket.position < adapter.position);

    let ticked = store
        .update_item(
            &o(ALICE),
            &first.id,
            &jacket.id,
            &ItemPatch {
                taken: Some(true),
                ..patch()
            },
            Some(1),
        )
        .await
        .expect("tick");
    assert!(ticked.taken);
    assert_eq!(ticked.version, 2);
    assert_eq!((ticked.qty_home, ticked.qty_take), (1, 1));
    let renamed = store
        .update_item(
            &o(ALICE),
            &first.id,
            &socks.id,
            &ItemPatch {
                name: Some(" Wool socks ".into()),
                qty_take: Some(5),
                ..patch()
            },
            None,
        )
        .await
        .expect("rename item");
    assert_eq!(
        (renamed.name.as_str(), renamed.qty_home, renamed.qty_take),
        ("Wool socks", 4, 5)
    );

    // An empty patch changes nothing, version included.
    let same = store
        .update_item(&o(ALICE), &first.id, &adapter.id, &patch(), Some(1))
        .await
        .expect("empty patch");
    assert_eq!(same, adapter);

    let list = store.list(&o(ALICE), &first.id).await.expect("list");
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

    store
        .remove_item(&o(ALICE), &first.id, &jacket.id)
        .await
        .expect("remove");
    assert_eq!(
        names(&store.list(&o(ALICE), &first.id).await.expect("list")),
        ["Wool socks", "Plug adapter"]
    );
    assert_not_found(
        store.remove_item(&o(ALICE), &first.id, &jacket.id).await,
        "item ",
    );
    // An item is reached only through its own list.
    assert_not_found(
        store
            .update_item(&o(ALICE), &second.id, &socks.id, &patch(), None)
            .await,
        "item ",
    );

    store
        .delete_list(&o(ALICE), &first.id)
        .await
        .expect("delete");
    assert_not_found(store.list(&o(ALICE), &first.id).await, "list ");
    assert_not_found(store.delete_list(&o(ALICE), &first.id).await, "list ");
    assert_eq!(
        store
            .list_for_plan(&o(ALICE), &pid("plan-1"))
            .await
            .expect("none"),
        None
    );
    // The items went with their list.
    let mut conn = raw(&path).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM list_items")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(left, 0);
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
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
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
    let list = store
        .create_list(&o(ALICE), "Alice's list", Some(&pid("plan-a")))
        .await
        .expect("create");
    let socks = store
        .add_item(&o(ALICE), &list.id, "Socks", 2, 2)
        .await
        .expect("add");
    let list = store
        .save_notes(&o(ALICE), &list.id, "passport!", None)
        .await
        .expect("notes");

    assert_eq!(store.lists(&o(BOB)).await.expect("lists"), []);
    assert_not_found(store.list(&o(BOB), &list.id).await, "list ");
    assert_eq!(
        store
            .list_for_plan(&o(BOB), &pid("plan-a"))
            .await
            .expect("for plan"),
        None
    );
    assert_not_found(
        store
            .rename_list(&o(BOB), &list.id, "Bob's now", None)
            .await,
        "list ",
    );
    assert_not_found(
        store.save_notes(&o(BOB), &list.id, "mine", None).await,
        "list ",
    );
    assert_not_found(
        store.add_item(&o(BOB), &list.id, "Hat", 1, 1).await,
        "list ",
    );
    assert_not_found(
        store
            .update_item(
                &o(BOB),
                &list.id,
                &socks.id,
                &ItemPatch {
                    taken: Some(true),
                    ..patch()
                },
                None,
            )
            .await,
        "list ",
    );
    assert_not_found(
        store.move_item(&o(BOB), &list.id, &socks.id, 0).await,
        "list ",
    );
    assert_not_found(
        store.remove_item(&o(BOB), &list.id, &socks.id).await,
        "list ",
    );
    assert_not_found(store.delete_list(&o(BOB), &list.id).await, "list ");

    // Nothing Bob tried changed Alice's list.
    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), list);

    // Nor does Bob see Alice's plans.
    assert_eq!(
        store.list_owned_plans(&o(BOB), 10).await.expect("plans"),
        []
    );
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
    let (_dir, store) = temp_store().await;
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
    let other = store
        .create_list(&o(ALICE), "Other", None)
        .await
        .expect("create");
    let jacket = store
        .add_item(&o(ALICE), &list.id, "Rain jacket", 1, 1)
        .await
        .expect("add");
    let message = assert_duplicate(
        store
            .add_item(&o(ALICE), &list.id, "  rain JACKET ", 0, 1)
            .await,
        Entity::Item,
    );
    assert_eq!(
        message,
        "an item named \"Rain jacket\" is already on the list"
    );
    // Beyond ASCII too.
    store
        .add_item(&o(ALICE), &list.id, "Äidin kakku", 0, 1)
        .await
        .expect("add");
    assert_duplicate(
        store
            .add_item(&o(ALICE), &list.id, "äIDIN KAKKU", 0, 1)
            .await,
        Entity::Item,
    );
    // Another list may hold the same name.
    store
        .add_item(&o(ALICE), &other.id, "rain jacket", 0, 1)
        .await
        .expect("other list");

    let towel = store
        .add_item(&o(ALICE), &list.id, "Towel", 1, 1)
        .await
        .expect("add");
    let rename = |name: &str| ItemPatch {
        name: Some(name.to_owned()),
        ..patch()
    };
    let before = store.list(&o(ALICE), &list.id).await.expect("list");
    assert_duplicate(
        store
            .update_item(&o(ALICE), &list.id, &towel.id, &rename("RAIN JACKET"), None)
            .await,
        Entity::Item,
    );
    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), before);
    // An item may change the case of its own name.
    let recased = store
        .update_item(
            &o(ALICE),
            &list.id,
            &jacket.id,
            &rename("RAIN JACKET"),
            Some(1),
        )
        .await
        .expect("recase");
    assert_eq!((recased.name.as_str(), recased.version), ("RAIN JACKET", 2));
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let (_dir, store) = temp_store().await;
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
    let socks = store
        .add_item(&o(ALICE), &list.id, "Socks", 2, 2)
        .await
        .expect("add");
    let before = store.list(&o(ALICE), &list.id).await.expect("list");
    let huge = "x".repeat(10_000);

    for (home, take) in [
        (-1, 1),
        (1, -1),
        (13, 1),
        (1, 13),
        (i64::MAX, 0),
        (i64::MIN, 0),
    ] {
        let message = assert_invalid(store.add_item(&o(ALICE), &list.id, "Hat", home, take).await);
        assert!(message.contains("between 0 and 12"), "{message}");
    }
    for bad in [
        ItemPatch {
            qty_home: Some(-1),
            ..patch()
        },
        ItemPatch {
            qty_take: Some(13),
            taken: Some(true),
            ..patch()
        },
        ItemPatch {
            name: Some(huge.clone()),
            ..patch()
        },
        ItemPatch {
            name: Some("   ".into()),
            qty_home: Some(3),
            ..patch()
        },
        ItemPatch {
            name: Some("tab\there".into()),
            ..patch()
        },
    ] {
        assert_invalid(
            store
                .update_item(&o(ALICE), &list.id, &socks.id, &bad, None)
                .await,
        );
    }
    let message = assert_invalid(store.add_item(&o(ALICE), &list.id, &huge, 1, 1).await);
    assert!(message.contains("at most 80 characters"), "{message}");
    assert_invalid(store.add_item(&o(ALICE), &list.id, "", 1, 1).await);
    assert_invalid(store.rename_list(&o(ALICE), &list.id, &huge, None).await);
    assert_invalid(store.rename_list(&o(ALICE), &list.id, " \t ", None).await);
    assert_invalid(store.rename_list(&o(ALICE), &list.id, "a\nb", None).await);
    let too_long_notes = "é".repeat(MAX_NOTES_CHARS + 1);
    let message = assert_invalid(
        store
            .save_notes(&o(ALICE), &list.id, &too_long_notes, None)
            .await,
    );
    assert!(message.contains("at most 20000 characters"), "{message}");

    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), before);

    // Bad input for a new list creates nothing.
    assert_invalid(store.create_list(&o(ALICE), &huge, None).await);
    assert_invalid(store.create_list(&o(ALICE), "", None).await);
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), [before]);

    // The limits themselves are accepted.
    let title = "t".repeat(120);
    assert_eq!(
        store
            .rename_list(&o(ALICE), &list.id, &title, None)
            .await
            .expect("120 chars")
            .title,
        title
    );
    store
        .add_item(&o(ALICE), &list.id, &"ü".repeat(80), 0, 12)
        .await
        .expect("80 chars, 12 to take");
    let notes = "é".repeat(MAX_NOTES_CHARS);
    assert_eq!(
        store
            .save_notes(&o(ALICE), &list.id, &notes, None)
            .await
            .expect("20000 chars")
            .notes,
        notes
    );
}

#[tokio::test]
async fn two_tabs_conflict_only_on_the_same_item() {
    let (_dir, store) = temp_store().await;
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
    let socks = store
        .add_item(&o(ALICE), &list.id, "Socks", 2, 2)
        .await
        .expect("add");
    let hat = store
        .add_item(&o(ALICE), &list.id, "Hat", 1, 1)
        .await
        .expect("add");

    // Both tabs load the list: everything at version 1.
    let tab1 = store.list(&o(ALICE), &list.id).await.expect("tab 1");
    let tab2 = store.list(&o(ALICE), &list.id).await.expect("tab 2");
    assert_eq!(tab1, tab2);
    assert!(tab1.items.iter().all(|i| i.version == 1));

    let updated = store
        .update_item(
            &o(ALICE),
            &list.id,
            &socks.id,
            &ItemPatch {
                qty_take: Some(4),
                ..patch()
            },
            Some(item(&tab1, "Socks").version),
        )
        .await
        .expect("tab 1 writes");
    assert_eq!(updated.version, 2);

    let (seen, current) = assert_changed(
        store
            .update_item(
                &o(ALICE),
                &list.id,
                &socks.id,
                &ItemPatch {
                    taken: Some(true),
                    ..patch()
                },
                Some(item(&tab2, "Socks").version),
            )
            .await,
        Entity::Item,
    );
    assert_eq!(
        (seen, current),
        (item(&tab2, "Socks").version, updated.version)
    );
    assert_eq!(
        store.list(&o(ALICE), &list.id).await.expect("list").items[0],
        updated,
        "the refused write changed nothing"
    );

    // Tab 2 changing another item is fine.
    let hat2 = store
        .update_item(
            &o(ALICE),
            &list.id,
            &hat.id,
            &ItemPatch {
                taken: Some(true),
                ..patch()
            },
            Some(item(&tab2, "Hat").version),
        )
        .await
        .expect("tab 2 writes another item");
    assert!(hat2.taken);

    // A write without a version changes only its own field: tab 1's quantity stays.
    let socks3 = store
        .update_item(
            &o(ALICE),
            &list.id,
            &socks.id,
            &ItemPatch {
                taken: Some(true),
                ..patch()
            },
            None,
        )
        .await
        .expect("unversioned");
    assert_eq!(
        (socks3.qty_take, socks3.taken, socks3.version),
        (4, true, 3)
    );

    // The list's own fields work the same way.
    let renamed = store
        .rename_list(&o(ALICE), &list.id, "Tab 1's title", Some(tab1.version))
        .await
        .expect("tab 1 renames");
    assert_eq!(renamed.version, 2);
    assert_changed(
        store
            .save_notes(&o(ALICE), &list.id, "tab 2's notes", Some(tab2.version))
            .await,
        Entity::List,
    );
    assert_changed(
        store
            .rename_list(&o(ALICE), &list.id, "Tab 2's title", Some(tab2.version))
            .await,
        Entity::List,
    );
    let current = store.list(&o(ALICE), &list.id).await.expect("list");
    assert_eq!(
        (current.title.as_str(), current.notes.as_str()),
        ("Tab 1's title", "")
    );
    let saved = store
        .save_notes(&o(ALICE), &list.id, "tab 2's notes", Some(current.version))
        .await
        .expect("after reloading");
    assert_eq!(saved.version, 3);
}

#[tokio::test]
async fn move_item_reorders_and_clamps() {
    let (_dir, store) = temp_store().await;
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        ids.push(
            store
                .add_item(&o(ALICE), &list.id, name, 0, 1)
                .await
                .expect("add")
                .id,
        );
    }
    let positions = |list: &TripList| list.items.iter().map(|i| i.position).collect::<Vec<_>>();

    let moved = store
        .move_item(&o(ALICE), &list.id, &ids[3], 0)
        .await
        .expect("move");
    assert_eq!(names(&moved), ["d", "a", "b", "c", "e"]);
    assert_eq!(positions(&moved), [0, 1, 2, 3, 4]);
    // Only the items whose position changed got a new version.
    let versions: Vec<i64> = moved.items.iter().map(|i| i.version).collect();
    assert_eq!(versions, [2, 2, 2, 2, 1]);
    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), moved);

    let moved = store
        .move_item(&o(ALICE), &list.id, &ids[3], 99)
        .await
        .expect("clamped");
    assert_eq!(names(&moved), ["a", "b", "c", "e", "d"]);
    let moved = store
        .move_item(&o(ALICE), &list.id, &ids[1], 1)
        .await
        .expect("to where it is");
    assert_eq!(names(&moved), ["a", "b", "c", "e", "d"]);

    // After a removal leaves a gap, and with appends after a move.
    store
        .remove_item(&o(ALICE), &list.id, &ids[2])
        .await
        .expect("remove");
    let f = store
        .add_item(&o(ALICE), &list.id, "f", 0, 1)
        .await
        .expect("add");
    let moved = store
        .move_item(&o(ALICE), &list.id, &f.id, 1)
        .await
        .expect("move");
    assert_eq!(names(&moved), ["a", "f", "b", "e", "d"]);
    assert_eq!(positions(&moved), [0, 1, 2, 3, 4]);
    let moved = store
        .move_item(&o(ALICE), &list.id, &ids[0], 3)
        .await
        .expect("move down");
    assert_eq!(names(&moved), ["f", "b", "e", "a", "d"]);
    let g = store
        .add_item(&o(ALICE), &list.id, "g", 0, 1)
        .await
        .expect("add");
    assert_eq!(
        names(&store.list(&o(ALICE), &list.id).await.expect("list")).last(),
        Some(&"g")
    );
    assert!(g.position > 4);
}

#[tokio::test]
async fn saving_notes_stamps_the_time() {
    let (_dir, store) = temp_store().await;
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
    assert_eq!(list.notes_saved_at, None);
    let before = Utc::now();
    let notes = "Passport, tickets.\nCall grandma — 🧳";
    let saved = store
        .save_notes(&o(ALICE), &list.id, notes, Some(1))
        .await
        .expect("save");
    assert_eq!(saved.notes, notes);
    assert_eq!(saved.version, 2);
    let at = saved.notes_saved_at.expect("stamped");
    let drift = at - before;
    assert!(
        drift >= chrono::Duration::seconds(-1) && drift <= chrono::Duration::seconds(5),
        "{drift}"
    );
    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), saved);

    // Empty notes are notes too.
    let cleared = store
        .save_notes(&o(ALICE), &list.id, "", Some(2))
        .await
        .expect("clear");
    assert_eq!((cleared.notes.as_str(), cleared.version), ("", 3));
    assert!(cleared.notes_saved_at.is_some());
}

#[tokio::test]
async fn owned_plans_and_share_tokens() {
    let (_dir, store) = temp_store().await;
    let older = sample_plan("plan-old", "2025-05-05T08:00:00Z", "Helsinki");
    let newer = sample_plan("plan-new", "2025-05-06T08:00:00+03:00", "Oulu");
    let cli = sample_plan("plan-cli", "2025-05-07T08:00:00Z", "Turku");
    store
        .save_owned_plan(&o(ALICE), &older)
        .await
        .expect("save");
    store
        .save_owned_plan(&o(ALICE), &newer)
        .await
        .expect("save");
    store.save_plan(&cli).await.expect("save");
    store
        .save_owned_plan(
            &o(BOB),
            &sample_plan("plan-bob", "2025-05-08T08:00:00Z", "Tampere"),
        )
        .await
        .expect("save");

    assert_eq!(
        store
            .plan_owner(&pid("plan-old"))
            .await
            .expect("owner")
            .as_ref(),
        Some(&o(ALICE))
    );
    assert_eq!(
        store.plan_owner(&pid("plan-cli")).await.expect("owner"),
        None
    );
    assert_eq!(store.plan_owner(&pid("nope")).await.expect("owner"), None);
    let mine = store.list_owned_plans(&o(ALICE), 10).await.expect("mine");
    assert_eq!(
        mine.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["plan-new", "plan-old"]
    );
    assert_eq!(mine[0].destination, "Oulu");
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
    assert_eq!(
        store.plan(&pid("plan-old")).await.expect("get"),
        Some(older.clone())
    );
    // Alice can replace hers, and an unowned plan is adopted.
    let mut edited = older.clone();
    edited.warnings.push("edited".into());
    store
        .save_owned_plan(&o(ALICE), &edited)
        .await
        .expect("replace");
    assert_eq!(
        store.plan(&pid("plan-old")).await.expect("get"),
        Some(edited.clone())
    );
    store.save_owned_plan(&o(ALICE), &cli).await.expect("adopt");
    assert_eq!(
        store
            .plan_owner(&pid("plan-cli"))
            .await
            .expect("owner")
            .as_ref(),
        Some(&o(ALICE))
    );
    // Same validation as save_plan (a creation time is a typed time now: only numbers can
    // make a plan unreadable).
    let mut bad = sample_plan("plan-bad", "2025-05-05T08:00:00Z", "Oulu");
    bad.hotels[0].price_per_night = f64::NAN;
    assert_invalid(store.save_owned_plan(&o(ALICE), &bad).await);
    assert_eq!(store.plan(&pid("plan-bad")).await.expect("get"), None);

    // Share tokens: created once, then always the same.
    assert_eq!(store.plan_by_share_token("tok-1").await.expect("get"), None);
    let token = store
        .share_token(&pid("plan-old"), "tok-1")
        .await
        .expect("share");
    assert_eq!(token, "tok-1");
    assert_eq!(
        store
            .share_token(&pid("plan-old"), "tok-2")
            .await
            .expect("share again"),
        "tok-1"
    );
    assert_eq!(
        store.plan_by_share_token("tok-1").await.expect("get"),
        Some(edited.clone())
    );
    assert_eq!(store.plan_by_share_token("tok-2").await.expect("get"), None);
    assert_not_found(store.share_token(&pid("nope"), "tok-3").await, "plan nope");
    // A token is one plan's only.
    assert_duplicate(
        store.share_token(&pid("plan-new"), "tok-1").await,
        Entity::ShareLink,
    );
    assert_invalid(store.share_token(&pid("plan-new"), "").await);
    assert_eq!(
        store
            .share_token(&pid("plan-new"), "tok-4")
            .await
            .expect("share"),
        "tok-4"
    );
    // Saving the plan again keeps its link, whichever way it is saved.
    store
        .save_owned_plan(&o(ALICE), &edited)
        .await
        .expect("save");
    store.save_plan(&edited).await.expect("save");
    assert_eq!(
        store
            .share_token(&pid("plan-old"), "tok-5")
            .await
            .expect("share"),
        "tok-1"
    );
    assert_eq!(
        store
            .plan_owner(&pid("plan-old"))
            .await
            .expect("owner")
            .as_ref(),
        Some(&o(ALICE))
    );
}

#[tokio::test]
async fn cached_values_expire() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    let store = SqliteStore::open(&path).await.expect("open");
    let answer = r#"[{"lat":"60.17","lon":"24.94","display_name":"Helsinki"}]"#;
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 3600)
            .await
            .expect("get"),
        None
    );
    store
        .cache_put("nominatim", "helsinki", answer)
        .await
        .expect("put");
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 3600)
            .await
            .expect("get")
            .as_deref(),
        Some(answer)
    );
    // Namespaces keep apart; a zero max age never hits.
    assert_eq!(
        store
            .cache_get("overpass", "helsinki", 3600)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 0)
            .await
            .expect("get"),
        None
    );

    // Age the entry by two hours, beneath the trait.
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE response_cache SET stored_at = stored_at - 7200000")
        .execute(&mut conn)
        .await
        .expect("age");
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 3600)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 3 * 3600)
            .await
            .expect("get")
            .as_deref(),
        Some(answer)
    );
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", u64::MAX)
            .await
            .expect("get")
            .as_deref(),
        Some(answer)
    );
    // Putting again replaces the value and refreshes it.
    store
        .cache_put("nominatim", "helsinki", "[]")
        .await
        .expect("put");
    assert_eq!(
        store
            .cache_get("nominatim", "helsinki", 3600)
            .await
            .expect("get")
            .as_deref(),
        Some("[]")
    );

    // And in real time: a one-second max age runs out.
    store.cache_put("overpass", "q", "v").await.expect("put");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        store.cache_get("overpass", "q", 1).await.expect("get"),
        None
    );
    assert_eq!(
        store
            .cache_get("overpass", "q", 60)
            .await
            .expect("get")
            .as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
    let plan = sample_plan("plan-1", "2025-05-05T08:00:00Z", "Helsinki");

    let store = SqliteStore::open(&path).await.expect("open");
    store.save_owned_plan(&o(ALICE), &plan).await.expect("save");
    store
        .share_token(&pid("plan-1"), "tok")
        .await
        .expect("share");
    let list = store
        .create_list(&o(ALICE), "Trip list", Some(&pid("plan-1")))
        .await
        .expect("create");
    let socks = store
        .add_item(&o(ALICE), &list.id, "Socks", 3, 2)
        .await
        .expect("add");
    store
        .add_item(&o(ALICE), &list.id, "Hat", 1, 1)
        .await
        .expect("add");
    store
        .update_item(
            &o(ALICE),
            &list.id,
            &socks.id,
            &ItemPatch {
                taken: Some(true),
                ..patch()
            },
            None,
        )
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

    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.list(&o(ALICE), &list.id).await.expect("list"), list);
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
    assert_eq!(
        store
            .plan_owner(&pid("plan-1"))
            .await
            .expect("owner")
            .as_ref(),
        Some(&o(ALICE))
    );
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
    let other = store
        .create_list(&o(ALICE), "Second", None)
        .await
        .expect("create");
    drop(store);
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.lists(&o(ALICE)).await.expect("lists"), [other]);
}

#[tokio::test]
async fn a_store_from_before_lists_is_upgraded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store.sqlite");
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

    let store = SqliteStore::open(&path).await.expect("upgrade");
    assert_eq!(
        store.plan_owner(&pid("old-plan")).await.expect("owner"),
        None
    );
    assert_eq!(store.list_plans(10).await.expect("plans").len(), 1);
    assert_eq!(
        store
            .share_token(&pid("old-plan"), "t")
            .await
            .expect("share"),
        "t"
    );
    let list = store
        .create_list(&o(ALICE), "Trip list", Some(&pid("old-plan")))
        .await
        .expect("create");
    assert_eq!(list.plan_id.as_ref(), Some(&pid("old-plan")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_keep_names_unique_and_positions_distinct() {
    let (_dir, store) = temp_store().await;
    let store = std::sync::Arc::new(store);
    let list = store
        .create_list(&o(ALICE), "Trip list", None)
        .await
        .expect("create");
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
    let list = store.list(&o(ALICE), &list.id).await.expect("list");
    let mut positions: Vec<i64> = list.items.iter().map(|i| i.position).collect();
    positions.dedup();
    assert_eq!(positions.len(), 20);
}
