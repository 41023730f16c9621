"""The Settings page's view of where model work runs: the Dask cluster's workers, memory and tasks, in words."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.app import member_fragment
from components.markup import plain
from core.cluster import ClusterHealth
from core.words import counted

MIB = 1024 * 1024
REFRESH_S = 5  # the panel reruns on its own this often; the cluster itself is probed at most every 10 s


@member_fragment(run_every=REFRESH_S)
def live_cluster_panel(read: Callable[[], ClusterHealth]) -> None:
    """The cluster panel, refreshed by itself: `read` returns the last probe at once (core/cluster.py), so neither
    the page nor this fragment ever waits on an unreachable scheduler."""
    cluster_panel(read())


def cluster_panel(health: ClusterHealth) -> None:
    """Render the cluster's health: a plain sentence first, then the figures (none when it can't be reached)."""
    # the message can echo an address or an error from the network: shown as typed, never as Markdown
    if health.is_starting:
        st.info(plain(health.message), icon="⏳")
        return
    (st.success if health.ok else st.error)(plain(health.message), icon="✅" if health.ok else "⚠️")
    if health.mode == "off":
        st.caption("Set LOUPE_DASK=local (what `make run` does) for a local cluster of worker processes, or "
                   "LOUPE_DASK_SCHEDULER=tcp://host:8786 for a team's cluster.")
        return
    if not health.workers:
        return
    cols = st.columns(4)
    cols[0].metric("Workers", health.workers, help=f"{counted(health.threads, 'thread')} in all")
    cols[1].metric("Memory", f"{health.memory_used_bytes / MIB:,.0f} MB",
                   help=f"of {health.memory_limit_bytes / MIB:,.0f} MB (the workers' limits together)")
    cols[2].metric("Tasks in flight", health.tasks_in_flight)
    if health.dashboard:
        cols[3].link_button("Dask dashboard", health.dashboard)
    st.dataframe(list(health.per_worker), hide_index=True, key="settings.cluster.workers")
