"""dsgraph's command line (CONTRACT.md): chat turns, plans, history, checkpoints, resume, graph, UI."""

import argparse
import contextlib
import json
import logging
import os
import sys
from typing import Any

STATUS_MARK = {"done": "✓", "failed": "✗", "skipped": "-", "pending": "…", "running": "…"}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global --home / --accel / --node, then one sub-command."""
    parser = argparse.ArgumentParser(prog="app.py", description="A conversational data-science agent.")
    parser.add_argument("--home", help="state folder (default: $DSGRAPH_HOME or ./checkpoints)")
    parser.add_argument("--accel", choices=("auto", "gpu", "cpu", "none"), help="compute accelerator")
    parser.add_argument("--node", action="append", default=[], metavar="ROLE=NAME",
                        help="node implementation for a role, e.g. trainer=default (repeatable)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the Gradio chat (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7860)

    ask = commands.add_parser("ask", help="run one chat turn headless")
    ask.add_argument("message")
    ask.add_argument("--data", help="load this file first")
    ask.add_argument("--thread", help="continue this conversation (new one when omitted)")
    ask.add_argument("--checkpoint", help="fork the thread at this checkpoint, then send the message there")
    ask.add_argument("--planner", help="rules | llm (or a registered planner)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--yes", action="store_true",
                     help="approve in advance every deploy or rollback this turn asks for")

    plan = commands.add_parser("plan", help="print the plan for a message, run nothing")
    plan.add_argument("message")
    plan.add_argument("--data", help="plan as if this file were loaded first")
    plan.add_argument("--target", help="plan as if this column were the target")
    plan.add_argument("--planner", help="rules | llm (or a registered planner)")
    plan.add_argument("--json", action="store_true", help="print one JSON object")

    history = commands.add_parser("history", help="experiment records (all threads when --thread is omitted)")
    history.add_argument("--thread")
    history.add_argument("--json", action="store_true")

    checkpoints = commands.add_parser("checkpoints", help="a thread's checkpoints, newest first")
    checkpoints.add_argument("--thread", required=True)
    checkpoints.add_argument("--json", action="store_true")

    resume = commands.add_parser("resume", help="continue an interrupted run, or fork from a checkpoint")
    resume.add_argument("--thread", required=True)
    resume.add_argument("--checkpoint")
    resume.add_argument("--json", action="store_true")

    graph = commands.add_parser("graph", help="the graph as Mermaid (a thread's path highlighted)")
    graph.add_argument("--thread")

    approve = commands.add_parser("approve", help="answer a thread's pending deploy or rollback, then go on")
    approve.add_argument("--thread", required=True)
    approve.add_argument("--reject", action="store_true", help="reject it: nothing changes")
    approve.add_argument("--json", action="store_true")

    models = commands.add_parser("models", help="registered models: versions, metrics, deployments")
    models.add_argument("--json", action="store_true")

    gateway = commands.add_parser("gateway", help="serve the deployed models over HTTP (FastAPI)")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8000)
    gateway.add_argument("--workers", type=int, default=1, help="worker processes (metrics add up over them)")

    users = commands.add_parser("users", help="people who may log in to the server, and their projects")
    who = users.add_subparsers(dest="users_command", metavar="add|list", required=True)
    add = who.add_parser("add", help="add a user (asks for the password twice)")
    add.add_argument("name")
    add.add_argument("--project", action="append", default=[], help="a project they belong to (repeatable)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = who.add_parser("list", help="the users and their projects")
    listing.add_argument("--json", action="store_true")

    monitor = commands.add_parser("monitor", help="check every deployed model's recent traffic for drift")
    monitor.add_argument("--every", type=_duration, metavar="DURATION",
                         help="repeat every DURATION (e.g. 30m, 1h, 1d) until stopped; once without it")
    window = monitor.add_mutually_exclusive_group()
    window.add_argument("--last", type=int, help="the last N requests of each model (default 1000)")
    window.add_argument("--hours", type=float, help="the requests of the last N hours")
    monitor.add_argument("--json", action="store_true", help="one JSON record per line")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status of CONTRACT.md (0 ok, 1 a step failed, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    nodes = dict(_pair(parser, item) for item in args.node)
    if args.command == "plan":
        return _plan(parser, args, nodes)
    from graph.agent import Agent, AgentError
    from graph.registry import RegistryError

    try:
        agent = Agent(home=args.home, planner=getattr(args, "planner", None), accel=args.accel, nodes=nodes)
    except RegistryError as error:
        parser.error(str(error))
    try:
        return COMMANDS[args.command or "serve"](agent, args)
    except AgentError as error:
        return _fail(args, str(error))


def serve(agent: Any, args: argparse.Namespace) -> int:
    """Start the Gradio chat over `agent` (Gradio is imported only here: other commands start fast)."""
    from tools import accel

    accel.activate(agent.accel)  # cudf.pandas / sklearnex first: the UI imports pandas and scikit-learn
    from ui.app import launch

    launch(agent, host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 7860))
    return 0


def ask(agent: Any, args: argparse.Namespace) -> int:
    """One chat turn."""
    with contextlib.redirect_stdout(sys.stderr):  # libraries' prints must not corrupt the JSON on stdout
        result = agent.ask(args.message, thread_id=args.thread, data=args.data, checkpoint_id=args.checkpoint,
                           approve=args.yes)
    return _report(result, args.json)


def approve(agent: Any, args: argparse.Namespace) -> int:
    """Answer the thread's pending approval; the rest of its plan then runs."""
    with contextlib.redirect_stdout(sys.stderr):
        result = agent.answer(args.thread, approved=not args.reject)
    return _report(result, args.json)


