//! Many requests at once, as attacks and bursts send them.

use std::future::Future;

use futures_util::StreamExt;

/// Runs `futures` with at most `in_flight` of them at a time; their outputs,
/// in the order they finish.
pub async fn at_most<F: Future>(
    in_flight: usize,
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    futures_util::stream::iter(futures)
        .buffer_unordered(in_flight)
        .collect()
        .await
}
