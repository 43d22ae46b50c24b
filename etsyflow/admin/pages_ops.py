"""The Operations page: queues, dead letters (show, replay, purge), parked work, recent
events and the pictures. Every action calls the dead-letter and queue functions behind ``etsyflow dlq`` and
``etsyflow status`` (:mod:`etsyflow.workers.deadletters`, :mod:`etsyflow.workers.queues`)."""

from __future__ import annotations

import json
import time

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from ..config.logging import redact
from ..etsy.ratelimit import RateLimiter
from ..workers import parked_count
from ..workers.deadletters import Selection, UnknownMessage
from ..workers.queues import queue_counts
from . import charts, recent, samples
from .context import signed_in

#: Dead letters listed on the page (oldest first); ``etsyflow dlq list`` shows them all.
SHOWN_DEAD_LETTERS = 200


def register(app, console) -> None:
    settings, redis = console.settings, console.redis
    store, act, dead_letters = console.store, console.act, console.dead_letters

    @app.get("/operations")
    @signed_in
    def operations():
        problems = []
        try:
            queues = [q.as_dict() for q in queue_counts(settings)]
        except Exception as error:
            queues, problems = [], problems + [f"queues: {redact(None, None, {'t': str(error)})['t']}"]
        try:
            letters = dead_letters().list() if any(q["dead"] for q in queues) else []
        except Exception as error:
            letters, problems = [], problems + [f"dead letters: {redact(None, None, {'t': str(error)})['t']}"]
        parked = [{"shop_id": s.shop_id, "shop_name": s.shop_name, "count": parked_count(s.shop_id)}
                  for s in store().list_shops()]
        quota = RateLimiter(redis, settings).status()
        now = time.time()
        minutes = recent.per_minute(redis, 60, now=now)
        events_chart = charts.line_chart(
            {"in": [(t, i) for t, i, _ in minutes], "out": [(t, o) for t, _, o in minutes]},
            start=now - 3600, end=now, title="Events per minute", unit="events/min")
        depth_points: dict[str, list] = {}
        for sample in samples.last_hour(redis, now=now):
            for queue, value in sorted(sample["depth"].items()):
                depth_points.setdefault(queue, []).append((sample["t"], value))
        depth_chart = charts.line_chart(depth_points, start=now - 3600, end=now, title="Queue depth",
                                        unit="messages")
        type_filter = request.args.get("type", "")
        shop_filter = request.args.get("shop", "")
        return render_template(
            "operations.html", title="Operations", queues=queues, letters=letters[:SHOWN_DEAD_LETTERS],
            dead_total=len(letters), parked=parked,
            quota=quota, problems=problems,
            quota_chart=charts.quota_gauge(quota["used_today"], quota["effective_per_day"]),
            events_chart=events_chart, depth_chart=depth_chart,
            events=recent.latest(redis, event_type=type_filter or None, shop_id=shop_filter or None, limit=50),
            event_types=recent.types_seen(redis), type_filter=type_filter, shop_filter=shop_filter)

    @app.get("/operations/events.json")
    @signed_in
    def events_json():
        items = recent.latest(redis, event_type=request.args.get("type") or None,
                              shop_id=request.args.get("shop") or None, after=request.args.get("after") or None,
                              limit=50)
        return jsonify({"events": items})

    @app.get("/operations/dead/<message_id>")
    @signed_in
    def dead_letter(message_id):
        try:
            letter = dead_letters().get(message_id)
        except UnknownMessage:
            abort(404)
        full = letter.as_dict(full=True)
        envelope = json.dumps(redact(None, None, {"e": full["envelope"]})["e"], indent=2, sort_keys=True,
                              default=str)
        traceback = redact(None, None, {"t": full["traceback"] or ""})["t"]
        return render_template("dead_letter.html", title=f"Dead letter {letter.message_id}", letter=letter,
                               envelope=envelope, traceback="\n".join(traceback.rstrip().splitlines()[-20:]))

    def selection_from_form():
        ids = tuple(i for i in request.form.getlist("message_id") if i)
        if not ids:
            return None
        return Selection(message_ids=ids)

    @app.post("/operations/dead/replay")
    @signed_in
    def replay_dead():
        selection = selection_from_form()
        if selection is None:
            flash("Choose at least one dead letter to replay.", "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        try:
            done = dead_letters().replay(selection)
        except UnknownMessage as error:
            flash(str(error), "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        act("dead letters replayed", ", ".join(f"{d.message_id} ({d.actor})" for d in done))
        flash(f"{len(done)} message(s) replayed.")
        return redirect(url_for("operations") + "#dead-letters", code=303)

    @app.route("/operations/dead/purge", methods=["POST"])
    @signed_in
    def purge_dead():
        selection = selection_from_form()
        if selection is None:
            flash("Choose at least one dead letter to purge.", "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        if request.form.get("confirm") != "yes":
            return render_template("confirm.html", title="Purge dead letters?",
                                   message=f"Delete {len(selection.message_ids)} dead-lettered message(s) for "
                                           "good? They cannot be replayed afterwards.",
                                   action=url_for("purge_dead"),
                                   fields={"message_id": list(selection.message_ids)},
                                   button="Purge for good", back=url_for("operations") + "#dead-letters")
        try:
            done = dead_letters().purge(selection)
        except UnknownMessage as error:
            flash(str(error), "error")
            return redirect(url_for("operations") + "#dead-letters", code=303)
        act("dead letters purged", ", ".join(f"{d.message_id} ({d.actor})" for d in done))
        flash(f"{len(done)} message(s) purged.")
        return redirect(url_for("operations") + "#dead-letters", code=303)
