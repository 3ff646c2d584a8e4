//! Trip lists in SQLite: the queries behind the list methods of [`crate::Store`].
//!
//! Every function takes the caller's `owner` and treats someone else's list exactly like a
//! missing one. Writes check all their input before they touch the database and run in one
//! transaction on the writer pool; what they return is read inside that transaction, so it
//! is exactly what they committed.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{SqliteConnection, SqlitePool};
use tripwright_domain::{
    ItemId, ListId, ListItem, PlanId, TripList, validate_item_name, validate_list_title,
    validate_notes, validate_quantity,
};
use uuid::Uuid;

use crate::{Entity, ItemPatch, Result, StoreError};

/// The columns a [`ListRow`] is read from.
const LIST_COLUMNS: &str = "id, title, plan_id, notes, notes_saved_at, created_at, version";

/// The columns an [`ItemRow`] is read from.
const ITEM_COLUMNS: &str = "id, list_id, name, qty_home, qty_take, taken, position, version";

/// A `trip_lists` row, without its items.
#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    title: String,
    plan_id: Option<String>,
    notes: String,
    notes_saved_at: Option<String>,
    created_at: String,
    version: i64,
}

/// A stored time as a UTC time; an unreadable one is [`StoreError::Corrupt`].
fn stored_time(list_id: &str, what: &str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("list {list_id} has the {what} {text:?}: {e}")))
}

impl ListRow {
    fn with_items(self, items: Vec<ListItem>) -> Result<TripList> {
        let created_at = stored_time(&self.id, "creation time", &self.created_at)?;
        let notes_saved_at = self
            .notes_saved_at
            .as_deref()
            .map(|t| stored_time(&self.id, "notes time", t))
            .transpose()?;
        Ok(TripList {
            id: ListId::from(self.id),
            title: self.title,
            plan_id: self.plan_id.map(PlanId::from),
            notes: self.notes,
            notes_saved_at,
            created_at,
            version: self.version,
            items,
        })
    }
}

/// A `list_items` row as stored, before its quantities are checked.
#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    list_id: String,
    name: String,
    qty_home: i64,
    qty_take: i64,
    taken: bool,
    position: i64,
    version: i64,
}

impl TryFrom<ItemRow> for ListItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<Self> {
        let qty = |what: &str, n: i64| {
            validate_quantity(what, n).map_err(|e| {
                StoreError::Corrupt(format!("item {} of list {}: {e}", row.id, row.list_id))
            })
        };
        Ok(ListItem {
            qty_home: qty("the quantity at home", row.qty_home)?,
            qty_take: qty("the quantity to take", row.qty_take)?,
            id: ItemId::from(row.id),
            name: row.name,
            taken: row.taken,
            position: row.position,
            version: row.version,
        })
    }
}

/// The current time as stored: RFC 3339 in UTC with microseconds, which sorts as text.
pub(crate) fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn not_found(entity: Entity, id: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_owned(),
    }
}

fn list_not_found(id: &str) -> StoreError {
    not_found(Entity::List, id)
}

fn item_not_found(id: &str) -> StoreError {
    not_found(Entity::Item, id)
}

/// The domain's title rule, as the store's error.
fn validate_title(title: &str) -> Result<String> {
    validate_list_title(title).map_err(StoreError::Invalid)
}

/// The owner id must name someone: an empty one would make a list nobody can find again.
pub(crate) fn validate_owner(owner: &str) -> Result<()> {
    if owner.trim().is_empty() {
        return Err(StoreError::Invalid("the owner id is empty".into()));
    }
    Ok(())
}

/// What makes two item names the same: case is ignored (Unicode lower case).
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// [`StoreError::VersionConflict`] when the row's `current` version is not the `expected` one.
fn check_version(entity: Entity, current: i64, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(seen) if seen != current => Err(StoreError::VersionConflict {
            entity,
            seen,
            current,
        }),
        _ => Ok(()),
    }
}

/// A uniqueness violation on item names (should the pre-check ever be bypassed) as a
/// duplicate; every other database error as it is.
fn unique_as_duplicate(name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => duplicate(name),
        _ => StoreError::Query(e),
    }
}

/// The list row if it exists and is `owner`'s.
async fn owned_list_row(conn: &mut SqliteConnection, owner: &str, id: &str) -> Result<ListRow> {
    sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} FROM trip_lists WHERE id = ? AND owner = ?"
    ))
    .bind(id)
    .bind(owner)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| list_not_found(id))
}

/// The items of one list in display order.
async fn items_of(conn: &mut SqliteConnection, list_id: &str) -> Result<Vec<ListItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM list_items WHERE list_id = ? ORDER BY position, rowid"
    ))
    .bind(list_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ListItem::try_from).collect()
}

/// One item of one list, [`StoreError::NotFound`] when the list does not hold it.
async fn item_row(conn: &mut SqliteConnection, list_id: &str, item_id: &str) -> Result<ItemRow> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM list_items WHERE id = ? AND list_id = ?"
    ))
    .bind(item_id)
    .bind(list_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| item_not_found(item_id))
}

