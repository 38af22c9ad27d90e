//! Grid cells in parallel: `--jobs` worker threads take cells from a shared counter.
//!
//! Each worker builds its own compute device inside the work function (dfdx devices are not
//! shared across threads). The first error stops the hand-out of further cells; cells already
//! running finish, so their stages stay cached for the next attempt.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Result;

/// Applies `work` to every item on up to `jobs` threads and returns the results in item order,
/// or the first error.
pub fn map<I, T, F>(jobs: usize, items: &[I], work: F) -> Result<Vec<T>>
where
    I: Sync,
    T: Send,
    F: Fn(&I) -> Result<T> + Sync,
{
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<T>>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = work(item);
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                results.lock().expect("results lock")[i] = Some(result);
            });
        }
    });
    let mut out = Vec::with_capacity(items.len());
    // A cell left unstarted after a failure has no result; the failure is returned instead.
    for result in results.into_inner().expect("results lock").into_iter().flatten() {
        out.push(result?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_item_order_and_errors_surface() {
        let items: Vec<u64> = (0..50).collect();
        let squares = map(3, &items, |&x| Ok(x * x)).unwrap();
        assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        let err = map(2, &items, |&x| if x == 7 { anyhow::bail!("cell {x}") } else { Ok(x) })
            .unwrap_err();
        assert_eq!(err.to_string(), "cell 7");
    }
}
