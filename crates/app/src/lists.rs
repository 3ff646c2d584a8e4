//! Trip lists: what to pack or buy, with quantities "at home" and "to take", a "taken" tick,
//! notes, and items suggested from a plan.
//!
//! Every input is checked here, once, by the domain's rules, before the store is asked; the
//! store checks again (it is the last line) but front ends get their refusals from here, as
//! [`AppError::Invalid`] with a hint. Lists are their owner's only: anyone else's id is
//! [`AppError::NotFound`].

use std::sync::Arc;

use tripwright_agents::packing::suggest_items;
use tripwright_domain::{
    ItemId, ListId, ListItem, MAX_ITEM_NAME_CHARS, MAX_LIST_TITLE_CHARS, MAX_QUANTITY, OwnerId,
    Plan, PlanId, TripList, validate_item_name, validate_list_title, validate_notes,
    validate_quantity,
};
use tripwright_store::{ItemPatch, ListStore, PlanStore};

use crate::planning::Planner;
use crate::{AppError, Changed, Invalid, Quota};

/// The title of a list made without one.
pub const DEFAULT_LIST_TITLE: &str = "Trip list";

/// A new item: the name and the quantities as given (checked here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    /// Name, 1..=80 characters, not already on the list.
    pub name: String,
    /// How many are at home, 0..=12.
    pub qty_home: i64,
    /// How many to take, 0..=12.
    pub qty_take: i64,
}

/// A change of one item: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChange {
    /// New name.
    pub name: Option<String>,
    /// New "at home" quantity.
    pub qty_home: Option<i64>,
    /// New "to take" quantity.
    pub qty_take: Option<i64>,
    /// New "taken" tick.
    pub taken: Option<bool>,
}

/// Where an item moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// To this 0-based index (clamped to the last).
    To(usize),
    /// One place up.
    Up,
    /// One place down.
    Down,
}

/// An item suggested for a plan's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The item's name.
    pub name: String,
    /// How many to take.
    pub qty: u8,
    /// Why it is suggested, e.g. "mean −5 °C in January".
    pub reason: String,
    /// The rule that made it (see docs/trip-list.md).
    pub rule: &'static str,
    /// Whether the list already has an item of this name.
    pub on_list: bool,
}

/// A plan's suggestions and its list, if it has one.
#[derive(Debug, Clone)]
pub struct PlanSuggestions {
    /// The plan.
    pub plan: Arc<Plan>,
    /// Its list.
    pub list: Option<TripList>,
    /// The suggested items, weather first.
    pub suggestions: Vec<Suggestion>,
}

/// The trip-list use cases.
#[derive(Clone)]
pub struct TripLists {
    lists: Arc<dyn ListStore>,
    plans: Arc<dyn PlanStore>,
    planner: Planner,
    quotas: ListQuotas,
}

/// How much one user may keep (0: no limit). Checked before a write, so requests racing
/// each other may pass a limit by a few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuotas {
    /// Lists per owner.
    pub lists_per_user: u32,
    /// Items per list.
    pub items_per_list: u32,
}

impl Default for ListQuotas {
    fn default() -> Self {
        Self {
            lists_per_user: 100,
            items_per_list: 500,
        }
    }
}

impl std::fmt::Debug for TripLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TripLists").finish_non_exhaustive()
    }
}

fn check_name(name: &str) -> Result<String, AppError> {
    validate_item_name(name).map_err(|m| {
        AppError::invalid(
            Invalid::ItemName,
            m,
            Some(format!(
                "give the item a name of 1 to {MAX_ITEM_NAME_CHARS} characters"
            )),
        )
    })
}

fn check_qty(what: &str, qty: i64) -> Result<i64, AppError> {
    validate_quantity(what, qty).map(i64::from).map_err(|m| {
        AppError::invalid(
            Invalid::Quantity,
            m,
            Some(format!("use a whole number from 0 to {MAX_QUANTITY}")),
        )
    })
}

fn check_title(title: &str) -> Result<String, AppError> {
    validate_list_title(title).map_err(|m| {
        AppError::invalid(
            Invalid::ListTitle,
            m,
            Some(format!(
                "give the list a title of 1 to {MAX_LIST_TITLE_CHARS} characters"
            )),
        )
    })
}