def models(agent: Any, args: argparse.Namespace) -> int:
    """Registered models with their versions, metrics and where each is deployed."""
    from tools.deployments import catalog

    listed = catalog(agent.home)
    if args.json:
        print(json.dumps(listed, default=str))
        return 0
    for model in listed:
        deployed = ", ".join(f"v{d['version']} {d['mode']}" + (f" {d['traffic']:g}%" if d["mode"] == "live"
                                                                 else "") for d in model["deployment"])
        print(f"{model['name']}  ({deployed or 'not deployed'})")
        for v in model["versions"]:
            metrics = ", ".join(f"{k} {val:.4f}" for k, val in list((v.get("metrics") or {}).items())[:3])
            print(f"  v{v['version']}  {v['created_at'][:19]}  {v['experiment']}  {metrics}")
    if not listed:
        print("No registered models yet: say e.g. `register the best model as credit/risk`.")
    return 0


def gateway(agent: Any, args: argparse.Namespace) -> int:
    """The serving gateway over the home's registry and deployments, until stopped."""
    from tools import accel

    accel.activate(agent.accel)  # before pandas; each worker process does the same (serving/worker.py)
    os.environ["DSGRAPH_ACCEL"] = agent.accel
    from serving.gateway import serve as serve_gateway
    from tools.errors import ToolError

    try:
        return serve_gateway(agent.home, args.host, args.port, args.workers)
    except ToolError as error:  # e.g. a config.toml it cannot use: the message says what to fix
        return _fail(args, str(error))


def resume(agent: Any, args: argparse.Namespace) -> int:
    """Continue an interrupted run or fork from a checkpoint."""
    with contextlib.redirect_stdout(sys.stderr):
        result = agent.resume(args.thread, args.checkpoint)
    return _report(result, args.json)


def history(agent: Any, args: argparse.Namespace) -> int:
    """Experiment records."""
    records = agent.history(args.thread)
    if args.json:
        print(json.dumps(records, default=str))
        return 0
    for r in records:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in list((r.get("metrics") or {}).items())[:4])
        print(f"{r['id']}  {r['node']:<7} {r['model']:<22} {metrics}")
    if not records:
        print("No experiments yet.")
    return 0


def checkpoints(agent: Any, args: argparse.Namespace) -> int:
    """A thread's checkpoints, newest first."""
    rows = agent.checkpoints(args.thread)
    if args.json:
        print(json.dumps(rows, default=str))
        return 0
    for row in rows:
        print(f"{row['checkpoint_id']}  {row['time'][:19]}  {row['node']:<9} {row['summary']}")
    return 0


def graph(agent: Any, args: argparse.Namespace) -> int:
    """The graph as Mermaid text."""
    print(agent.mermaid(args.thread))
    return 0


