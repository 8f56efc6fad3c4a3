"""The `stocksync` command line.

Each command imports what it needs when it runs, so `stocksync --help` stays instant and a
command never pays for another's dependencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from service.config import ServiceSettings
    from service.engine import CleanupReport, Inventory
    from service.integrations.stripe.session_expiry import SessionsEnded

DEFAULT_LAKE_FILE = "data/lake.sqlite3"


def _lake_file() -> str:
    """The lake commands' default file: STOCKSYNC_DATA, as for `stocksync serve`."""
    return os.environ.get("STOCKSYNC_DATA") or DEFAULT_LAKE_FILE


def _lake_serve(args: argparse.Namespace) -> int:
    from cms_client.server import run_lake_server

    Path(args.data).parent.mkdir(parents=True, exist_ok=True)
    run_lake_server(
        data_path=args.data,
        host=args.host,
        port=args.port,
        dataset=args.dataset,
        token=args.token,
        latency_ms=args.latency_ms,
        query_deadline_s=args.query_deadline,
        public=args.public,
    )
    return 0


def _lake_import(args: argparse.Namespace) -> int:
    from cms_client.lake.transfer import TransferError, import_dataset

    Path(args.data).parent.mkdir(parents=True, exist_ok=True)
    try:
        count = import_dataset(args.data, args.file, replace=args.replace, dataset=args.dataset)
    except TransferError as exc:  # one line naming the file, line and document; no traceback
        raise SystemExit(f"stocksync lake import: {exc.message}") from None
    print(f"imported {count} documents from {args.file} into {args.data} ({args.dataset})")
    return 0


def _lake_export(args: argparse.Namespace) -> int:
    from cms_client.lake.transfer import TransferError, export_dataset

    try:
        count = export_dataset(args.data, args.file, dataset=args.dataset)
    except TransferError as exc:
        raise SystemExit(f"stocksync lake export: {exc.message}") from None
    print(f"exported {count} documents from {args.data} ({args.dataset}) to {args.file}")
    return 0


def _studio_schema(args: argparse.Namespace) -> int:
    from service.integrations.sanity.studio_schema import write_studio_schema

    for path in write_studio_schema(Path(args.out)):
        print(path)
    return 0


def _bench_flash_sale(args: argparse.Namespace) -> int:
    """`stocksync bench flash-sale`: JSON figures on stdout; exit 1 when anything oversold."""
    try:
        from bench.flash_sale.options import FlashSaleOptions
        from bench.flash_sale.run import run_flash_sale
    except ImportError as exc:
        raise SystemExit(
            f"stocksync: the benchmarks run from a checkout of the repository ({exc})"
        ) from None
    try:
        options = FlashSaleOptions(
            scenario=args.scenario,
            processes=args.processes,
            buyers=args.buyers,
            stock=args.stock,
            latency_ms=args.latency_ms,
            coalesce=args.coalesce,
            warm_cache=args.warm_cache == "on",
            concurrency=args.concurrency,
            abandon=args.abandon,
            json_path=args.json,
            chart=not args.no_chart,
        )
    except ValueError as exc:
        raise SystemExit(f"stocksync bench flash-sale: {exc}") from None
    report = run_flash_sale(options)
    print(json.dumps(report, indent=2))
    runs = [report[key] for key in ("coalesce_off", "coalesce_on") if key in report] or [report]
    return 1 if any(run["oversold"] for run in runs) else 0


def _bench_module(args: argparse.Namespace) -> int:
    """`stocksync bench lake-throughput|groq-speed ...`: the bench module's own options."""
    try:
        if args.bench_command == "lake-throughput":
            from bench.lake_throughput import main as run_bench
        else:
            from bench.groq_speed import main as run_bench
    except ImportError as exc:
        raise SystemExit(
            f"stocksync: the benchmarks run from a checkout of the repository ({exc})"
        ) from None
    run_bench(args.bench_args, prog=f"stocksync bench {args.bench_command}")
    return 0


