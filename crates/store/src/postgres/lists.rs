//! Trip lists and their items in SQLite.
//!
//! Every method takes the caller's `owner` and treats someone else's list exactly like a
//! missing one. Writes check all their input before they touch the database and run in one
//! transaction on the writer pool; what they return is read inside that transaction, so it
//! is exactly what they committed.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Transaction};
use tracing::instrument;
use tripwright_domain::{
    ItemId, ListId, ListItem, OwnerId, PlanId, TripList, validate_item_name, validate_list_title,
    validate_notes, validate_quantity,
};

use super::{PgStore, stored_time, time_text, unique_as_duplicate, validate_owner};
use crate::{Entity, ItemPatch, ListStore, Result, StoreError};

/// The columns a [`ListRow`] is read from.
const LIST_COLUMNS: &str = "id, title, plan_id, notes, notes_saved_at, created_at, version";

/// The columns an [`ItemRow`] is read from.
const ITEM_COLUMNS: &str =
    "id, list_id, name, qty_home, qty_take, (taken <> 0) AS taken, position, version";

/// The "at home" quantity, as messages name it.
const AT_HOME: &str = "the quantity at home";
/// The "to take" quantity, as messages name it.
const TO_TAKE: &str = "the quantity to take";

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

impl ListRow {
    fn with_items(self, items: Vec<ListItem>) -> Result<TripList> {
        let created_at = stored_time(Entity::List, &self.id, "creation time", &self.created_at)?;
        let notes_saved_at = self
            .notes_saved_at
            .as_deref()
            .map(|t| stored_time(Entity::List, &self.id, "notes time", t))
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
            qty_home: qty(AT_HOME, row.qty_home)?,
            qty_take: qty(TO_TAKE, row.qty_take)?,
            id: ItemId::from(row.id),
            name: row.name,
            taken: row.taken,
            position: row.position,
            version: row.version,
        })
    }
}

fn not_found(entity: Entity, id: &str) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_owned(),
    }
}

/// The domain's title rule, as the store's error.
fn validate_title(title: &str) -> Result<String> {
    validate_list_title(title).map_err(StoreError::Invalid)
}

/// The domain's quantity rule, as the store's error.
fn quantity(what: &str, qty: i64) -> Result<u8> {
    validate_quantity(what, qty).map_err(StoreError::Invalid)
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

/// The one row that `sql` selects with `id` and then `scope` bound, or `entity` `id`
/// [`StoreError::NotFound`].
async fn row_or_not_found<T>(
    conn: &mut PgConnection,
    sql: &str,
    id: &str,
    scope: &str,
    entity: Entity,
) -> Result<T>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .bind(id)
        .bind(scope)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| not_found(entity, id))
}

/// The list row if it exists and is `owner`'s.
async fn owned_list_row(conn: &mut PgConnection, owner: &OwnerId, id: &ListId) -> Result<ListRow> {
    let sql = format!("SELECT {LIST_COLUMNS} FROM trip_lists WHERE id = $1 AND owner = $2");
    row_or_not_found(conn, &sql, id.as_str(), owner.as_str(), Entity::List).await
}

/// One item of one list, [`StoreError::NotFound`] when the list does not hold it.
async fn item_row(conn: &mut PgConnection, list_id: &ListId, item_id: &ItemId) -> Result<ItemRow> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM list_items WHERE id = $1 AND list_id = $2");
    row_or_not_found(conn, &sql, item_id.as_str(), list_id.as_str(), Entity::Item).await
}

/// The items of one list in display order.
async fn items_of(conn: &mut PgConnection, list_id: &str) -> Result<Vec<ListItem>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM list_items WHERE list_id = $1 ORDER BY position, seq"
    ))
    .bind(list_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(ListItem::try_from).collect()
}

/// [`StoreError::Duplicate`] (with the stored spelling) when another item of the list than
/// `except_item` has the name key `key`.
async fn check_unique_name(
    conn: &mut PgConnection,
    list_id: &ListId,
    key: &str,
    except_item: Option<&ItemId>,
) -> Result<()> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT name FROM list_items WHERE list_id = $1 AND name_key = $2 AND id <> $3",
    )
    .bind(list_id.as_str())
    .bind(key)
    .bind(except_item.map_or("", ItemId::as_str))
    .fetch_optional(conn)
    .await?;
    match existing {
        Some(name) => Err(StoreError::Duplicate {
            entity: Entity::Item,
            name,
        }),
        None => Ok(()),
    }
}

/// The whole list, if it is `owner`'s.
async fn load(conn: &mut PgConnection, owner: &OwnerId, id: &ListId) -> Result<TripList> {
    let row = owned_list_row(conn, owner, id).await?;
    let items = items_of(conn, &row.id).await?;
    row.with_items(items)
}