def monitor(agent: Any, args: argparse.Namespace) -> int:
    """Drift of every deployed model's served rows against its training data: a record and a line each."""
    import time

    from tools import watch
    from tools.deployments import Deployments
    from tools.errors import ToolError

    while True:
        for name in Deployments(agent.home).all():
            try:
                version = watch.serving_version(agent.home, name)
                rows, source = watch.served_rows(agent.home, name, args.last, args.hours)
                record = watch.check_drift(agent.home, name, rows, version, source)
            except ToolError as error:
                print(json.dumps({"model": name, "error": str(error)}) if args.json else f"{name}: {error}")
                continue
            drifted = ", ".join(record["drifted"][:5]) or "none"
            print(json.dumps(record, default=str) if args.json else
                  f"{name} v{version}: {record['verdict']} (drifted: {drifted}; {source})", flush=True)
        if not args.every:
            return 0
        time.sleep(args.every)


def users(agent: Any, args: argparse.Namespace) -> int:
    """Add a user (argon2-hashed password) or list them; once a user exists, `serve` asks for a login."""
    from tools.team import Team, TeamError

    team = Team(agent.home)
    if args.users_command == "list":
        listed = team.users()
        print(json.dumps(listed) if args.json else
              "\n".join(f"{u['name']}  projects: {', '.join(u['projects']) or '-'}" for u in listed)
              or "No users: the server is open to anyone who can reach it (loopback by default).")
        return 0
    try:
        team.add_user(args.name, _password(args.password_stdin), tuple(args.project))
    except TeamError as error:
        return _fail(args, str(error))
    print(f"Added {args.name.strip().lower()}; `python app.py serve` now asks for a login.")
    return 0


COMMANDS = {"serve": serve, "ask": ask, "resume": resume, "history": history, "checkpoints": checkpoints,
            "graph": graph, "approve": approve, "models": models, "gateway": gateway, "monitor": monitor,
            "users": users}


def _plan(parser: argparse.ArgumentParser, args: argparse.Namespace, nodes: dict[str, str]) -> int:
    """Run only the planner: no tools, no checkpoint."""
    from graph.agent import plan_only
    from graph.registry import RegistryError

    try:
        result = plan_only(args.message, home=args.home, planner=args.planner, nodes=nodes,
                              data=args.data, target=args.target)
    except RegistryError as error:
        parser.error(str(error))
    if args.json:
        print(json.dumps(result, default=str))
    else:
        for i, step in enumerate(result["plan"], start=1):
            print(f"{i}. {step['node']}.{step['action']} {json.dumps(step['args'])}")
        if result.get("reply"):
            print(result["reply"])
    return 0


def _report(result: dict[str, Any], as_json: bool) -> int:
    """Print a turn's result (JSON, or the reply and a compact step list); 1 when a step failed."""
    failed = (bool(result.get("error") or result.get("pending_approval"))
              or any(s["status"] == "failed" for s in result.get("steps") or []))
    if as_json:
        print(json.dumps(result, default=str))
        return int(failed)
    print(result.get("reply") or "")
    if result.get("steps"):
        print(f"\nplan by the {result.get('planner') or 'rules'} planner:")
        for step in result["steps"]:
            error = f"  {step['error']}" if step.get("error") else ""
            name = f"{step['node']}.{step['action']}"
            print(f"  {STATUS_MARK.get(step['status'], '?')} {name:<20} "
                  f"{step.get('seconds') or 0:6.1f} s{error}")
    print(f"\nthread {result['thread_id']}", file=sys.stderr)
    return int(failed)


def _fail(args: argparse.Namespace, message: str) -> int:
    """An expected failure outside a step (unknown thread or checkpoint): clear message, exit 1."""
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "reply": message}))
    else:
        print(message, file=sys.stderr)
    return 1


def _password(from_stdin: bool) -> str:
    """The new user's password: one line of standard input, or typed twice at a prompt."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("The two passwords differ; nothing was added.")
    return first


def _duration(text: str) -> float:
    """Seconds in a duration such as 90s, 30m, 1h or 1d (a plain number is seconds)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(value) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration; e.g. 30m, 1h or 1d") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the duration must be positive")
    return seconds


def _pair(parser: argparse.ArgumentParser, item: str) -> tuple[str, str]:
    role, sep, name = item.partition("=")
    if not sep or not role or not name:
        parser.error(f"--node expects ROLE=NAME, got {item!r}")
    return role.strip(), name.strip()


if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.exit(main())