def _bench_stock_stream(args: argparse.Namespace) -> int:
    """`stocksync bench stock-stream`: JSON figures on stdout; exit 1 when a change was missed."""
    try:
        from bench.stock_stream import StreamBenchOptions, run_stock_stream
    except ImportError as exc:
        raise SystemExit(
            f"stocksync: the benchmarks run from a checkout of the repository ({exc})"
        ) from None
    try:
        options = StreamBenchOptions(subscribers=args.subscribers, changes=args.changes)
    except ValueError as exc:
        raise SystemExit(f"stocksync bench stock-stream: {exc}") from None
    report = run_stock_stream(options)
    print(json.dumps(report, indent=2))
    return 1 if report["missed"] else 0


def _bench_stock_import(args: argparse.Namespace) -> int:
    """`stocksync bench stock-import`: JSON figures on stdout."""
    try:
        from bench.stock_import import ImportBenchOptions, run_stock_import
    except ImportError as exc:
        raise SystemExit(
            f"stocksync: the benchmarks run from a checkout of the repository ({exc})"
        ) from None
    try:
        options = ImportBenchOptions(rows=args.rows, rate=args.rate)
    except ValueError as exc:
        raise SystemExit(f"stocksync bench stock-import: {exc}") from None
    print(json.dumps(run_stock_import(options), indent=2))
    return 0


def _settings(args: argparse.Namespace, **overrides: Any) -> ServiceSettings:
    """Settings from the environment, `--data` winning over STOCKSYNC_DATA."""
    from pydantic import ValidationError

    from service.config import load_settings

    if getattr(args, "data", None):
        overrides["data_file"] = args.data
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"stocksync: invalid configuration: {problems}") from None


def _describe_store(settings: ServiceSettings) -> str:
    if settings.uses_sanity:
        return f"Sanity project {settings.sanity_project_id}, dataset {settings.sanity_dataset}"
    return f"embedded lake: {settings.data_file}"


def _closed_routes(settings: ServiceSettings) -> list[str]:
    closed = []
    if not settings.storefront_keys():
        closed.append("STOREFRONT_API_KEY is unset: reserve, release, POST stock-status answer 503")
    if settings.cron_secret_value() is None:
        closed.append("CRON_SECRET is unset: /api/cron/* and POST inventory-health answer 503")
    staff = settings.staff_keys()
    if staff.problem:
        closed.append(f"{staff.problem}: /api/inventory/* answer 503")
    elif not staff.keys:
        closed.append("ADMIN_API_KEYS is unset: /api/inventory/* answer 503")
    return closed


async def _seed_demo(settings: ServiceSettings) -> bool:
    from service.bootstrap import running
    from service.entrypoints.cli.demo import seed_catalogue

    async with running(settings) as runtime:
        return await seed_catalogue(runtime.store, runtime.inventory)


