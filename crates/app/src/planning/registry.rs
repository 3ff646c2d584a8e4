//! The jobs in memory: running ones (bounded by a semaphore) and recently finished ones (kept
//! a while so their pages and streams answer without a store round trip), plus the plan
//! cache that answers an identical request made the same day.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tripwright_domain::{Plan, PlanId, TripRequest};

use super::job::PlanJob;
use crate::AppError;

/// A supervisor at work, counted until dropped.
pub(crate) struct Supervising(Arc<AtomicUsize>);

impl Drop for Supervising {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The registry of jobs.
pub(crate) struct Jobs {
    map: Mutex<HashMap<PlanId, Arc<PlanJob>>>,
    permits: Arc<Semaphore>,
    supervisors: Arc<AtomicUsize>,
    ttl: Duration,
    max_jobs: usize,
}

impl Jobs {
    /// A registry running at most `max_running` jobs at once, keeping at most `max_jobs`
    /// and dropping finished ones after `ttl`.
    pub(crate) fn new(max_running: usize, max_jobs: usize, ttl: Duration) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            permits: Arc::new(Semaphore::new(max_running.max(1))),
            supervisors: Arc::new(AtomicUsize::new(0)),
            ttl,
            max_jobs: max_jobs.max(1),
        }
    }

    fn map(&self) -> MutexGuard<'_, HashMap<PlanId, Arc<PlanJob>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for one more running job, or [`AppError::Busy`].
    pub(crate) fn permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| AppError::Busy)
    }

    /// Counts a supervisor until the guard is dropped ([`Jobs::all_idle`] waits for it).
    pub(crate) fn supervising(&self) -> Supervising {
        self.supervisors.fetch_add(1, Ordering::SeqCst);
        Supervising(Arc::clone(&self.supervisors))
    }

    /// Waits until every supervisor has ended: each plan is ended or handed back in the
    /// store.
    pub(crate) async fn all_idle(&self) {
        while self.supervisors.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The job of plan `id`, if it is (still) registered.
    pub(crate) fn get(&self, id: &PlanId) -> Option<Arc<PlanJob>> {
        self.map().get(id).cloned()
    }

    /// Registers a job, first dropping finished jobs past their time, then (when still
    /// full) the oldest finished ones. [`AppError::Busy`] when every slot holds a running
    /// job (running jobs end by their deadline, so this cannot last).
    pub(crate) fn insert(&self, job: Arc<PlanJob>) -> Result<(), AppError> {
        self.insert_into(&mut self.map(), job)
    }

    fn insert_into(
        &self,
        map: &mut HashMap<PlanId, Arc<PlanJob>>,
        job: Arc<PlanJob>,
    ) -> Result<(), AppError> {
        let now = Instant::now();
        map.retain(|_, j| {
            j.finished_at()
                .is_none_or(|t| now.duration_since(t) < self.ttl)
        });
        while map.len() >= self.max_jobs {
            let oldest = map
                .iter()
                .filter_map(|(id, j)| j.finished_at().map(|t| (t, id.clone())))
                .min();
            match oldest {
                Some((_, id)) => {
                    map.remove(&id);
                }
                None => return Err(AppError::Busy),
            }
        }
        map.insert(job.id.clone(), job);
        Ok(())
    }

    /// Registers `job` unless a job of its plan is registered already (then that one is
    /// returned, and `job` is not kept): a follower made while this replica claimed the plan
    /// never replaces the job that makes it.
    pub(crate) fn insert_unless_known(&self, job: Arc<PlanJob>) -> Arc<PlanJob> {
        let mut map = self.map();
        if let Some(known) = map.get(&job.id) {
            return Arc::clone(known);
        }
        // Not kept when every slot holds a running plan: it is still followed.
        let _ = self.insert_into(&mut map, Arc::clone(&job));
        job
    }

    /// Forgets the job of plan `id` (a deleted plan is not opened from memory).
    pub(crate) fn remove(&self, id: &PlanId) {
        self.map().remove(id);
    }

    /// The jobs still running.
    pub(crate) fn running(&self) -> Vec<Arc<PlanJob>> {
        self.map()
            .values()
            .filter(|j| j.finished_at().is_none())
            .cloned()
            .collect()
    }

    /// How many jobs are registered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }
}

/// Recently made plans by request and day: an identical request on the same day is answered
/// with a copy (new id, new time), without running the agents again.
pub(crate) struct PlanCache {
    entries: Mutex<VecDeque<(String, Plan)>>,
    capacity: usize,
}

impl PlanCache {
    /// A cache of at most `capacity` plans (0 turns it off).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// The cache key: the request's canonical JSON (fields in declaration order, defaults
    /// filled in) and the day.
    pub(crate) fn key(request: &TripRequest, today: NaiveDate) -> String {
        let json = serde_json::to_string(request).unwrap_or_default();
        format!("{today}|{json}")
    }

    fn entries(&self) -> MutexGuard<'_, VecDeque<(String, Plan)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached plan for `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Plan> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
    }

    /// Remembers `plan` under `key`, forgetting the oldest entry when full.
    pub(crate) fn put(&self, key: String, plan: Plan) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries();
        entries.retain(|(k, _)| *k != key);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((key, plan));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::job::tests::job;

    #[test]
    fn the_registry_drops_finished_jobs_first_and_refuses_when_all_run() {
        let jobs = Jobs::new(2, 2, Duration::from_secs(600));
        let a = job("id-1");
        let b = job("id-2");
        let c = job("id-3");
        jobs.insert(Arc::clone(&a)).expect("room");
        jobs.insert(Arc::clone(&b)).expect("room");
        assert!(matches!(
            jobs.insert(Arc::clone(&c)).expect_err("full"),
            AppError::Busy
        ));
        a.fail("x".into());
        jobs.insert(c).expect("the finished job makes room");
        assert!(jobs.get(&PlanId::new("id-1")).is_none());
        assert!(jobs.get(&PlanId::new("id-3")).is_some());
        assert_eq!(jobs.len(), 2);
        let p1 = jobs.permit().expect("one");
        let _p2 = jobs.permit().expect("two");
        assert!(matches!(jobs.permit().expect_err("three"), AppError::Busy));
        drop(p1);
        assert!(jobs.permit().is_ok());
    }

    #[test]
    fn cache_keys_depend_on_the_request_and_the_day() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 6).expect("date");
        let next = NaiveDate::from_ymd_opt(2026, 6, 7).expect("date");
        let a = TripRequest::new("Helsinki");
        let mut b = a.clone();
        b.days = 3;
        assert_eq!(PlanCache::key(&a, day), PlanCache::key(&a.clone(), day));
        assert_ne!(PlanCache::key(&a, day), PlanCache::key(&b, day));
        assert_ne!(PlanCache::key(&a, day), PlanCache::key(&a, next));
    }
}
