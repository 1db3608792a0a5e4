"""Deterministic, seeded train/valid/test splits of user–item interactions.

Protocols (``InteractionSplit.protocol``):

- ``random``: per user, a seeded shuffle, then 80/10/10 with RecBole's rounding rule
  (``int(ratio * n)`` for valid and test; while train keeps more than one interaction, a part
  whose exact share is in (0, 1) gets one interaction). So a user with 1 interaction keeps it in
  train, a user with 2 gives 1 to test, 3+ give at least 1 each to valid and test.
- ``temporal``: the same counts per user, but ordered by timestamp (oldest to train, newest
  to test); ties and missing timestamps are broken by the seeded shuffle.
- ``global_temporal``: one global timestamp cut for everyone: the oldest 80% of all
  interactions train, the next 10% validate, the newest 10% test (ties at a cut broken by the
  seeded shuffle). Validation and test keep only users with a training interaction (no model
  here represents a user it has never seen); items first seen after the cut are cold
  (``cold_items``). Needs timestamps.
- ``cold``: a seeded 10% of the interacted items become *cold*: every interaction with them
  leaves training; users are split in two seeded halves whose cold interactions go to valid
  and test respectively. The remaining interactions are split as ``random``.

Repeated (user, item) pairs are collapsed to one (the latest) before splitting, so the three
parts are disjoint as pairs. Training graphs must be built from ``train`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tailgraph.errors import ConfigurationError

PROTOCOLS = ("random", "temporal", "cold", "global_temporal")


@dataclass
class InteractionSplit:
    """Train/valid/test pairs as (n, 2) int64 arrays of [user_idx, item_idx]."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    n_users: int
    n_items: int
    cold_items: np.ndarray  # item indices withheld from training (empty unless protocol "cold")
    protocol: str
    seed: int = 0

    def item_popularity(self) -> np.ndarray:
        """Training interactions per item, shape (n_items,)."""
        return np.bincount(self.train[:, 1], minlength=self.n_items).astype(np.int64)

    def user_degree(self) -> np.ndarray:
        """Training interactions per user, shape (n_users,)."""
        return np.bincount(self.train[:, 0], minlength=self.n_users).astype(np.int64)

    def summary(self) -> dict[str, int | str]:
        return {
            "protocol": self.protocol,
            "train": len(self.train),
            "valid": len(self.valid),
            "test": len(self.test),
            "cold_items": len(self.cold_items),
        }


def split_interactions(
    user: np.ndarray,
    item: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    protocol: str = "random",
    ts: np.ndarray | None = None,
    seed: int = 0,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    cold_fraction: float = 0.1,
) -> InteractionSplit:
    """Split interaction arrays with one of :data:`PROTOCOLS`."""
    check_protocol(protocol)
    user, item, ts = _dedupe(np.asarray(user), np.asarray(item), ts)
    rng = np.random.default_rng(seed)
    if protocol == "cold":
        return _cold_split(user, item, n_users, n_items, rng, ratios, cold_fraction, seed)
    if protocol == "global_temporal":
        return _global_temporal_split(user, item, ts, n_users, n_items, rng, ratios, seed)
    order_key = ts if protocol == "temporal" else None
    train, valid, test = _per_user_split(user, item, rng, ratios, order_key)
    return InteractionSplit(
        train, valid, test, n_users, n_items, np.zeros(0, np.int64), protocol, seed
    )


def check_protocol(protocol: str) -> str:
    """``protocol`` if it is one of :data:`PROTOCOLS`; ConfigurationError naming them otherwise."""
    if protocol not in PROTOCOLS:
        raise ConfigurationError(f"unknown split protocol {protocol!r}; choose from {PROTOCOLS}")
    return protocol


def sparse_users(split: InteractionSplit, max_train: int = 5) -> np.ndarray:
    """Users with at most ``max_train`` training interactions (sorted indices)."""
    return np.flatnonzero(split.user_degree() <= max_train).astype(np.int64)