def _port_problem(host: str, port: int) -> str | None:
    """Why `port` cannot be served on `host`, checked before anything is seeded or printed."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror or exc})"
    return None


def _reset_demo_data(data_file: str) -> None:
    """Remove the embedded lake's file (and its WAL), so the demo seeds afresh."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data_file}{suffix}").unlink(missing_ok=True)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.entrypoints.http.app import create_app

    if args.reset and not args.demo:
        print("stocksync: --reset goes with --demo (it re-seeds the demo data).", file=sys.stderr)
        return 2
    problem = _port_problem(args.host, args.port)
    if problem:
        print(
            f"stocksync: {problem}. Is stocksync already running? Stop it, or choose another "
            "port with --port.",
            file=sys.stderr,
        )
        return 2
    settings = _settings(args)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    base_url = f"http://{shown_host}:{args.port}"
    if args.demo:
        from service.entrypoints.cli.demo import banner, demo_keys
        from service.entrypoints.cli.demo_secrets import load_or_create_secrets, secrets_path

        if settings.uses_sanity:
            print(
                "stocksync: --demo seeds the embedded lake only; unset SANITY_PROJECT_ID "
                "to try it.",
                file=sys.stderr,
            )
            return 2
        if args.reset:
            _reset_demo_data(settings.data_file)
        secrets_file = secrets_path(settings.data_file)
        stored, _ = load_or_create_secrets(secrets_file)
        staff = settings.staff_keys()
        storefront = settings.storefront_keys()
        keys = demo_keys(
            stored,
            storefront=storefront[0] if storefront else None,
            cron=settings.cron_secret_value(),
            stripe_webhook=_secret(settings.stripe_webhook_secret),
            console_session=_secret(settings.console_session_secret),
            staff_configured=bool(staff.keys) or staff.problem is not None,
        )
        overrides: dict[str, Any] = {
            "storefront_api_key": settings.storefront_api_key or keys.storefront,
            "cron_secret": settings.cron_secret or keys.cron,
            "stripe_webhook_secret": settings.stripe_webhook_secret or keys.stripe_webhook,
            "console_session_secret": settings.console_session_secret or keys.console_session,
        }
        if "ADMIN_API_KEYS" in keys.generated:
            overrides["admin_api_keys"] = keys.admin_api_keys
        settings = _settings(args, **overrides)
        seeded = asyncio.run(_seed_demo(settings))
        print(
            banner(
                keys,
                base_url=base_url,
                store_description=_describe_store(settings),
                seeded=seeded,
                secrets_file=str(secrets_file),
            ),
            flush=True,
        )
    else:
        print(f"stocksync on {base_url}  ({_describe_store(settings)})", flush=True)
        for line in _closed_routes(settings):
            print(f"  {line}", flush=True)
    # A long-running server imports the stripe library now, not on the first webhook: that
    # import (the service's largest) would stall every request of the process meanwhile.
    # Serverless deployments (api/index.py) keep it lazy for their cold starts.
    import stripe  # noqa: F401

    from service.entrypoints.logs import logging_config

    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=logging_config(settings.log_format, args.log_level),
        # The request log (service.entrypoints.http.request_log) writes one line per request
        # instead.
        access_log=False,
    )
    return 0


def _secret(value: Any) -> str | None:
    """A SecretStr setting's text, None when unset or blank."""
    text = value.get_secret_value().strip() if value is not None else ""
    return text or None


def _demo_checkout(args: argparse.Namespace) -> int:
    from service.entrypoints.cli.demo_checkout import CheckoutFailed, run_checkout

    try:
        run_checkout(
            url=args.url,
            product=args.product,
            quantity=args.quantity,
            size=args.size,
            refund=args.refund,
            data_file=args.data or _lake_file(),
        )
    except CheckoutFailed as exc:
        print(f"stocksync demo checkout: {exc}", file=sys.stderr)
        return 1
    return 0


class _JobReport(Protocol):
    @property
    def exit_code(self) -> int: ...

    def to_json_dict(self) -> dict[str, Any]: ...


def _run_job(args: argparse.Namespace, job: Callable[[Inventory], Awaitable[_JobReport]]) -> int:
    """One run of a `service.engine.operations.housekeeping` job: JSON on stdout, a non-zero
    exit code when something was left for the next run (1) or for a person (3: quarantined
    products). Low-stock alerts the job causes are sent before it exits."""
    from service.bootstrap import running

    settings = _settings(args)

    async def run() -> _JobReport:
        async with running(settings) as runtime:
            return await job(runtime.inventory)

    report = asyncio.run(run())
    print(json.dumps(report.to_json_dict(), indent=2))
    return report.exit_code


@dataclass(frozen=True)
class _CleanupRun:
    """`stocksync cleanup`'s report: the cleanup's, plus what Stripe did with the sessions."""

    cleanup: CleanupReport
    sessions: SessionsEnded

    @property
    def exit_code(self) -> int:
        # A session Stripe would not expire is recorded as an errorLog; no later run retries
        # it (its hold has ended), so it is not "left for the next run".
        return self.cleanup.exit_code

    def to_json_dict(self) -> dict[str, Any]:
        return {**self.cleanup.to_json_dict(), "checkoutSessions": self.sessions.to_json_dict()}