fn check_notes(notes: &str) -> Result<(), AppError> {
    validate_notes(notes).map_err(|m| {
        AppError::invalid(
            Invalid::Notes,
            m,
            Some("shorten the notes, or split them over several lists".into()),
        )
    })
}

/// The default title of a plan's list: "Trip list — Helsinki".
fn plan_list_title(plan: &Plan) -> String {
    let t = format!("{DEFAULT_LIST_TITLE} — {}", plan.destination.name);
    if t.chars().count() > MAX_LIST_TITLE_CHARS {
        DEFAULT_LIST_TITLE.to_owned()
    } else {
        t
    }
}

/// The packing suggestions of `plan`, each marked when `list` already has it.
pub fn suggestions_for(plan: &Plan, list: Option<&TripList>) -> Vec<Suggestion> {
    suggest_items(plan)
        .into_iter()
        .map(|s| Suggestion {
            on_list: list.is_some_and(|l| {
                l.items
                    .iter()
                    .any(|i| tripwright_agents::packing::same_thing(&i.name, &s.name))
            }),
            name: s.name,
            qty: s.qty,
            reason: s.reason,
            rule: s.rule,
        })
        .collect()
}

impl TripLists {
    /// The use cases over the store (and the planner, which knows plans still being made).
    pub(crate) fn new(
        lists: Arc<dyn ListStore>,
        plans: Arc<dyn PlanStore>,
        planner: Planner,
        quotas: ListQuotas,
    ) -> Self {
        Self {
            lists,
            plans,
            planner,
            quotas,
        }
    }

    /// [`AppError::Quota`] when `owner` has as many lists as allowed.
    async fn room_for_a_list(&self, owner: &OwnerId) -> Result<(), AppError> {
        let limit = self.quotas.lists_per_user;
        if limit > 0 && self.lists.lists(owner).await?.len() >= limit as usize {
            return Err(AppError::Quota(Quota::Lists(limit)));
        }
        Ok(())
    }

    /// The owner's lists, newest first, with their items.
    pub async fn all(&self, owner: &OwnerId) -> Result<Vec<TripList>, AppError> {
        Ok(self.lists.lists(owner).await?)
    }