/// The stored name of another item of the list with the same [`name_key`], if any.
async fn same_name(
    conn: &mut SqliteConnection,
    list_id: &str,
    key: &str,
    except_item: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM list_items WHERE list_id = ? AND name_key = ? AND id <> ?",
    )
    .bind(list_id)
    .bind(key)
    .bind(except_item)
    .fetch_optional(conn)
    .await?)
}

fn duplicate(existing: &str) -> StoreError {
    StoreError::Duplicate {
        entity: Entity::Item,
        name: existing.to_owned(),
    }
}

/// The whole list, if it is `owner`'s.
async fn load(conn: &mut SqliteConnection, owner: &str, id: &str) -> Result<TripList> {
    let row = owned_list_row(conn, owner, id).await?;
    let items = items_of(conn, &row.id).await?;
    row.with_items(items)
}

pub(crate) async fn create(
    writer: &SqlitePool,
    owner: &str,
    title: &str,
    plan_id: Option<&str>,
) -> Result<TripList> {
    validate_owner(owner)?;
    let title = validate_title(title)?;
    let mut tx = writer.begin().await?;
    if let Some(plan_id) = plan_id {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = ?")
            .bind(plan_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(not_found(Entity::Plan, plan_id));
        }
    }
    let id = Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO trip_lists (id, owner, title, plan_id, notes, notes_saved_at, created_at, \
         version) VALUES (?, ?, ?, ?, '', NULL, ?, 1)",
    )
    .bind(&id)
    .bind(owner)
    .bind(&title)
    .bind(plan_id)
    .bind(now_rfc3339())
    .execute(&mut *tx)
    .await?;
    let list = load(&mut tx, owner, &id).await?;
    tx.commit().await?;
    Ok(list)
}

pub(crate) async fn all(readers: &SqlitePool, owner: &str) -> Result<Vec<TripList>> {
    // One read transaction: the lists and their items come from the same snapshot.
    let mut tx = readers.begin().await?;
    let rows: Vec<ListRow> = sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} FROM trip_lists WHERE owner = ? \
         ORDER BY created_at DESC, rowid DESC"
    ))
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    let items: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM list_items \
         WHERE list_id IN (SELECT id FROM trip_lists WHERE owner = ?) \
         ORDER BY list_id, position, rowid"
    ))
    .bind(owner)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut by_list: std::collections::HashMap<String, Vec<ListItem>> =
        std::collections::HashMap::new();
    for row in items {
        let list_id = row.list_id.clone();
        by_list
            .entry(list_id)
            .or_default()
            .push(ListItem::try_from(row)?);
    }
    rows.into_iter()
        .map(|row| {
            let items = by_list.remove(&row.id).unwrap_or_default();
            row.with_items(items)
        })
        .collect()
}