def _cleanup(args: argparse.Namespace) -> int:
    """Expire overdue holds (and their Checkout Sessions, with STRIPE_SECRET_KEY), purge."""
    from service.engine import run_cleanup
    from service.integrations.stripe.gateway import gateway_for
    from service.integrations.stripe.session_expiry import end_checkout_sessions

    settings = _settings(args)
    key = settings.stripe_secret_key

    async def job(inventory: Inventory) -> _CleanupRun:
        report = await run_cleanup(inventory)
        # After the store writes, never inside them; only when a hold actually expired.
        gateway = gateway_for(key.get_secret_value() if key else None, settings.stripe_api_base)
        try:
            ended = await end_checkout_sessions(gateway, inventory, report.expired)
        finally:
            if gateway is not None:
                await gateway.aclose()
        return _CleanupRun(report, ended)

    return _run_job(args, job)


def _reconcile(args: argparse.Namespace) -> int:
    from service.engine import run_reconcile

    return _run_job(args, run_reconcile)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stocksync",
        description="Stock reservations, payments and refunds on Sanity product documents.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lake = commands.add_parser("lake", help="the embedded, Sanity-compatible document store")
    lake_commands = lake.add_subparsers(dest="lake_command", required=True, metavar="ACTION")

    serve = lake_commands.add_parser(
        "serve", help="serve the lake over Sanity's HTTP API (/v<date>/data/doc|query|mutate)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7070)
    serve.add_argument("--data", default=_lake_file(), help="SQLite file of the lake")
    serve.add_argument("--dataset", default="production")
    serve.add_argument("--token", default=None, help="require this Bearer token")
    serve.add_argument(
        "--latency-ms", type=float, default=0.0, help="added to every request, like a remote store"
    )
    serve.add_argument(
        "--query-deadline",
        type=float,
        default=30.0,
        help="seconds a query may run before it is cut with a queryTimeoutError (default 30)",
    )
    serve.add_argument(
        "--public",
        action="store_true",
        help="a public dataset: published documents readable without the token (drafts never)",
    )
    serve.set_defaults(handler=_lake_serve)

    imp = lake_commands.add_parser(
        "import", help="import a Sanity dataset export (.ndjson or .tar.gz)"
    )
    imp.add_argument("file")
    imp.add_argument("--data", default=_lake_file())
    imp.add_argument(
        "--replace", action="store_true", help="replace documents whose _id already exists"
    )
    imp.add_argument("--dataset", default="production", help="dataset to import into")
    imp.set_defaults(handler=_lake_import)

    exp = lake_commands.add_parser(
        "export", help="export the lake in Sanity's export format (.ndjson or .tar.gz)"
    )
    exp.add_argument("file")
    exp.add_argument("--data", default=_lake_file())
    exp.add_argument("--dataset", default="production", help="dataset to export")
    exp.set_defaults(handler=_lake_export)

    serve_api = commands.add_parser(
        "serve", help="serve the HTTP API (embedded lake unless SANITY_PROJECT_ID is set)"
    )
    serve_api.add_argument("--host", default="127.0.0.1")
    serve_api.add_argument("--port", type=int, default=8000)
    serve_api.add_argument(
        "--data", default=None, help="SQLite file of the embedded lake (default: STOCKSYNC_DATA)"
    )
    serve_api.add_argument(
        "--demo",
        action="store_true",
        help="seed a demo catalogue on first run and print development keys and examples",
    )
    serve_api.add_argument(
        "--reset",
        action="store_true",
        help="with --demo: delete the demo's data and seed the catalogue afresh (keys are kept)",
    )
    serve_api.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve_api.set_defaults(handler=_serve)

    demo = commands.add_parser("demo", help="try the demo started by `serve --demo`")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    checkout = demo_commands.add_parser(
        "checkout",
        help="a whole local checkout against the running demo: reserve, then a signed Stripe "
        "checkout.session.completed (and with --refund a charge.refunded), with the stock "
        "before and after each step",
    )
    checkout.add_argument("--url", default="http://127.0.0.1:8000", help="where the demo runs")
    checkout.add_argument("--product", default="railcam", help="slug or _id")
    checkout.add_argument("--quantity", type=int, default=1)
    checkout.add_argument("--size", default=None, help="for sized products, e.g. M")
    checkout.add_argument("--refund", action="store_true", help="then refund the payment in full")
    checkout.add_argument(
        "--data",
        default=None,
        help="the demo's lake file, beside which its secrets are kept (default: STOCKSYNC_DATA)",
    )
    checkout.set_defaults(handler=_demo_checkout)

    for name, handler, text in (
        ("cleanup", _cleanup, "expire overdue holds and purge old records, once"),
        ("reconcile", _reconcile, "recompute reserved counters from reservations, once"),
    ):
        job = commands.add_parser(name, help=text)
        job.add_argument("--data", default=None, help="SQLite file of the embedded lake")
        job.set_defaults(handler=handler)

    from service.entrypoints.cli.stock import add_stock_commands

    add_stock_commands(commands)

    studio = commands.add_parser(
        "studio-schema", help="write Sanity Studio v3 schema files for the stock fields"
    )
    studio.add_argument("--out", default="studio-schema")
    studio.set_defaults(handler=_studio_schema)

    bench = commands.add_parser(
        "bench", help="benchmarks that print measured figures (from a checkout of the repository)"
    )
    benchmarks = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    flash = benchmarks.add_parser(
        "flash-sale",
        help="N buyers, S units, K stocksync processes on a lake server with latency: "
        "JSON figures and a chart",
    )
    flash.add_argument("--scenario", choices=["hot", "uncontended", "store-limit"], default="hot")
    flash.add_argument("--processes", type=int, default=4, help="stocksync processes (K)")
    flash.add_argument("--buyers", type=int, default=400, help="buyers, one unit each (N)")
    flash.add_argument("--stock", type=int, default=100, help="units of each product (S)")
    flash.add_argument("--latency-ms", type=float, default=20.0, help="added per store request")
    flash.add_argument(
        "--coalesce", choices=["on", "off", "both"], default="on", help="both: off, then on"
    )
    flash.add_argument("--warm-cache", choices=["on", "off"], default="on")
    flash.add_argument(
        "--concurrency", type=int, default=None, help="buyers in flight at once (default 100)"
    )
    flash.add_argument(
        "--abandon", type=float, default=0.0, help="share of winners who release, not pay"
    )
    flash.add_argument("--json", type=Path, default=None, help="also write the JSON here")
    flash.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    flash.set_defaults(handler=_bench_flash_sale)
    stream = benchmarks.add_parser(
        "stock-stream",
        help="2 service processes on one lake file: how fast a change through one reaches "
        "the live stock streams of the other",
    )
    stream.add_argument("--subscribers", type=int, default=200, help="streams on process B")
    stream.add_argument("--changes", type=int, default=20, help="changes made through process A")
    stream.set_defaults(handler=_bench_stock_stream)
    imports = benchmarks.add_parser(
        "stock-import",
        help="a 10,000-row stock import (dry run, then applied) against the lake served over "
        "Sanity's HTTP API, paced at 25 mutations/s",
    )
    imports.add_argument("--rows", type=int, default=10_000, help="rows in the import file")
    imports.add_argument("--rate", type=float, default=25.0, help="mutations per second")
    imports.set_defaults(handler=_bench_stock_import)
    for name, summary in (
        (
            "lake-throughput",
            "guarded patches per second: the lake (awaited, synchronous, over HTTP) against "
            "raw SQLite at equal durability, in one run (--help for its options)",
        ),
        (
            "groq-speed",
            "GROQ queries per second over 100k documents against groq-js under Node, "
            "in one run (--help for its options)",
        ),
    ):
        # The module parses its own options (including --help): everything after the name.
        passthrough = benchmarks.add_parser(name, help=summary, add_help=False, prefix_chars="\0")
        passthrough.add_argument("bench_args", nargs=argparse.REMAINDER)
        passthrough.set_defaults(handler=_bench_module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
