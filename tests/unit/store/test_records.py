"""What a client sees of a run record."""

from __future__ import annotations

from lambdagraph.store.records import Run, public_run


def _run(**fields: object) -> Run:
    run: Run = {
        "run_id": "r",
        "thread_id": "t",
        "assistant_id": "agent",
        "created_at": "c",
        "updated_at": "u",
        "status": "running",
        "metadata": {},
        "multitask_strategy": "enqueue",
        "kwargs": {},
        "owner": "alice",
    }
    run.update(fields)  # type: ignore[typeddict-item]
    return run


def test_a_running_run_flagged_for_cancel_reads_interrupted_and_hides_our_fields() -> None:
    flagged = public_run(_run(cancel="interrupt"))
    assert flagged["status"] == "interrupted"
    assert not {"owner", "cancel", "usage", "temporary", "subscribers"} & flagged.keys()


def test_the_executors_final_status_wins_over_the_flag() -> None:
    assert public_run(_run(status="success", cancel="interrupt"))["status"] == "success"
    assert public_run(_run(status="running", cancel=None))["status"] == "running"