pub(crate) async fn one(readers: &SqlitePool, owner: &str, id: &str) -> Result<TripList> {
    let mut tx = readers.begin().await?;
    let list = load(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(list)
}

pub(crate) async fn for_plan(
    readers: &SqlitePool,
    owner: &str,
    plan_id: &str,
) -> Result<Option<TripList>> {
    let mut tx = readers.begin().await?;
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM trip_lists WHERE owner = ? AND plan_id = ? \
         ORDER BY created_at DESC, rowid DESC LIMIT 1",
    )
    .bind(owner)
    .bind(plan_id)
    .fetch_optional(&mut *tx)
    .await?;
    let list = match id {
        Some(id) => Some(load(&mut tx, owner, &id).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(list)
}

pub(crate) async fn rename(
    writer: &SqlitePool,
    owner: &str,
    id: &str,
    title: &str,
    expected_version: Option<i64>,
) -> Result<TripList> {
    let title = validate_title(title)?;
    let mut tx = writer.begin().await?;
    let row = owned_list_row(&mut tx, owner, id).await?;
    check_version(Entity::List, row.version, expected_version)?;
    sqlx::query("UPDATE trip_lists SET title = ?, version = version + 1 WHERE id = ?")
        .bind(&title)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let list = load(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(list)
}

pub(crate) async fn delete(writer: &SqlitePool, owner: &str, id: &str) -> Result<()> {
    // The items go with the list (ON DELETE CASCADE; foreign keys are on for every
    // connection).
    let done = sqlx::query("DELETE FROM trip_lists WHERE id = ? AND owner = ?")
        .bind(id)
        .bind(owner)
        .execute(writer)
        .await?;
    if done.rows_affected() == 0 {
        return Err(list_not_found(id));
    }
    Ok(())
}

pub(crate) async fn save_notes(
    writer: &SqlitePool,
    owner: &str,
    id: &str,
    notes: &str,
    expected_version: Option<i64>,
) -> Result<TripList> {
    validate_notes(notes).map_err(StoreError::Invalid)?;
    let mut tx = writer.begin().await?;
    let row = owned_list_row(&mut tx, owner, id).await?;
    check_version(Entity::List, row.version, expected_version)?;
    sqlx::query(
        "UPDATE trip_lists SET notes = ?, notes_saved_at = ?, version = version + 1 WHERE id = ?",
    )
    .bind(notes)
    .bind(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let list = load(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(list)
}

pub(crate) async fn add_item(
    writer: &SqlitePool,
    owner: &str,
    list_id: &str,
    name: &str,
    qty_home: i64,
    qty_take: i64,
) -> Result<ListItem> {
    let name = validate_item_name(name).map_err(StoreError::Invalid)?;
    let qty_home =
        validate_quantity("the quantity at home", qty_home).map_err(StoreError::Invalid)?;
    let qty_take =
        validate_quantity("the quantity to take", qty_take).map_err(StoreError::Invalid)?;
    let key = name_key(&name);
    let mut tx = writer.begin().await?;
    owned_list_row(&mut tx, owner, list_id).await?;
    if let Some(existing) = same_name(&mut tx, list_id, &key, "").await? {
        return Err(duplicate(&existing));
    }
    let position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM list_items WHERE list_id = ?",
    )
    .bind(list_id)
    .fetch_one(&mut *tx)
    .await?;
    let id = Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO list_items (id, list_id, name, name_key, qty_home, qty_take, taken, \
         position, version) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1)",
    )
    .bind(&id)
    .bind(list_id)
    .bind(&name)
    .bind(&key)
    .bind(i64::from(qty_home))
    .bind(i64::from(qty_take))
    .bind(position)
    .execute(&mut *tx)
    .await
    .map_err(unique_as_duplicate(&name))?;
    let item = ListItem::try_from(item_row(&mut tx, list_id, &id).await?)?;
    tx.commit().await?;
    Ok(item)
}

pub(crate) async fn update_item(
    writer: &SqlitePool,
    owner: &str,
    list_id: &str,
    item_id: &str,
    patch: &ItemPatch,
    expected_version: Option<i64>,
) -> Result<ListItem> {
    let name = patch
        .name
        .as_deref()
        .map(validate_item_name)
        .transpose()
        .map_err(StoreError::Invalid)?;
    let qty_home = patch
        .qty_home
        .map(|q| validate_quantity("the quantity at home", q))
        .transpose()
        .map_err(StoreError::Invalid)?;
    let qty_take = patch
        .qty_take
        .map(|q| validate_quantity("the quantity to take", q))
        .transpose()
        .map_err(StoreError::Invalid)?;

    let mut tx = writer.begin().await?;
    owned_list_row(&mut tx, owner, list_id).await?;
    let current = item_row(&mut tx, list_id, item_id).await?;
    check_version(Entity::Item, current.version, expected_version)?;
    if patch.is_empty() {
        return ListItem::try_from(current);
    }
    let name = name.unwrap_or(current.name);
    let key = name_key(&name);
    if let Some(existing) = same_name(&mut tx, list_id, &key, item_id).await? {
        return Err(duplicate(&existing));
    }
    sqlx::query(
        "UPDATE list_items SET name = ?, name_key = ?, qty_home = ?, qty_take = ?, taken = ?, \
         version = version + 1 WHERE id = ?",
    )
    .bind(&name)
    .bind(&key)
    .bind(qty_home.map_or(current.qty_home, i64::from))
    .bind(qty_take.map_or(current.qty_take, i64::from))
    .bind(patch.taken.unwrap_or(current.taken))
    .bind(item_id)
    .execute(&mut *tx)
    .await
    .map_err(unique_as_duplicate(&name))?;
    let item = ListItem::try_from(item_row(&mut tx, list_id, item_id).await?)?;
    tx.commit().await?;
    Ok(item)
}

pub(crate) async fn remove_item(
    writer: &SqlitePool,
    owner: &str,
    list_id: &str,
    item_id: &str,
) -> Result<()> {
    let mut tx = writer.begin().await?;
    owned_list_row(&mut tx, owner, list_id).await?;
    let done = sqlx::query("DELETE FROM list_items WHERE id = ? AND list_id = ?")
        .bind(item_id)
        .bind(list_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(item_not_found(item_id));
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn move_item(
    writer: &SqlitePool,
    owner: &str,
    list_id: &str,
    item_id: &str,
    to: usize,
) -> Result<TripList> {
    let mut tx = writer.begin().await?;
    owned_list_row(&mut tx, owner, list_id).await?;
    let mut order: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, position FROM list_items WHERE list_id = ? ORDER BY position, rowid",
    )
    .bind(list_id)
    .fetch_all(&mut *tx)
    .await?;
    let from = order
        .iter()
        .position(|(id, _)| id == item_id)
        .ok_or_else(|| item_not_found(item_id))?;
    let moved = order.remove(from);
    order.insert(to.min(order.len()), moved);
    for (index, (id, position)) in order.iter().enumerate() {
        let index = i64::try_from(index)
            .map_err(|_| StoreError::Corrupt(format!("list {list_id} has too many items")))?;
        if *position != index {
            sqlx::query("UPDATE list_items SET position = ?, version = version + 1 WHERE id = ?")
                .bind(index)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let list = load(&mut tx, owner, list_id).await?;
    tx.commit().await?;
    Ok(list)
}