/// Reads the list in `tx`, then commits: a write returns what it committed, and a read sees
/// the list and its items from one snapshot.
async fn load_and_commit(
    mut tx: Transaction<'_, Postgres>,
    owner: &OwnerId,
    id: &ListId,
) -> Result<TripList> {
    let list = load(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(list)
}

/// Reads the item in `tx`, then commits.
async fn item_and_commit(
    mut tx: Transaction<'_, Postgres>,
    list_id: &ListId,
    item_id: &ItemId,
) -> Result<ListItem> {
    let item = ListItem::try_from(item_row(&mut tx, list_id, item_id).await?)?;
    tx.commit().await?;
    Ok(item)
}

/// A change to a list's own fields; `None` leaves a field as it is.
#[derive(Default)]
struct ListChange {
    /// A checked new title.
    title: Option<String>,
    /// Checked new notes (which also stamp `notes_saved_at`).
    notes: Option<String>,
}

impl PgStore {
    /// Applies `change` to the owner's list if it is still at `expected_version` (`None`
    /// skips the check), bumping the version; returns the list.
    async fn change_list(
        &self,
        owner: &OwnerId,
        id: &ListId,
        change: ListChange,
        expected_version: Option<i64>,
    ) -> Result<TripList> {
        let notes_saved_at = change.notes.as_ref().map(|_| time_text(Utc::now()));
        let mut tx = self.write().await?;
        let row = owned_list_row(&mut tx, owner, id).await?;
        check_version(Entity::List, row.version, expected_version)?;
        sqlx::query(
            "UPDATE trip_lists SET title = COALESCE($1, title), notes = COALESCE($2, notes), \
             notes_saved_at = COALESCE($3, notes_saved_at), version = version + 1 WHERE id = $4",
        )
        .bind(change.title)
        .bind(change.notes)
        .bind(notes_saved_at)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        load_and_commit(tx, owner, id).await
    }
}

#[async_trait]
impl ListStore for PgStore {
    #[instrument(level = "debug", skip_all)]
    async fn create_list(
        &self,
        owner: &OwnerId,
        title: &str,
        plan_id: Option<&PlanId>,
    ) -> Result<TripList> {
        validate_owner(owner)?;
        let title = validate_title(title)?;
        let mut tx = self.write().await?;
        if let Some(plan_id) = plan_id {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1::BIGINT FROM plans WHERE id = $1 AND purge_at IS NULL",
            )
            .bind(plan_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                return Err(not_found(Entity::Plan, plan_id.as_str()));
            }
        }
        let id = ListId::random();
        sqlx::query(
            "INSERT INTO trip_lists (id, owner, title, plan_id, notes, notes_saved_at, \
             created_at, version) VALUES ($1, $2, $3, $4, '', NULL, $5, 1)",
        )
        .bind(id.as_str())
        .bind(owner.as_str())
        .bind(&title)
        .bind(plan_id.map(PlanId::as_str))
        .bind(time_text(Utc::now()))
        .execute(&mut *tx)
        .await?;
        load_and_commit(tx, owner, &id).await
    }

    async fn lists(&self, owner: &OwnerId) -> Result<Vec<TripList>> {
        // One read transaction: the lists and their items come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let rows: Vec<ListRow> = sqlx::query_as(&format!(
            "SELECT {LIST_COLUMNS} FROM trip_lists WHERE owner = $1 \
             ORDER BY created_at DESC, seq DESC"
        ))
        .bind(owner.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let items: Vec<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM list_items \
             WHERE list_id IN (SELECT id FROM trip_lists WHERE owner = $1) \
             ORDER BY list_id, position, seq"
        ))
        .bind(owner.as_str())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut by_list: HashMap<String, Vec<ListItem>> = HashMap::new();
        for row in items {
            by_list
                .entry(row.list_id.clone())
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

    async fn list(&self, owner: &OwnerId, id: &ListId) -> Result<TripList> {
        load_and_commit(self.pool.begin().await?, owner, id).await
    }

    async fn list_for_plan(&self, owner: &OwnerId, plan_id: &PlanId) -> Result<Option<TripList>> {
        let mut tx = self.pool.begin().await?;
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM trip_lists WHERE owner = $1 AND plan_id = $2 \
             ORDER BY created_at DESC, seq DESC LIMIT 1",
        )
        .bind(owner.as_str())
        .bind(plan_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match id {
            Some(id) => Ok(Some(load_and_commit(tx, owner, &ListId::from(id)).await?)),
            None => Ok(None),
        }
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn rename_list(
        &self,
        owner: &OwnerId,
        id: &ListId,
        title: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList> {
        let change = ListChange {
            title: Some(validate_title(title)?),
            ..ListChange::default()
        };
        self.change_list(owner, id, change, expected_version).await
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn delete_list(&self, owner: &OwnerId, id: &ListId) -> Result<()> {
        // The items go with the list (ON DELETE CASCADE; foreign keys are on for every
        // connection).
        let done = sqlx::query("DELETE FROM trip_lists WHERE id = $1 AND owner = $2")
            .bind(id.as_str())
            .bind(owner.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(Entity::List, id.as_str()));
        }
        Ok(())
    }

    #[instrument(level = "debug", skip_all, fields(id = %id))]
    async fn save_notes(
        &self,
        owner: &OwnerId,
        id: &ListId,
        notes: &str,
        expected_version: Option<i64>,
    ) -> Result<TripList> {
        validate_notes(notes).map_err(StoreError::Invalid)?;
        let change = ListChange {
            notes: Some(notes.to_owned()),
            ..ListChange::default()
        };
        self.change_list(owner, id, change, expected_version).await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id))]
    async fn add_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        name: &str,
        qty_home: i64,
        qty_take: i64,
    ) -> Result<ListItem> {
        let name = validate_item_name(name).map_err(StoreError::Invalid)?;
        let qty_home = quantity(AT_HOME, qty_home)?;
        let qty_take = quantity(TO_TAKE, qty_take)?;
        let key = name_key(&name);
        let mut tx = self.write().await?;
        owned_list_row(&mut tx, owner, list_id).await?;
        check_unique_name(&mut tx, list_id, &key, None).await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM list_items WHERE list_id = $1",
        )
        .bind(list_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id = ItemId::random();
        sqlx::query(
            "INSERT INTO list_items (id, list_id, name, name_key, qty_home, qty_take, taken, \
             position, version) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 1)",
        )
        .bind(id.as_str())
        .bind(list_id.as_str())
        .bind(&name)
        .bind(&key)
        .bind(i64::from(qty_home))
        .bind(i64::from(qty_take))
        .bind(position)
        .execute(&mut *tx)
        .await
        // The check above makes this unlikely; the unique index is what guarantees it.
        .map_err(unique_as_duplicate(Entity::Item, &name))?;
        item_and_commit(tx, list_id, &id).await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id))]
    async fn update_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        patch: &ItemPatch,
        expected_version: Option<i64>,
    ) -> Result<ListItem> {
        let name = patch
            .name
            .as_deref()
            .map(validate_item_name)
            .transpose()
            .map_err(StoreError::Invalid)?;
        let qty_home = patch.qty_home.map(|q| quantity(AT_HOME, q)).transpose()?;
        let qty_take = patch.qty_take.map(|q| quantity(TO_TAKE, q)).transpose()?;

        let mut tx = self.write().await?;
        owned_list_row(&mut tx, owner, list_id).await?;
        let current = item_row(&mut tx, list_id, item_id).await?;
        check_version(Entity::Item, current.version, expected_version)?;
        if patch.is_empty() {
            return ListItem::try_from(current);
        }
        let name = name.unwrap_or(current.name);
        let key = name_key(&name);
        check_unique_name(&mut tx, list_id, &key, Some(item_id)).await?;
        sqlx::query(
            "UPDATE list_items SET name = $1, name_key = $2, qty_home = $3, qty_take = $4, taken = $5, \
             version = version + 1 WHERE id = $6",
        )
        .bind(&name)
        .bind(&key)
        .bind(qty_home.map_or(current.qty_home, i64::from))
        .bind(qty_take.map_or(current.qty_take, i64::from))
        .bind(i64::from(patch.taken.unwrap_or(current.taken)))
        .bind(item_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(unique_as_duplicate(Entity::Item, &name))?;
        item_and_commit(tx, list_id, item_id).await
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id))]
    async fn remove_item(&self, owner: &OwnerId, list_id: &ListId, item_id: &ItemId) -> Result<()> {
        let mut tx = self.write().await?;
        owned_list_row(&mut tx, owner, list_id).await?;
        let done = sqlx::query("DELETE FROM list_items WHERE id = $1 AND list_id = $2")
            .bind(item_id.as_str())
            .bind(list_id.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(Entity::Item, item_id.as_str()));
        }
        tx.commit().await?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all, fields(list_id = %list_id, item_id = %item_id, to = to))]
    async fn move_item(
        &self,
        owner: &OwnerId,
        list_id: &ListId,
        item_id: &ItemId,
        to: usize,
    ) -> Result<TripList> {
        let mut tx = self.write().await?;
        owned_list_row(&mut tx, owner, list_id).await?;
        let mut order: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, position FROM list_items WHERE list_id = $1 ORDER BY position, seq",
        )
        .bind(list_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let from = order
            .iter()
            .position(|(id, _)| id == item_id.as_str())
            .ok_or_else(|| not_found(Entity::Item, item_id.as_str()))?;
        let moved = order.remove(from);
        order.insert(to.min(order.len()), moved);
        for (index, (id, position)) in order.iter().enumerate() {
            let index = i64::try_from(index)
                .map_err(|_| StoreError::Corrupt(format!("list {list_id} has too many items")))?;
            if *position != index {
                sqlx::query(
                    "UPDATE list_items SET position = $1, version = version + 1 WHERE id = $2",
                )
                .bind(index)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        load_and_commit(tx, owner, list_id).await
    }
}
