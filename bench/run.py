"""Runs the benchmarks, prints a table and writes JSON to bench/results/.

    python -m bench.run                 # everything (what `make bench` runs), ~7 minutes
    python -m bench.run ingest          # one scenario: ingest | inbox | memory | mail | mail_out | widget | due
    python -m bench.run ingest --profile   # also sample the server with py-spy (ingest, mail, widget)
    python -m bench.run --quick         # shorter runs and a smaller data set (a smoke test)

Needs PostgreSQL (BALIE_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/test);
each run works in its own throwaway schema and drops it. The ingest run with the Redis event
bus starts its own redis-server on a free port (pub/sub is server-wide: a shared Redis would
carry the benchmark's events to other people's subscribers); `--redis URL` uses another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from typing import Any

from bench import common, due, inbox, ingest, mail, mail_out, memory, widget

SCENARIOS = ("ingest", "inbox", "memory", "mail", "mail_out", "widget", "due")


def background_cpu(seconds: float = 2.0) -> float:
    """How busy the machine is before we start (other work skews every figure)."""
    busy0, total0 = common.machine_cpu_seconds()
    time.sleep(seconds)
    busy1, total1 = common.machine_cpu_seconds()
    return round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1)


def cpu_probe_ms() -> float:
    """How fast this (shared, virtual) machine runs Python right now: the best of five runs of
    a fixed loop. The same code measured 2x slower within one session when the host was busy."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        sum(range(2_000_000))
        timings.append(time.perf_counter() - started)
    return round(1000 * min(timings), 1)


def wait_quiet(max_wait: float, threshold: float = 10.0) -> float:
    """Waits (at most max_wait seconds) until the machine is nearly idle; returns the last reading."""
    deadline = time.monotonic() + max_wait
    reading = background_cpu()
    while reading > threshold and time.monotonic() < deadline:
        reading = background_cpu()
    return reading


def postgres_version() -> str:
    try:
        import psycopg

        from bench.server import plain_pg_url

        with psycopg.connect(plain_pg_url(), connect_timeout=5) as conn:
            row = conn.execute("show server_version").fetchone()
            return str(row[0]) if row else "?"
    except Exception as error:
        return f"unavailable: {error}"


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=common.ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    dirty = " (src/ has uncommitted changes)" if git("status", "--porcelain", "--", "src") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _met(row: dict[str, Any]) -> str:
    if "target_met" not in row:
        return ""
    return "yes" if row["target_met"] else "NO"


def print_tables(results: dict[str, list[dict[str, Any]]]) -> None:
    if results.get("mail"):
        print("\n" + mail.table(results["mail"]))
    if results.get("mail_out"):
        print("\n" + mail_out.table(results["mail_out"]))
    if results.get("widget"):
        print("\n" + widget.table(results["widget"]))
    if results.get("due"):
        print("\n" + due.table(results["due"]))
    if results.get("ingest"):
        print("\nIngest: POST /api/v1/messages, 8 clients (target on PostgreSQL: >= 500 msgs/s, p99 < 100 ms)")
        print("CPU% columns: 100 = one core; other% = everything else on the machine during the window")
        header = f"{'database':<18}{'msgs/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}" \
                 f"{'srv CPU%':>10}{'pg CPU%':>9}{'other%':>8}{'start s':>9}{'RSS MiB':>9}  target met"
        print(header)
        print("-" * len(header))
        for row in results["ingest"]:
            if "error" in row:
                print(f"{row['database']:<18}FAILED: {row['error'][:200]}")
                continue
            print(f"{row['database']:<18}{row['msgs_per_s']:>8.0f}{_ms(row['p50_ms']):>9}{_ms(row['p95_ms']):>9}"
                  f"{_ms(row['p99_ms']):>9}{row['errors']:>8}{row['cpu'].get('server_cpu_pct', 0):>10.0f}"
                  f"{row['cpu'].get('postgres_cpu_pct', 0) if row['database'] != 'sqlite' else 0:>9.0f}"
                  f"{row['cpu'].get('other_cpu_pct', 0):>8.0f}{row['startup_s']:>9.2f}"
                  f"{row['rss_kib_after_load'] / 1024:>9.0f}  {_met(row)}")
        for row in (r for r in results["ingest"] if "error" not in r):
            wrong = row["consistency"].get("conversations_with_wrong_message_count", 0)
            if wrong:
                print(f"  ! {row['database']}: {wrong} conversations have a message_count that differs from "
                      f"their messages (lost updates under concurrency)")
            seeded = (row.get("history") or {}).get("messages", 0)
            if row["consistency"].get("messages") - seeded != row["requests_sent_total"] - sum(
                    n for code, n in row["statuses"].items() if not code.startswith("2")):
                print(f"  ! {row['database']}: {row['consistency'].get('messages') - seeded} messages stored for "
                      f"{row['requests_sent_total']} requests sent")
    if results.get("inbox"):
        size = results["inbox"][0].get("dataset", {})
        print(f"\nInbox: {size.get('conversations', 0):,} conversations / {size.get('messages', 0):,} messages "
              "on PostgreSQL (target: p99 < 50 ms)")
        header = f"{'case':<40}{'conc':>5}{'n':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}" \
                 f"{'errors':>8}  target met"
        print(header)
        print("-" * len(header))
        for row in results["inbox"]:
            if row.get("todo"):
                print(f"{row['case']:<40}  {row['note']}")
                continue
            print(f"{row['case']:<40}{row['concurrency']:>5}{row['requests']:>6}{row['rps']:>8.0f}"
                  f"{_ms(row['p50_ms']):>9}{_ms(row['p95_ms']):>9}{_ms(row['p99_ms']):>9}{row['errors']:>8}"
                  f"  {_met(row)}")
    if results.get("memory"):
        print("\nMemory and start-up of one balie serve (SQLite, worker on)")
        for row in results["memory"]:
            print(f"  start-up to first 200 on /healthz: median {row['startup_median_s']:.2f} s "
                  f"(runs: {', '.join(f'{s:.2f}' for s in row['startup_s'])}; "
                  f"importing balie.app alone: {row['import_balie_app_s']:.2f} s)")
            print(f"  RSS idle after start-up: {row['rss_mib_idle']:.0f} MiB; after load: "
                  f"{row['rss_mib_after_load']:.0f} MiB; 3 s later: {row['rss_mib_after_load_settled']:.0f} MiB; "
                  f"peak: {row['rss_mib_peak']:.0f} MiB")