def _dedupe(
    user: np.ndarray, item: np.ndarray, ts: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One row per (user, item): the latest by timestamp (or the last seen)."""
    ts_arr = None if ts is None else np.nan_to_num(np.asarray(ts, np.float64), nan=-np.inf)
    key = user.astype(np.int64) * (int(item.max(initial=0)) + 1) + item
    order = np.lexsort((ts_arr, key)) if ts_arr is not None else np.argsort(key, kind="stable")
    key_sorted = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key_sorted[1:] != key_sorted[:-1]
    keep = order[last]
    return (
        user[keep].astype(np.int64),
        item[keep].astype(np.int64),
        None if ts_arr is None else ts_arr[keep],
    )


def _part_counts(n: np.ndarray, ratios: tuple[float, float, float]) -> np.ndarray:
    """Per-user (train, valid, test) counts with RecBole's ``_calcu_split_ids`` rule."""
    counts = np.stack([np.floor(r * n).astype(np.int64) for r in ratios], axis=1)
    counts[:, 0] = n - counts[:, 1] - counts[:, 2]
    for part in (2, 1):  # RecBole walks the parts from the last one
        exact = ratios[part] * n
        bump = (counts[:, 0] > 1) & (exact > 0) & (exact < 1)
        counts[bump, part] += 1
        counts[bump, 0] -= 1
    return counts


def _per_user_split(
    user: np.ndarray,
    item: np.ndarray,
    rng: np.random.Generator,
    ratios: tuple[float, float, float],
    order_key: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shuffle = rng.random(len(user))
    keys = (shuffle, user) if order_key is None else (shuffle, order_key, user)
    order = np.lexsort(keys)
    u, i = user[order], item[order]
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]]) if len(u) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(u)])
    counts = _part_counts(sizes, ratios)
    position = np.arange(len(u)) - np.repeat(starts, sizes)
    train_end = np.repeat(counts[:, 0], sizes)
    valid_end = train_end + np.repeat(counts[:, 1], sizes)
    pairs = np.stack([u, i], axis=1).astype(np.int64)
    parts = (
        position < train_end,
        (position >= train_end) & (position < valid_end),
        position >= valid_end,
    )
    return tuple(_sorted_pairs(pairs[mask]) for mask in parts)  # type: ignore[return-value]


def _cold_split(
    user: np.ndarray,
    item: np.ndarray,
    n_users: int,
    n_items: int,
    rng: np.random.Generator,
    ratios: tuple[float, float, float],
    cold_fraction: float,
    seed: int,
) -> InteractionSplit:
    interacted = np.unique(item)
    n_cold = int(round(cold_fraction * len(interacted)))
    cold = np.sort(rng.choice(interacted, size=n_cold, replace=False)).astype(np.int64)
    is_cold = np.isin(item, cold)
    train, valid, test = _per_user_split(user[~is_cold], item[~is_cold], rng, ratios, None)
    to_valid_user = rng.random(n_users) < 0.5
    cold_pairs = np.stack([user[is_cold], item[is_cold]], axis=1).astype(np.int64)
    to_valid = to_valid_user[cold_pairs[:, 0]]
    valid = _sorted_pairs(np.concatenate([valid, cold_pairs[to_valid]]))
    test = _sorted_pairs(np.concatenate([test, cold_pairs[~to_valid]]))
    return InteractionSplit(train, valid, test, n_users, n_items, cold, "cold", seed)


def _global_temporal_split(
    user: np.ndarray,
    item: np.ndarray,
    ts: np.ndarray | None,
    n_users: int,
    n_items: int,
    rng: np.random.Generator,
    ratios: tuple[float, float, float],
    seed: int,
) -> InteractionSplit:
    if ts is None or not np.isfinite(ts).any():
        raise ConfigurationError("protocol 'global_temporal' needs interaction timestamps")
    order = np.lexsort((rng.random(len(user)), ts))  # oldest first, ties shuffled
    n_train = int(round(ratios[0] * len(order)))
    n_valid = int(round(ratios[1] * len(order)))
    pairs = np.stack([user, item], axis=1).astype(np.int64)[order]
    train = pairs[:n_train]
    known = np.zeros(n_users, dtype=bool)
    known[train[:, 0]] = True
    later = pairs[n_train:]
    later = later[known[later[:, 0]]]
    # the cut between valid and test is a position in time, before unknown users are dropped
    position = np.arange(n_train, len(pairs))[known[pairs[n_train:, 0]]]
    in_valid = position < n_train + n_valid
    valid, test = later[in_valid], later[~in_valid]
    warm = np.zeros(n_items, dtype=bool)
    warm[train[:, 1]] = True
    cold = np.setdiff1d(np.unique(later[:, 1]), np.flatnonzero(warm)).astype(np.int64)
    return InteractionSplit(
        _sorted_pairs(train),
        _sorted_pairs(valid),
        _sorted_pairs(test),
        n_users,
        n_items,
        cold,
        "global_temporal",
        seed,
    )


def _sorted_pairs(pairs: np.ndarray) -> np.ndarray:
    pairs = pairs.reshape(-1, 2).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
