"""Background jobs: work that must not run inside a web request – building an edition's PDF
(laks.services.catalogue_pdf) and sending the mail queue (laks.services.mail).

A job is asked for inside the request that needs it (publishing an edition calls
:func:`enqueue_edition_pdf` before the request commits) and starts only once that
transaction has committed, so that it reads what the request wrote – and never starts for a
request that was rolled back. Who runs it depends on the configuration:

- ``thread`` (the default): one daemon thread per process, started by the first web request
  the process serves. It builds what the requests of its own process ask for, and every
  minute (and when it starts) it looks for editions still queued – left by the command line
  (``flask seed --demo``), or by a process that stopped – and for mail that is due (new,
  or waiting for its next attempt). Several processes (gunicorn's workers) may look at
  once: a build or a mail is claimed in one UPDATE, so only one of them does it.
- ``rq``, whenever ``LAKS_REDIS_URL`` is set: the job goes on an RQ queue in Redis, and
  ``flask --app laks jobs worker`` (any number of them, on any machine with the same
  database and instance folder) builds it.
- ``manual``: the job waits in the database until ``flask --app laks jobs run``. The tests
  run in this mode (unless a test chooses another), so that no build starts behind them.

The mode can be set with ``LAKS_JOBS`` in the app's config.
"""

from __future__ import annotations

import logging
import os
import threading
from queue import Empty, Queue

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from laks.extensions import db
from laks.models import Edition, utcnow
from laks.services import catalogue_pdf, mail

log = logging.getLogger(__name__)

#: The RQ queue laks' jobs go on.
QUEUE_NAME = "laks"
#: How long an RQ job may run before RQ gives up on it (a build of 500 cases takes minutes).
JOB_TIMEOUT = 3600
#: How often the in-process worker looks for builds queued by other processes, in seconds.
POLL_SECONDS = 60.0

_PENDING = "laks_jobs_pending_editions"
_MAIL_PENDING = "laks_jobs_mail_pending"
_HOOKED = "laks_jobs_hooked"
#: What the in-process worker's queue carries to say "send the mail that is due".
MAIL = "mail"


def mode(app: Flask | None = None) -> str:
    """How jobs run in this app: ``thread``, ``rq`` or ``manual`` (see the module's text)."""
    app = app or current_app
    chosen = app.config.get("LAKS_JOBS")
    if chosen:
        return chosen
    if app.config.get("LAKS_REDIS_URL"):
        return "rq"
    return "manual" if app.testing else "thread"


# --- asking for a job, run after the commit ---------------------------------------------------

def enqueue_edition_pdf(edition: Edition) -> None:
    """Ask for the edition's PDF: the edition is marked queued now (in the caller's
    transaction) and its build starts once that transaction commits. Called by
    laks.services.catalogue.publish_edition, and by the admin's "build again"."""
    catalogue_pdf.mark_queued(edition)
    session = db.session()
    pending = session.info.setdefault(_PENDING, [])
    if edition.id not in pending:
        pending.append(edition.id)
    _hook(session)


def enqueue_mail_sending() -> None:
    """Ask for the mail queue to be sent once the caller's transaction commits (called by
    laks.services.mail whenever it queues a mail)."""
    session = db.session()
    session.info[_MAIL_PENDING] = True
    _hook(session)


def _hook(session: Session) -> None:
    if not session.info.get(_HOOKED):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
        session.info[_HOOKED] = True


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, [])
    send_mail = session.info.pop(_MAIL_PENDING, False)
    if (ids or send_mail) and has_app_context():
        dispatch(current_app._get_current_object(), ids, mail=send_mail)


def _after_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)  # what the request asked for was not written
        session.info.pop(_MAIL_PENDING, None)


def dispatch(app: Flask, edition_ids: list[int], mail: bool = False) -> None:
    """Hand committed builds (and, with ``mail``, the sending of queued mail) to whoever
    runs jobs here."""
    how = mode(app)
    if how == "rq":
        for edition_id in edition_ids:
            enqueue_rq(app, edition_id)
        if mail:
            enqueue_rq_mail(app)
    elif how == "thread":
        worker = _workers.get(id(app))
        if worker is not None and worker.alive:
            worker.submit(edition_ids + ([MAIL] if mail else []))
        # Without a worker in this process (a command line), the builds stay queued for
        # the next web process's worker, or for `flask jobs run`.


# --- running jobs -----------------------------------------------------------------------------

def run_edition_pdf(edition_id: int) -> bool:
    """Build one edition's PDF if it is still queued (in the current app context).
    True if this call built it; failures are recorded on the edition and logged."""
    try:
        return catalogue_pdf.build_edition_pdf(edition_id) is not None
    except catalogue_pdf.PdfBuildError:
        return False  # recorded on the edition and logged by the build
    finally:
        db.session.remove()


def run_queued() -> list[int]:
    """Build every queued edition's PDF now, one after the other; the ids built."""
    ids = catalogue_pdf.queued_edition_ids()
    db.session.remove()
    return [edition_id for edition_id in ids if run_edition_pdf(edition_id)]


def run_mail(now=None) -> tuple[int, int]:
    """Send the mail that is due (laks.services.mail.send_pending): ``(sent, failed)``.
    An error of the sending itself is logged, never raised: the worker goes on."""
    try:
        return mail.send_pending(now)
    except Exception:  # noqa: BLE001 - a job must not take its worker down
        log.exception("sending mail failed")
        return 0, 0
    finally:
        db.session.remove()


