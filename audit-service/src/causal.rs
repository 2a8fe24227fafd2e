//! Causal order: the entries of one correlation id (one request, or one saga, across
//! services) ordered so that every event comes after the event that caused it, and otherwise
//! by time.
//!
//! An entry's parent is the entry whose event id is its causation id, when that entry is in
//! the set; an entry without one is a root (its cause is a command, or was not recorded).
//! The order is the chronological topological order: among the entries whose parent has
//! already been placed (and the roots), the earliest (timestamp, then sequence) comes next. So
//! the result reads like a timeline, but a child whose publisher's clock runs behind still
//! comes after its cause. Depth is the number of ancestors in the set. Causation cycles (only
//! possible with forged ids) are broken at their earliest entry, which becomes a root.

use chrono::{DateTime, Utc};
use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
};
use uuid::Uuid;

/// What the ordering needs to know about an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CausalNode {
    pub event_id: Uuid,
    pub causation_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub sequence: i64,
}

/// Where an entry goes: `index` into the input, at `depth` in its causal tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub index: usize,
    pub depth: u32,
    /// The index of the entry that caused it, if that entry is in the set.
    pub parent: Option<usize>,
}

/// An entry ready to be placed: earliest first (hence `Reverse` in a max-heap), with the
/// depth and parent it would be placed at.
type Candidate = (Reverse<(DateTime<Utc>, i64, usize)>, u32, Option<usize>);

/// Orders `nodes` causally (see the module documentation).
pub fn causal_order(nodes: &[CausalNode]) -> Vec<Placement> {
    let by_id: HashMap<Uuid, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.event_id, i))
        .collect();
    let parent: Vec<Option<usize>> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let cause = Uuid::parse_str(n.causation_id.as_deref()?).ok()?;
            by_id.get(&cause).copied().filter(|&p| p != i)
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (child, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(child);
        }
    }
    let key = |i: usize| Reverse((nodes[i].occurred_at, nodes[i].sequence, i));

    let mut placed = vec![false; nodes.len()];
    let mut order = Vec::with_capacity(nodes.len());
    let mut ready: BinaryHeap<Candidate> = (0..nodes.len())
        .filter(|&i| parent[i].is_none())
        .map(|i| (key(i), 0, None))
        .collect();
    loop {
        while let Some((Reverse((_, _, index)), depth, from)) = ready.pop() {
            if placed[index] {
                continue;
            }
            placed[index] = true;
            order.push(Placement {
                index,
                depth,
                parent: from,
            });
            for &child in &children[index] {
                if !placed[child] {
                    ready.push((key(child), depth + 1, Some(index)));
                }
            }
        }
        // Whatever is left sits on a causation cycle: start again from its earliest entry.
        match (0..nodes.len())
            .filter(|&i| !placed[i])
            .min_by_key(|&i| key(i).0)
        {
            Some(root) => ready.push((key(root), 0, None)),
            None => break,
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        format!("2024-05-01T10:00:{second:02}Z").parse().unwrap()
    }

    fn node(id: u128, cause: Option<u128>, second: u32, sequence: i64) -> CausalNode {
        CausalNode {
            event_id: Uuid::from_u128(id),
            causation_id: cause.map(|c| Uuid::from_u128(c).to_string()),
            occurred_at: at(second),
            sequence,
        }
    }

    /// The event ids in the order given, with their depths.
    fn ordered(nodes: &[CausalNode]) -> Vec<(u128, u32)> {
        causal_order(nodes)
            .into_iter()
            .map(|p| (nodes[p.index].event_id.as_u128(), p.depth))
            .collect()
    }

    #[test]
    fn without_causation_the_order_is_chronological() {
        let nodes = [
            node(1, None, 5, 1),
            node(2, None, 3, 2),
            node(3, None, 3, 3),
        ];
        assert_eq!(ordered(&nodes), [(2, 0), (3, 0), (1, 0)]);
    }

    #[test]
    fn a_cause_comes_before_its_effects_even_when_clocks_disagree() {
        // The notification's clock runs behind: it claims to precede its cause.
        let nodes = [
            node(3, Some(2), 1, 3), // NOTIFICATION_SENT, caused by the assignment
            node(2, Some(1), 4, 2), // COMPLAINT_ASSIGNED, caused by the creation
            node(1, None, 3, 1),    // COMPLAINT_CREATED
        ];
        assert_eq!(ordered(&nodes), [(1, 0), (2, 1), (3, 2)]);
    }

    #[test]
    fn siblings_follow_their_parent_in_time_order_interleaved_with_others() {
        let nodes = [
            node(1, None, 0, 1),
            node(2, Some(1), 2, 2),
            node(3, Some(1), 1, 3),
            node(4, None, 1, 4),
            node(5, Some(3), 5, 5),
        ];
        assert_eq!(ordered(&nodes), [(1, 0), (3, 1), (4, 0), (2, 1), (5, 2)]);
        let placements = causal_order(&nodes);
        assert_eq!(placements[4].parent, Some(2));
    }

    #[test]
    fn a_cause_outside_the_set_or_not_an_event_id_makes_a_root() {
        let mut nodes = vec![node(1, Some(99), 1, 1)];
        nodes.push(CausalNode {
            causation_id: Some("command-7".into()),
            ..node(2, None, 0, 2)
        });
        assert_eq!(ordered(&nodes), [(2, 0), (1, 0)]);
    }

    #[test]
    fn a_causation_cycle_still_places_every_entry_once() {
        let nodes = [
            node(1, Some(2), 2, 1),
            node(2, Some(1), 1, 2),
            node(3, Some(3), 0, 3), // its own cause
        ];
        assert_eq!(ordered(&nodes), [(3, 0), (2, 0), (1, 1)]);
    }
}