def print_profile(results: dict[str, list[dict[str, Any]]]) -> None:
    for row in [*results.get("ingest", []), *results.get("mail", []), *results.get("widget", [])]:
        profile = row.get("profile")
        if not profile:
            continue
        print(f"\nProfile of the server during {row['scenario']} on {row['database']} "
              "(py-spy, samples holding the GIL)")
        if profile.get("error"):
            print(f"  {profile['error']}")
            continue
        print("  by area: " + ", ".join(f"{name} {pct}%" for name, pct in profile["by_area"][:8]))
        print("  inclusive (top 15):")
        for name, pct in profile["inclusive"][:15]:
            print(f"    {pct:5.1f}%  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=", ".join(SCENARIOS) + " or all (default)")
    parser.add_argument("--quick", action="store_true", help="short runs and a small data set (smoke test)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during ingest, mail and widget")
    parser.add_argument("--redis", metavar="URL",
                        help="Redis for the ingest run with the Redis bus (default: a private redis-server)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each scenario, wait up to this long for the machine to be idle")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - {*SCENARIOS, "all"}
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}: choose from {', '.join(SCENARIOS)} or all")
    if not args.scenarios:
        args.scenarios = ["all"]
    chosen = SCENARIOS if "all" in args.scenarios else tuple(s for s in SCENARIOS if s in args.scenarios)

    started = dt.datetime.now(dt.UTC)
    meta: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": common.machine_info(),
        "postgresql": postgres_version(),
        "git": git_revision(),
        "quick": args.quick,
    }
    meta["background_cpu_pct"] = background_cpu()
    print(f"Balie benchmarks {meta['git']} on {meta['machine']['cpu']} x{meta['machine']['cores']}, "
          f"PostgreSQL {meta['postgresql']}, Python {meta['machine']['python']}; "
          f"machine busy before start: {meta['background_cpu_pct']}%", flush=True)
    if meta["background_cpu_pct"] > 10:
        print("  ! the machine is busy with other work: figures will be lower and noisier", flush=True)

    results: dict[str, list[dict[str, Any]]] = {}
    failures: list[str] = []
    meta["background_cpu_pct_per_scenario"] = {}
    meta["cpu_probe_ms_per_scenario"] = {}
    for scenario in chosen:
        if args.wait_quiet:
            meta["background_cpu_pct_per_scenario"][scenario] = wait_quiet(args.wait_quiet)
        probe = cpu_probe_ms()
        meta["cpu_probe_ms_per_scenario"][scenario] = probe
        print(f"[{scenario}] CPU probe: {probe} ms (a fixed pure-Python loop; higher = a slower machine now)",
              flush=True)
        try:
            if scenario == "ingest":
                results["ingest"] = ingest.run(quick=args.quick, profile=args.profile, redis_url=args.redis)
            elif scenario == "mail_out":
                results["mail_out"] = mail_out.run(quick=args.quick)
            elif scenario == "mail":
                results["mail"] = mail.run(quick=args.quick, profile=args.profile)
            elif scenario == "inbox":
                results["inbox"] = inbox.run(quick=args.quick)
            elif scenario == "widget":
                results["widget"] = widget.run(quick=args.quick, profile=args.profile)
            elif scenario == "due":
                results["due"] = due.run(quick=args.quick)
            else:
                results["memory"] = memory.run(quick=args.quick)
        except Exception as error:  # report and carry on with the next scenario
            failures.append(f"{scenario}: {error}")
            print(f"[{scenario}] FAILED: {error}", file=sys.stderr, flush=True)

    meta["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta["duration_s"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    print_tables(results)
    if args.profile:
        print_profile(results)
    failures += [f"ingest on {r['database']}: {r['error'][:200]}" for r in results.get("ingest", []) if "error" in r]
    failures += [f"widget on {r['database']}: {r['error'][:200]}" for r in results.get("widget", []) if "error" in r]
    failures += [f"due: {r['error'][:200]}" for r in results.get("due", []) if "error" in r]
    if failures:
        print("\nFailed:\n  " + "\n  ".join(failures))

    common.RESULTS.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "results": results, "failures": failures}
    name = f"{started.strftime('%Y%m%d-%H%M%S')}-{'-'.join(chosen)}.json"
    for path in (common.RESULTS / name, common.RESULTS / "latest.json"):
        path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nResults: {common.RESULTS / name}  ({meta['duration_s']} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