def rq_mail_job() -> tuple[int, int]:
    """The RQ job that sends due mail; when mail waits for a later attempt, it schedules
    itself for then (the worker runs RQ's scheduler)."""
    if not has_app_context():
        raise RuntimeError("Start the worker with `flask --app laks jobs worker`.")
    result = run_mail()
    later = mail.next_attempt_at()
    db.session.remove()
    if later is not None:
        from redis.exceptions import RedisError

        queue = rq_queue(current_app._get_current_object())
        try:
            if later <= utcnow():  # more is due already (a batch's rest): right away
                queue.enqueue(rq_mail_job, description="mail")
            else:
                # One job per moment, however many drains ask for it; never this job's own id.
                queue.enqueue_at(later, rq_mail_job, description="mail, next attempt",
                                 job_id=f"laks-mail-{int(later.timestamp())}")
        except RedisError as error:
            log.warning("could not schedule the next mail attempt on Redis: %s", error)
    return result


def enqueue_rq_mail(app: Flask) -> None:
    """Put a mail-sending job on the RQ queue. If Redis cannot be reached the mail stays
    queued in the database, and a worker sends it when it starts."""
    from redis.exceptions import RedisError

    try:
        rq_queue(app).enqueue(rq_mail_job, description="mail")
    except RedisError as error:
        log.warning("could not queue the sending of mail on Redis: %s", error)


def rq_job(edition_id: int) -> bool:
    """The RQ job: runs in ``flask --app laks jobs worker``, which gives it the app."""
    if not has_app_context():
        raise RuntimeError("Start the worker with `flask --app laks jobs worker`.")
    return run_edition_pdf(edition_id)


def rq_queue(app: Flask):
    """laks' RQ queue on the Redis server of ``LAKS_REDIS_URL``."""
    from redis import Redis
    from rq import Queue as RQueue

    return RQueue(QUEUE_NAME, connection=Redis.from_url(app.config["LAKS_REDIS_URL"]))


def enqueue_rq(app: Flask, edition_id: int) -> None:
    """Put the edition's build on the RQ queue. If Redis cannot be reached the edition
    stays queued in the database, and a worker takes it when it starts."""
    from redis.exceptions import RedisError

    try:
        rq_queue(app).enqueue(rq_job, edition_id, job_timeout=JOB_TIMEOUT,
                              description=f"catalogue PDF, edition id {edition_id}")
    except RedisError as error:
        log.warning("could not queue the PDF of edition id %s on Redis: %s", edition_id, error)


def run_rq_worker(app: Flask, burst: bool = False) -> None:
    """Run an RQ worker on laks' queue (``flask --app laks jobs worker``). Builds still
    queued in the database (their Redis job lost) are put on the queue first."""
    from rq import Worker

    queue = rq_queue(app)
    with app.app_context():
        for edition_id in catalogue_pdf.queued_edition_ids():
            enqueue_rq(app, edition_id)
        if mail.due_ids():
            enqueue_rq_mail(app)
        db.session.remove()
        db.engine.dispose()  # each job runs in a forked process: no connection shared
    # The scheduler runs the mail job again when a failed mail's next attempt is due.
    Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=True)


class ThreadWorker:
    """The in-process worker: one daemon thread building the PDFs its process asks for,
    and those still queued in the database."""

    def __init__(self, app: Flask, poll_seconds: float = POLL_SECONDS):
        self.app = app
        self.pid = os.getpid()
        self.poll_seconds = poll_seconds
        self.queue: Queue[int | str | None] = Queue()
        self.thread = threading.Thread(target=self._run, name="laks-jobs", daemon=True)

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()

    def start(self) -> ThreadWorker:
        self.thread.start()
        return self

    def submit(self, edition_ids: list[int | str]) -> None:
        """Edition ids to build, and MAIL to send the mail that is due."""
        for edition_id in edition_ids:
            self.queue.put(edition_id)

    def stop(self, timeout: float = 60) -> None:
        """Let the worker finish the build it is on, then end it."""
        self.queue.put(None)
        self.thread.join(timeout)

    def _run(self) -> None:
        todo: list[int | str] | None = None  # None: look in the database
        while True:
            with self.app.app_context():
                try:
                    for job in todo if todo is not None else [*self._queued(), MAIL]:
                        if job == MAIL:
                            run_mail()  # mail that is due: new, or waiting for a retry
                        else:
                            run_edition_pdf(job)
                except Exception:  # noqa: BLE001 - the worker must outlive any one job
                    log.exception("background job failed")
            try:
                edition_id = self.queue.get(timeout=self.poll_seconds)
            except Empty:
                todo = None
                continue
            if edition_id is None:
                return
            todo = [edition_id]

    def _queued(self) -> list[int]:
        ids = catalogue_pdf.queued_edition_ids()
        db.session.remove()
        return ids


_workers: dict[int, ThreadWorker] = {}
_start_lock = threading.Lock()


def ensure_worker(app: Flask) -> ThreadWorker | None:
    """Start this process's in-process worker for ``app`` if jobs run in threads here and
    it is not running yet (after a fork, the child starts its own). Cheap when it runs."""
    worker = _workers.get(id(app))
    if worker is not None and worker.alive:
        return worker
    if mode(app) != "thread":
        return None
    with _start_lock:
        worker = _workers.get(id(app))
        if worker is None or not worker.alive:
            worker = _workers[id(app)] = ThreadWorker(app).start()
    return worker


def stop_worker(app: Flask) -> None:
    """Stop the app's in-process worker, if it has one (the tests' clean-up)."""
    worker = _workers.pop(id(app), None)
    if worker is not None and worker.alive:
        worker.stop()
