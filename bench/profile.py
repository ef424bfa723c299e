"""Profile one page of the benchmark's network in this process (cProfile), to see where its
time goes.

    python -m bench.profile [--units 1000] [--repeat 50] [--as staff] PATH

PATH may name the benchmark's objects: {small} and {large} are the units whose action plan
has 5 and 500 revisions, {programme} the programme of the bench units; e.g.
``python -m bench.profile "/enheder/{small}/moduler/handleplan"`` or
``python -m bench.profile --as admin /hjem``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import secrets
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--as", dest="role", default="staff",
                        choices=("staff", "admin", "facilitator", "observer"))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument("--save", help="write the profile's statistics to this file")
    args = parser.parse_args()

    import pyotp
    from flask_migrate import upgrade

    from bench.data import DEMO_PASSWORD, PASSWORD, build
    from laks import create_app
    from laks.services.twofactor import DEMO_SECRET

    folder = Path(tempfile.mkdtemp(prefix="laks-profile-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'profile.sqlite'}",
                      "SECRET_KEY": secrets.token_urlsafe(48), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        data = build(args.units)
    email = {"staff": data.staff_email, "admin": data.admin_email,
             "facilitator": data.facilitator_email, "observer": data.observer_email}[args.role]
    client = app.test_client()
    answer = client.post("/log-ind", data={
        "email": email, "password": PASSWORD if args.role == "staff" else DEMO_PASSWORD})
    if answer.headers.get("Location", "").endswith("/log-ind/kode"):
        client.post("/log-ind/kode", data={"code": pyotp.TOTP(DEMO_SECRET).now()})
    path = args.path.format(small=data.small_unit_id, large=data.large_unit_id,
                            programme=data.programme_id)
    for _ in range(5):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    started, cpu = time.perf_counter(), time.thread_time()
    for _ in range(args.repeat):
        client.get(path)
    took = (time.perf_counter() - started) / args.repeat * 1000
    cpu = (time.thread_time() - cpu) / args.repeat * 1000
    if args.no_profile:
        print(f"{path}: {took:.1f} ms per request ({cpu:.1f} ms of CPU)")
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        client.get(path)
    profiler.disable()
    print(f"{path}: {took:.1f} ms per request ({cpu:.1f} ms of CPU) without the profiler")
    if args.save:
        profiler.dump_stats(args.save)
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.lines)


if __name__ == "__main__":
    main()
