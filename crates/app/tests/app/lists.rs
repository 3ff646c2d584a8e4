//! The trip-list use cases' refusals, as types: invalid input is [`AppError::Invalid`] with
//! the rule it broke, a name already on the list [`AppError::Duplicate`], a write from a stale
//! version [`AppError::Changed`], someone else's list [`AppError::NotFound`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tripwright_app::lists::{ItemChange, NewItem};
use tripwright_app::{AppError, Changed, Invalid, Missing};
use tripwright_domain::OwnerId;
use tripwright_llm::LlmClient;
use tripwright_testkit::scripted::{Reply, ScriptedLlm};

use crate::support::{app, trip, until_text};

fn item(name: &str, home: i64, take: i64) -> NewItem {
    NewItem {
        name: name.into(),
        qty_home: home,
        qty_take: take,
    }
}

/// The rule `result` was refused for.
fn invalid<T: std::fmt::Debug>(result: Result<T, AppError>) -> Invalid {
    match result {
        Err(AppError::Invalid { invalid, hint, .. }) => {
            assert!(hint.is_some(), "{invalid:?} comes with a hint");
            invalid
        }
        other => panic!("refused as invalid, not {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_input_is_refused_by_rule_duplicates_and_stale_versions_by_kind() {
    let app = app(None, |_| {}).await;
    let lists = app.lists();
    let owner = OwnerId::new("lists-owner");
    for title in ["", "   ", "a\u{7}b", &"t".repeat(121)] {
        assert_eq!(
            invalid(lists.create(&owner, title).await),
            Invalid::ListTitle,
            "{title:?}"
        );
    }
    let list = lists.create(&owner, "Weekend").await.expect("made");
    let id = &list.id;
    for (new, rule) in [
        (item("", 0, 1), Invalid::ItemName),
        (item(&"x".repeat(81), 0, 1), Invalid::ItemName),
        (item("Hat", 0, 13), Invalid::Quantity),
        (item("Hat", -1, 1), Invalid::Quantity),
    ] {
        assert_eq!(
            invalid(lists.add_item(&owner, id, new.clone()).await),
            rule,
            "{new:?}"
        );
    }
    let socks = lists
        .add_item(&owner, id, item("Socks", 1, 2))
        .await
        .expect("added");
    match lists.add_item(&owner, id, item("sOCKS", 0, 1)).await {
        Err(AppError::Duplicate(name)) => assert_eq!(name.to_lowercase(), "socks"),
        other => panic!("a duplicate, not {other:?}"),
    }
    // Changes: the same rules.
    let change = |c: ItemChange| c;
    for (c, rule) in [
        (
            change(ItemChange {
                name: Some(String::new()),
                ..ItemChange::default()
            }),
            Invalid::ItemName,
        ),
        (
            change(ItemChange {
                qty_take: Some(13),
                ..ItemChange::default()
            }),
            Invalid::Quantity,
        ),
    ] {
        assert_eq!(
            invalid(lists.change_item(&owner, id, &socks.id, c, None).await),
            rule
        );
    }
    // Two tabs: the second writes from the version both read.
    let ticked = lists
        .change_item(
            &owner,
            id,
            &socks.id,
            ItemChange {
                taken: Some(true),
                ..ItemChange::default()
            },
            Some(socks.version),
        )
        .await
        .expect("ticked");
    assert!(ticked.version > socks.version);
    assert!(matches!(
        lists
            .change_item(
                &owner,
                id,
                &socks.id,
                ItemChange {
                    qty_take: Some(5),
                    ..ItemChange::default()
                },
                Some(socks.version),
            )
            .await,
        Err(AppError::Changed(Changed::Item))
    ));
    let renamed = lists
        .rename(&owner, id, "Long weekend", Some(list.version))
        .await
        .expect("renamed");
    assert!(matches!(
        lists
            .rename(&owner, id, "Short weekend", Some(list.version))
            .await,
        Err(AppError::Changed(Changed::List))
    ));
    assert_eq!(
        invalid(
            lists
                .save_notes(&owner, id, &"n".repeat(20_001), None)
                .await
        ),
        Invalid::Notes
    );
    lists
        .save_notes(&owner, id, "one", Some(renamed.version))
        .await
        .expect("saved");
    assert!(matches!(
        lists
            .save_notes(&owner, id, "two", Some(renamed.version))
            .await,
        Err(AppError::Changed(Changed::Notes))
    ));
    // What was refused changed nothing.
    let now = lists.get(&owner, id).await.expect("read");
    assert_eq!(now.title, "Long weekend");
    assert_eq!(now.notes, "one");
    assert_eq!(now.items.len(), 1);
    assert_eq!((now.items[0].qty_take, now.items[0].taken), (2, true));

    // Someone else's list is not found, whatever is asked.
    let other = OwnerId::new("lists-other");
    assert!(matches!(
        lists.get(&other, id).await,
        Err(AppError::NotFound(Missing::List))
    ));
    assert!(matches!(
        lists.add_item(&other, id, item("Hat", 0, 1)).await,
        Err(AppError::NotFound(Missing::List))
    ));
    assert!(matches!(
        lists.rename(&other, id, "Mine", None).await,
        Err(AppError::NotFound(Missing::List))
    ));
    assert!(lists.all(&other).await.expect("lists").is_empty());
    app.close().await.expect("the store closes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_still_being_made_has_no_list_or_suggestions_yet() {
    let hang = Arc::new(AtomicBool::new(true));
    let llm = {
        let hang = Arc::clone(&hang);
        ScriptedLlm::new(move |_| {
            if hang.load(Ordering::SeqCst) {
                Reply::Hang("This day".into())
            } else {
                Reply::Fail(tripwright_llm::LlmError::Unavailable("off".into()))
            }
        })
    };
    let app = app(Some(llm as Arc<dyn LlmClient>), |_| {}).await;
    let owner = OwnerId::new("lists-plan-owner");
    let job = app
        .planner()
        .start(&owner, trip(1, "lists: a plan being made"))
        .await
        .expect("starts");
    until_text(&job).await;
    assert!(matches!(
        app.lists().open_for_plan(&owner, &job.id, None).await,
        Err(AppError::PlanNotDone)
    ));
    assert!(matches!(
        app.lists().suggestions(&owner, &job.id).await,
        Err(AppError::PlanNotDone)
    ));
    app.planner()
        .cancel(&owner, &job.id)
        .await
        .expect("cancels");
    assert!(matches!(
        app.lists().open_for_plan(&owner, &job.id, None).await,
        Err(AppError::NotFound(Missing::Plan))
    ));
    app.close().await.expect("the store closes");
}
