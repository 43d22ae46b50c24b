"""README command one: `etsyflow demo` runs the whole flow on embedded defaults."""

import subprocess
import sys


def test_demo_runs_end_to_end_and_prints_the_timeline(embedded):
    from etsyflow.demo import run

    lines: list[str] = []
    summary = run(lines.append)
    events = summary["events"]
    for expected in ("DeliveryTemplateSynced", "ListingPublished", "StockUpdated", "OrderDownloaded",
                     "ShipmentConfirmed", "OrderUpdated", "EventRejected"):
        assert events.get(expected, 0) >= 1, (expected, events)
    # Only the deliberately broken event is rejected (EventRejected plus its ListingRejected).
    assert events.get("ListingRejected", 0) == 1 and events.get("ShipmentRejected", 0) == 0
    assert summary["etsy_429s"] == 0
    assert any("cost 0 Etsy write calls" in line for line in lines)


def test_demo_command_needs_no_configuration(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "etsyflow.cli", "demo"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ShipmentConfirmed" in done.stdout and "Summary:" in done.stdout
