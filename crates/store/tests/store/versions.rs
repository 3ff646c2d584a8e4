//! Edits to a plan are saved with the plan as it was, and undone newest first.

use tripwright_store::{PLAN_VERSIONS_KEPT, StoreError};

use crate::common::{o, sample_plan, temp_store};

#[tokio::test]
async fn edits_are_undone_newest_first_and_only_by_the_owner() {
    let (_dir, store) = temp_store().await;
    let original = sample_plan(
        "11111111-1111-4111-8111-111111111111",
        "2026-07-01T10:00:00Z",
        "Helsinki",
    );
    let id = original.id.clone();
    store
        .save_owned_plan(&o("ann"), &original)
        .await
        .expect("saved");
    assert_eq!(store.plan_edits(&id).await.expect("count"), 0);
    assert!(
        store
            .undo_plan_edit(&o("ann"), &id)
            .await
            .expect("nothing")
            .is_none()
    );

    let mut first = original.clone();
    first.itinerary.days[0].stops.remove(0);
    store
        .save_edited_plan(&o("ann"), &original, &first)
        .await
        .expect("edited");
    let mut second = first.clone();
    second.itinerary.days[0].title = "Edited twice".into();
    store
        .save_edited_plan(&o("ann"), &first, &second)
        .await
        .expect("edited");
    assert_eq!(store.plan(&id).await.expect("read"), Some(second.clone()));
    assert_eq!(store.plan_edits(&id).await.expect("count"), 2);

    // Someone else can neither edit nor undo it.
    let err = store
        .save_edited_plan(&o("bob"), &second, &original)
        .await
        .expect_err("not bob's");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert!(
        store
            .undo_plan_edit(&o("bob"), &id)
            .await
            .expect("nothing")
            .is_none()
    );

    assert_eq!(
        store.undo_plan_edit(&o("ann"), &id).await.expect("undone"),
        Some(first.clone())
    );
    assert_eq!(store.plan(&id).await.expect("read"), Some(first));
    assert_eq!(
        store.undo_plan_edit(&o("ann"), &id).await.expect("undone"),
        Some(original.clone())
    );
    assert_eq!(store.plan(&id).await.expect("read"), Some(original.clone()));
    assert!(
        store
            .undo_plan_edit(&o("ann"), &id)
            .await
            .expect("nothing")
            .is_none()
    );

    // Only the newest versions are kept.
    let mut plan = original.clone();
    for n in 0..PLAN_VERSIONS_KEPT + 5 {
        let mut next = plan.clone();
        next.itinerary.days[0].title = format!("Edit {n}");
        store
            .save_edited_plan(&o("ann"), &plan, &next)
            .await
            .expect("edited");
        plan = next;
    }
    assert_eq!(
        store.plan_edits(&id).await.expect("count"),
        PLAN_VERSIONS_KEPT
    );
}

#[tokio::test]
async fn a_plans_name_is_in_its_summary() {
    let (_dir, store) = temp_store().await;
    let mut plan = sample_plan(
        "22222222-2222-4222-8222-222222222222",
        "2026-07-01T10:00:00Z",
        "Helsinki",
    );
    store
        .save_owned_plan(&o("ann"), &plan)
        .await
        .expect("saved");
    let rows = store.list_owned_plans(&o("ann"), 10).await.expect("listed");
    assert_eq!(rows[0].title, None);
    plan.title = Some("Helsinki with Mum".into());
    store
        .save_owned_plan(&o("ann"), &plan)
        .await
        .expect("renamed");
    let rows = store.list_owned_plans(&o("ann"), 10).await.expect("listed");
    assert_eq!(rows[0].title.as_deref(), Some("Helsinki with Mum"));
}

/// Two stores on one file (a CLI import beside the server, two processes): writes that read
/// first and then write wait their turn instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_read_then_write_without_locking_each_other_out() {
    use tripwright_store::ItemPatch;
    let (dir, path) = crate::common::temp_path();
    let a = crate::common::open(&path).await;
    let b = crate::common::open(&path).await;
    let list = a
        .create_list(&o("ann"), "Trip", None)
        .await
        .expect("a list");
    let item = a
        .add_item(&o("ann"), &list.id, "Socks", 1, 1)
        .await
        .expect("an item");
    let tick = |store: std::sync::Arc<dyn tripwright_store::Store>, n: usize| {
        let (list, item) = (list.id.clone(), item.id.clone());
        tokio::spawn(async move {
            for i in 0..n {
                let patch = ItemPatch {
                    taken: Some(i % 2 == 0),
                    ..ItemPatch::default()
                };
                store
                    .update_item(&o("ann"), &list, &item, &patch, None)
                    .await
                    .expect("no lock error");
            }
        })
    };
    let adds = {
        let (b, list) = (b.clone(), list.id.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                b.add_item(&o("ann"), &list, &format!("Thing {i}"), 0, 1)
                    .await
                    .expect("no lock error");
            }
        })
    };
    let (x, y, z) = tokio::join!(tick(a.clone(), 60), tick(b.clone(), 60), adds);
    x.expect("ticks on a");
    y.expect("ticks on b");
    z.expect("adds on b");
    drop(dir);
}