    /// Makes an empty list (the title checked).
    pub async fn create(&self, owner: &OwnerId, title: &str) -> Result<TripList, AppError> {
        let title = check_title(title)?;
        self.room_for_a_list(owner).await?;
        self.lists
            .create_list(owner, &title, None)
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))
    }

    /// The list of `owner`'s plan `plan_id`, made (with `title`, else "Trip list — City")
    /// when it has none. Returns it and whether it was made now. A plan still being made is
    /// [`AppError::PlanNotDone`].
    pub async fn open_for_plan(
        &self,
        owner: &OwnerId,
        plan_id: &PlanId,
        title: Option<&str>,
    ) -> Result<(TripList, bool), AppError> {
        let plan = self.planner.finished(owner, plan_id).await?;
        if let Some(list) = self.lists.list_for_plan(owner, plan_id).await? {
            return Ok((list, false));
        }
        let title = match title {
            Some(t) => check_title(t)?,
            None => plan_list_title(&plan),
        };
        self.room_for_a_list(owner).await?;
        let list = self
            .lists
            .create_list(owner, &title, Some(plan_id))
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))?;
        Ok((list, true))
    }

    /// One of the owner's lists.
    pub async fn get(&self, owner: &OwnerId, id: &ListId) -> Result<TripList, AppError> {
        self.lists
            .list(owner, id)
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))
    }

    /// One of the owner's lists with the saved plan it belongs to (if any, and still there).
    pub async fn with_plan(
        &self,
        owner: &OwnerId,
        id: &ListId,
    ) -> Result<(TripList, Option<Plan>), AppError> {
        let list = self.get(owner, id).await?;
        let plan = match &list.plan_id {
            // The list page still shows when its plan cannot be read.
            Some(pid) => self.plans.plan(pid).await.ok().flatten(),
            None => None,
        };
        Ok((list, plan))
    }

    /// Renames a list; `version` is the list version the client saw.
    pub async fn rename(
        &self,
        owner: &OwnerId,
        id: &ListId,
        title: &str,
        version: Option<i64>,
    ) -> Result<TripList, AppError> {
        let title = check_title(title)?;
        self.lists
            .rename_list(owner, id, &title, version)
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))
    }

    /// Deletes a list and its items.
    pub async fn delete(&self, owner: &OwnerId, id: &ListId) -> Result<(), AppError> {
        self.lists
            .delete_list(owner, id)
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))
    }

    /// Adds an item at the end of a list.
    pub async fn add_item(
        &self,
        owner: &OwnerId,
        id: &ListId,
        item: NewItem,
    ) -> Result<ListItem, AppError> {
        let name = check_name(&item.name)?;
        let home = check_qty("the quantity at home", item.qty_home)?;
        let take = check_qty("the quantity to take", item.qty_take)?;
        let limit = self.quotas.items_per_list;
        if limit > 0 && self.get(owner, id).await?.items.len() >= limit as usize {
            return Err(AppError::Quota(Quota::Items(limit)));
        }
        self.lists
            .add_item(owner, id, &name, home, take)
            .await
            .map_err(|e| AppError::from_store(e, Changed::List))
    }

    /// Changes the given fields of one item; `version` is the item version the client saw.
    pub async fn change_item(
        &self,
        owner: &OwnerId,
        id: &ListId,
        item: &ItemId,
        change: ItemChange,
        version: Option<i64>,
    ) -> Result<ListItem, AppError> {
        let patch = ItemPatch {
            name: change.name.as_deref().map(check_name).transpose()?,
            qty_home: change
                .qty_home
                .map(|q| check_qty("the quantity at home", q))
                .transpose()?,
            qty_take: change
                .qty_take
                .map(|q| check_qty("the quantity to take", q))
                .transpose()?,
            taken: change.taken,
        };
        self.lists
            .update_item(owner, id, item, &patch, version)
            .await
            .map_err(|e| AppError::from_store(e, Changed::Item))
    }

    /// Removes one item.
    pub async fn remove_item(
        &self,
        owner: &OwnerId,
        id: &ListId,
        item: &ItemId,
    ) -> Result<(), AppError> {
        self.lists
            .remove_item(owner, id, item)
            .await
            .map_err(|e| AppError::from_store(e, Changed::Item))
    }

    /// Moves an item; returns the list in its new order.
    pub async fn move_item(
        &self,
        owner: &OwnerId,
        id: &ListId,
        item: &ItemId,
        to: Move,
    ) -> Result<TripList, AppError> {
        let to = match to {
            Move::To(i) => i,
            Move::Up | Move::Down => {
                let list = self.get(owner, id).await?;
                let at = list
                    .items
                    .iter()
                    .position(|i| i.id == *item)
                    .ok_or(AppError::NotFound(crate::Missing::Item))?;
                if to == Move::Up {
                    at.saturating_sub(1)
                } else {
                    at + 1
                }
            }
        };
        self.lists
            .move_item(owner, id, item, to)
            .await
            .map_err(|e| AppError::from_store(e, Changed::Item))
    }

    /// Saves a list's notes; `version` is the list version the client saw.
    pub async fn save_notes(
        &self,
        owner: &OwnerId,
        id: &ListId,
        notes: &str,
        version: Option<i64>,
    ) -> Result<TripList, AppError> {
        check_notes(notes)?;
        self.lists
            .save_notes(owner, id, notes, version)
            .await
            .map_err(|e| AppError::from_store(e, Changed::Notes))
    }

    /// Items to pack for one of the owner's finished plans, with its list if it has one.
    pub async fn suggestions(
        &self,
        owner: &OwnerId,
        plan_id: &PlanId,
    ) -> Result<PlanSuggestions, AppError> {
        let plan = self.planner.finished(owner, plan_id).await?;
        let list = self.lists.list_for_plan(owner, plan_id).await?;
        Ok(PlanSuggestions {
            suggestions: suggestions_for(&plan, list.as_ref()),
            plan,
            list,
        })
    }
}
