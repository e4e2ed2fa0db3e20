#!/usr/bin/env python3
"""Runs the benchmarks and turns their JSON into tables, charts and README sections.

    python3 bench/run.py --build build-bench [--quick] [--only echo,timers]

For each workload it runs <build>/bench/bench_<workload> with Google Benchmark's
JSON output (bench/results/<workload>.json; with --quick, bench/results/quick/), prints one table per workload
(rows: contenders; columns: the figure, its ratio to the best and to the floor or
baseline), and writes bench/results/<workload>.md and <workload>.svg, plus
machine.md. It checks the targets of the echo, switch-cost and allocation
workloads and rewrites the marked results sections of bench/README.md, of the
root README.md and of each chapter's README ("What it costs"). With
--report-only it runs nothing and rebuilds all of that from the JSON of the
last run. Standard library only. Exit status 1 if a binary crashed.
"""
import argparse
import datetime
import html
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORKLOADS = ["switch_cost", "echo", "timers", "crawl", "readiness"]


# ---------------------------------------------------------------- running

def load_workload(name: str) -> list:
    """The entries of the last run of `name`, from its JSON (--report-only)."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        print(f"{name}: no {path} from an earlier run", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(path.read_text()).get("benchmarks", [])


def run_workload(build: Path, name: str, quick: bool) -> list:
    binary = build / "bench" / f"bench_{name}"
    if not binary.exists():
        print(f"{name}: {binary} was not built", file=sys.stderr)
        raise SystemExit(1)
    out = RESULTS / f"{name}.json"
    args = [str(binary), f"--benchmark_out={out}", "--benchmark_out_format=json"]
    if quick:
        args += ["--benchmark_min_time=0.01"]
        if name == "echo":  # the quick form keeps to one size per contender group
            args += ["--benchmark_filter=K:(1|100)/S:64"]
    else:
        # Echo is the noisiest: a shared 2-core VM drifts by 10% and more within a minute. More
        # and longer repetitions, interleaved at random, so that drift lands on every contender
        # alike and shows in the spread instead of favouring whoever ran in a quiet moment.
        if name == "echo":
            args += ["--benchmark_min_time=0.5", "--benchmark_repetitions=7",
                     "--benchmark_enable_random_interleaving=true"]
        else:
            args += ["--benchmark_min_time=0.3", "--benchmark_repetitions=3"]
        args += ["--benchmark_report_aggregates_only=true"]
    print(f"== running {name}{' (quick)' if quick else ''}", flush=True)
    completed = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        print(completed.stderr[-2000:], file=sys.stderr)
        print(f"{name}: the benchmark binary failed (exit {completed.returncode})", file=sys.stderr)
        raise SystemExit(1)
    data = json.loads(out.read_text())
    return data.get("benchmarks", [])


def spreads(entries: list) -> dict:
    """name -> the standard-deviation aggregate, when there are repetitions."""
    return {e.get("run_name") or e["name"]: e for e in entries
            if e.get("run_type") == "aggregate" and e.get("aggregate_name") == "stddev"}


def medians(entries: list) -> dict:
    """name -> entry, using the median aggregate when there are repetitions."""
    by_name = {}
    for e in entries:
        if e.get("run_type") == "aggregate" and e.get("aggregate_name") != "median":
            continue
        name = e.get("run_name") or e["name"]
        by_name[name] = e
    return by_name


# ---------------------------------------------------------------- formatting

def fmt(value: float, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e4:
        return f"{value / 1e3:.1f} k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def table(headers: list, rows: list) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def svg_bars(title: str, groups: list, unit: str) -> str:
    """groups: [(group title, [(label, value or None, text)])] -> horizontal bar chart."""
    bar_h, gap, label_w, chart_w, pad = 18, 6, 250, 420, 10
    values = [v for _, rows in groups for _, v, _ in rows if v]
    top = max(values) if values else 1.0
    y = 40
    parts = []
    for group_title, rows in groups:
        if group_title:
            parts.append(f'<text x="{pad}" y="{y + 12}" font-weight="bold">{html.escape(group_title)}</text>')
            y += 22
        for label, value, text in rows:
            parts.append(f'<text x="{pad}" y="{y + 13}">{html.escape(label)}</text>')
            if value:
                w = max(1.0, chart_w * value / top)
                parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#4a7ebb"/>')
                parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{html.escape(text)}</text>')
            else:
                parts.append(f'<text x="{label_w}" y="{y + 13}" fill="#a33">{html.escape(text)}</text>')
            y += bar_h + gap
        y += 8
    height = y + pad
    width = label_w + chart_w + 160
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n'
            f'<text x="{pad}" y="22" font-size="15" font-weight="bold">{html.escape(title)} ({html.escape(unit)})</text>\n'
            + "\n".join(parts) + "\n</svg>\n")


# ---------------------------------------------------------------- workloads

def counter(entry: dict, key: str):
    return entry.get(key) if entry and not entry.get("error_occurred") else None


def switch_cost(entries: list):
    m = medians(entries)
    rows, chart = [], []
    base = counter(m.get("baseline_function_call"), "ns/switch")
    values = {}
    for name, e in m.items():
        v = counter(e, "ns/switch")
        values[name] = v
        rows.append([name, f"{v:.2f}" if v else e.get("error_message", "error"),
                     f"{v / base:.1f}x" if v and base else ""])
        chart.append((name, v, f"{v:.2f} ns" if v else "error"))
    md = table(["contender", "ns per switch", "vs function call"], rows)
    return md, svg_bars("Switch cost: one suspend/resume", [("", chart)], "ns, lower is better"), values


ECHO_RE = re.compile(r"echo_round_trips/(\w+)/K:(\d+)/S:(\d+)")
ECHO_ERRORS = {}  # (server, K, S) -> why it has no figure
ECHO_NOISE = {}   # (server, K, S) -> (messages/s, server ns/msg): standard deviations over the repetitions


def echo(entries: list):
    m = medians(entries)
    for name, e in spreads(entries).items():
        match = ECHO_RE.match(name)
        if match:
            key = (match.group(1), int(match.group(2)), int(match.group(3)))
            ECHO_NOISE[key] = (counter(e, "msgs/s") or 0.0, counter(e, "server_ns/msg") or 0.0)
    configs = {}
    for name, e in m.items():
        match = ECHO_RE.match(name)
        if not match:
            continue
        who, k, s = match.group(1), int(match.group(2)), int(match.group(3))
        configs.setdefault((k, s), {})[who] = e
    sections, groups, values = [], [], {}
    for (k, s) in sorted(configs):
        contenders = configs[(k, s)]
        rates = {w: counter(e, "msgs/s") for w, e in contenders.items()}
        cpu = {w: counter(e, "server_ns/msg") for w, e in contenders.items()}
        best = max((r for r in rates.values() if r), default=None)
        floor = rates.get("floor_epoll")
        floor_cpu = cpu.get("floor_epoll")
        rows, chart = [], []
        for who, e in sorted(contenders.items(), key=lambda kv: (cpu[kv[0]] or float("inf"))):
            r = rates[who]
            allocs = counter(e, "allocs/msg")
            values[(who, k, s)] = (r, allocs, cpu[who])
            if r:
                c = cpu[who]
                rows.append([who, f"{c:.0f}" if c else "", f"{floor_cpu / c:.2f}" if c and floor_cpu else "",
                             fmt(r), f"{r / best:.2f}", f"{r / floor:.2f}" if floor else "",
                             f"{allocs:.4f}" if allocs is not None else ""])
                chart.append((who, c, f"{c:.0f} ns" if c else ""))
            else:
                msg = e.get("error_message", "failed")
                ECHO_ERRORS[(who, k, s)] = msg
                rows.append([who, msg, "", "", "", "", ""])
                chart.append((who, None, msg))
        size = "64 B" if s == 64 else f"{s // 1024} KiB"
        sections.append(f"**K = {k} connections, S = {size}**\n\n" +
                        table(["server", "server CPU ns/msg", "floor/this", "messages/s", "vs best",
                               "vs floor", "allocs/msg"], rows))
        groups.append((f"K = {k}, S = {size}", chart))
    return "\n\n".join(sections), svg_bars("Echo ping-pong: server CPU per message", groups,
                                           "ns, lower is better"), values


def simple_rate_table(entries: list, key: str, unit: str, title: str, best_is_low: bool, group_of=None):
    m = medians(entries)
    rows, chart = [], []
    vals = {n: counter(e, key) for n, e in m.items()}
    groups = {}
    for name in m:
        groups.setdefault(group_of(name) if group_of else "", []).append(name)
    sections, svg_groups = [], []
    for group, names in groups.items():
        present = [vals[n] for n in names if vals[n]]
        best = (min(present) if best_is_low else max(present)) if present else None
        rows, chart = [], []
        for n in names:
            v = vals[n]
            if v:
                ratio = (v / best) if best_is_low else (best / v)
                rows.append([n, fmt(v), f"{ratio:.2f}x"])
                chart.append((n, v, fmt(v)))
            else:
                msg = m[n].get("error_message", "error")
                rows.append([n, msg, ""])
                chart.append((n, None, msg))
        header = f"**{group}**\n\n" if group else ""
        sections.append(header + table(["contender", unit, "vs best"], rows))
        svg_groups.append((group, chart))
    lower = "lower" if best_is_low else "higher"
    return "\n\n".join(sections), svg_bars(title, svg_groups, f"{unit}, {lower} is better"), vals


def timers(entries: list):
    return simple_rate_table(entries, "ns/timer", "ns per timer", "Timers", True,
                             group_of=lambda n: "schedule and fire 100,000" if "fire" in n else "schedule then cancel")


def crawl(entries: list):
    return simple_rate_table(entries, "pages/s", "pages/s", "Crawl a 200-page site", False)


def readiness(entries: list):
    m = medians(entries)
    for e in m.values():
        if not e.get("error_occurred"):
            e["ns/wait"] = e["real_time"] if e.get("time_unit") == "ns" else None
    return simple_rate_table(list(m.values()), "ns/wait", "ns per wait",
                             "Find one ready fd", True,
                             group_of=lambda n: "N = " + n.split("N:")[-1] + " idle descriptors")


# ---------------------------------------------------------------- machine, targets, READMEs

def command_output(args: list) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gxx = command_output(["g++", "--version"]).splitlines()
    uv = command_output(["pkg-config", "--modversion", "libuv"]) or "not found"
    asio = command_output(["dpkg-query", "-W", "-f=${Version}", "libasio-dev"]) or "not found"
    return "\n".join([
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {cpu}, {os.cpu_count()} cores available",
        f"- kernel: {platform.release()}",
        f"- compiler: {gxx[0] if gxx else 'n/a'} (meson buildtype=release)",
        f"- libuv {uv}, standalone Asio {asio}",
    ])


def targets(echo_values: dict, switch_values: dict) -> str:
    lines = []

    def line(what, value, ok, detail):
        lines.append(f"- {what}: {value}: **{'met' if ok else 'missed'}**{(' (' + detail + ')') if detail else ''}")

    def comparison(what, value, ours, theirs, noise_ours, noise_theirs, lower_is_better):
        """"Beats" only when the gap is larger than the run's own noise (the larger standard
        deviation over the repetitions); a smaller gap is reported as a draw, not as a win."""
        noise = max(noise_ours, noise_theirs)
        better = ours < theirs if lower_is_better else ours > theirs
        if abs(ours - theirs) <= noise:
            lines.append(f"- {what}: {value}: **level** (the gap, {abs(ours - theirs):.0f}, is within "
                         f"this run's noise, {noise:.0f}: neither is shown to beat the other)")
        else:
            line(what, value, better, "")

    none = (None, None, None)
    ch06 = echo_values.get(("ch06_loop", 100, 64), none)
    floor = echo_values.get(("floor_epoll", 100, 64), none)
    ch06_noise = ECHO_NOISE.get(("ch06_loop", 100, 64), (0.0, 0.0))
    peers = (("libuv", "libuv"), ("Asio", "asio"))
    if ch06[0] and floor[0]:
        ratio = ch06[0] / floor[0]
        line("chapter 06 echo throughput at K=100, S=64 B, vs the bare epoll floor (target >= 0.85)",
             f"{ratio:.2f}", ratio >= 0.85, "" if ratio >= 0.85 else f"short by {0.85 - ratio:.2f}")
    if ch06[2] and floor[2]:
        ratio = floor[2] / ch06[2]
        line("chapter 06 server CPU per message at K=100, S=64 B, floor/chapter 06 (target >= 0.85)",
             f"{ratio:.2f} ({floor[2]:.0f} vs {ch06[2]:.0f} ns)", ratio >= 0.85,
             "" if ratio >= 0.85 else f"short by {0.85 - ratio:.2f}")
    for peer_name, key in peers:
        peer = echo_values.get((key, 100, 64), none)
        peer_noise = ECHO_NOISE.get((key, 100, 64), (0.0, 0.0))
        if ch06[0] and peer[0]:
            comparison(f"chapter 06 beats {peer_name} at K=100, S=64 B (messages/s)",
                       f"{fmt(ch06[0])} vs {fmt(peer[0])} ({ch06[0] / peer[0]:.2f}x)",
                       ch06[0], peer[0], ch06_noise[0], peer_noise[0], lower_is_better=False)
            if ch06[2] and peer[2]:
                comparison(f"chapter 06 beats {peer_name} at K=100, S=64 B (server CPU per message)",
                           f"{ch06[2]:.0f} vs {peer[2]:.0f} ns", ch06[2], peer[2], ch06_noise[1], peer_noise[1],
                           lower_is_better=True)
        elif ch06[0]:
            lines.append(f"- chapter 06 vs {peer_name}: not measured ({peer_name} not built)")
    if ch06[1] is not None:
        line("chapter 06 heap allocations per message (target 0)", f"{ch06[1]:.4f}", ch06[1] < 0.001, "")
    co_await = switch_values.get("ch05_co_await_ready_coroutine/frame_pool")
    if co_await:
        line("chapter 05 co_await of a ready coroutine (target < 5 ns)", f"{co_await:.1f} ns", co_await < 5,
             "" if co_await < 5 else f"over by {co_await - 5:.1f} ns")
    sleep0 = switch_values.get("ch06_sleep_zero_round_trip")
    if sleep0:
        line("chapter 06 sleep(0) round trip (target < 50 ns)", f"{sleep0:.1f} ns", sleep0 < 50,
             "" if sleep0 < 50 else f"over by {sleep0 - 50:.1f} ns")
    return "\n".join(lines)


def chapter_sections(values: dict) -> dict:
    """Chapter folder -> the lines of its README's "What it costs" section."""
    switch = values.get("switch_cost", {})
    echo_values = values.get("echo", {})
    timer_values = values.get("timers", {})
    crawl_values = values.get("crawl", {})
    echo_errors = values.get("echo_errors", {})

    def ns(v):
        return f"{v:.1f} ns" if v else "n/a"

    def echo_line(who, label, k=100, s=64):
        rate, allocs, cpu = echo_values.get((who, k, s), (None, None, None))
        size = "64 B" if s == 64 else f"{s // 1024} KiB"
        if not rate:
            why = echo_errors.get((who, k, s))
            return f"- {label}, {k} connections, {size}: {why or 'not measured'}"
        floor = echo_values.get(("floor_epoll", k, s), (None, None, None))
        vs_floor = f" (bare epoll floor: {floor[2]:.0f} ns, {fmt(floor[0])}/s)" if floor[0] and floor[2] else ""
        return (f"- {label}, {k} connections, {size}: {cpu:.0f} ns of server CPU per message, "
                f"{fmt(rate)} messages/s, {allocs:.2f} heap allocations per message{vs_floor}")

    def pages(key, label):
        v = crawl_values.get(f"crawl_site/{key}/real_time")
        return f"- {label}: {fmt(v)} pages/s" if v else f"- {label}: not measured"

    def timer(key, label):
        v = timer_values.get(key)
        return f"{label} {v:.0f} ns" if v else f"{label} n/a"

    base = switch.get("baseline_function_call")
    sections = {
        "01_round_robin": [
            f"- one generator step (`next()` and read the value): {ns(switch.get('ch01_generator_step'))}; "
            f"a function call the compiler may not inline: {ns(base)}",
        ],
        "02_select_callbacks": [
            echo_line("ch02_callbacks", "echo, callbacks"),
            echo_line("ch02_generators", "echo, generators"),
            echo_line("ch02_callbacks", "echo, callbacks", k=1000),
        ],
        "03_future": [
            pages("ch03_sequential", "crawl of the 200-page test site, blocking and sequential"),
            pages("ch03_futures", "the same crawl with futures and callbacks"),
        ],
        "04_task": [
            f"- one task step through a future (a new future, its callback, a resume): "
            f"{ns(switch.get('ch04_task_step_through_a_future'))}",
            echo_line("ch04_tasks", "echo, one task per connection"),
            pages("ch04_tasks", "crawl of the 200-page test site"),
        ],
        "05_yield_from": [
            f"- `co_await` of a coroutine that completes at once: "
            f"{ns(switch.get('ch05_co_await_ready_coroutine/frame_pool'))} with the frame pool, "
            f"{ns(switch.get('ch05_co_await_ready_coroutine/heap_frames'))} with a malloc per frame",
            echo_line("ch05_composed", "echo, composed coroutines"),
            pages("ch05_composed", "crawl of the 200-page test site"),
        ],
        "06_timers": [
            f"- `sleep(0)` round trip through the ready queue: {ns(switch.get('ch06_sleep_zero_round_trip'))}",
            echo_line("ch06_loop", "echo"),
            echo_line("ch06_loop", "echo", k=1000),
            f"- echo, 100 connections, 64 B, the peers: "
            + "; ".join(f"{label} {cpu:.0f} ns of server CPU per message, {fmt(rate)} messages/s"
                        for label, (rate, _, cpu) in ((label, echo_values.get((key, 100, 64), (None, None, None)))
                                                      for label, key in (("libuv", "libuv"), ("Asio", "asio")))
                        if rate and cpu),
            "- timers, schedule and fire 100,000: " + ", ".join(
                timer(k, label) for k, label in (("ch06_fire", "this loop"), ("libuv_fire", "libuv"),
                                                 ("asio_fire", "Asio"))) + " per timer",
            "- timers, schedule then cancel: " + ", ".join(
                timer(k, label) for k, label in (("ch06_schedule_cancel", "this loop"),
                                                 ("libuv_schedule_cancel", "libuv"),
                                                 ("asio_schedule_cancel", "Asio"))) + " per timer",
            pages("ch06_loop", "crawl of the 200-page test site"),
        ],
    }
    return sections


def replace_section(path: Path, begin: str, end: str, body: str) -> None:
    if not path.exists():
        return
    text = path.read_text()
    if begin not in text or end not in text:
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + begin + "\n" + body.strip() + "\n" + end + tail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build-bench", type=Path)
    parser.add_argument("--quick", action="store_true", help="small and fast (CI)")
    parser.add_argument("--only", default="", help="comma-separated workloads")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run anything: rebuild the tables, charts and README sections "
                             "from the JSON the last run left in bench/results/")
    args = parser.parse_args()
    build = args.build if args.build.is_absolute() else ROOT / args.build
    global RESULTS
    if args.quick:
        RESULTS = RESULTS / "quick"  # never overwrite the results of a full run
    RESULTS.mkdir(parents=True, exist_ok=True)
    only = [w for w in args.only.split(",") if w] or WORKLOADS

    peers_note = []
    log = (build / "meson-logs" / "meson-log.txt")
    if log.exists():
        text = log.read_text(errors="replace")
        if 'Run-time dependency libuv found: NO' in text:
            peers_note.append("libuv not found: its rows are skipped (apt-get install libuv1-dev)")
        if re.search(r'standalone Asio with co_await.*compiles: NO', text):
            peers_note.append("standalone Asio with co_await not available: its rows are skipped "
                              "(apt-get install libasio-dev; needs g++)")
    for note in peers_note:
        print(note)

    analysers = {"switch_cost": switch_cost, "echo": echo, "timers": timers, "crawl": crawl,
                 "readiness": readiness}
    titles = {"switch_cost": "Switch cost", "echo": "Echo ping-pong", "timers": "Timers",
              "crawl": "Crawl", "readiness": "Readiness scaling"}
    sections, values = [], {}
    for name in WORKLOADS:
        if name in only and not args.report_only:
            entries = run_workload(build, name, args.quick)
        elif (RESULTS / f"{name}.json").exists():
            entries = load_workload(name)  # --only: the others keep the figures of their last run
        elif name in only:
            entries = load_workload(name)  # --report-only with no earlier run: says so and stops
        else:
            continue
        md, svg, vals = analysers[name](entries)
        values[name] = vals
        (RESULTS / f"{name}.md").write_text(f"## {titles[name]}\n\n{md}\n")
        (RESULTS / f"{name}.svg").write_text(svg)
        print(f"\n## {titles[name]}\n\n{md}\n", flush=True)
        sections.append(f"### {titles[name]}\n\n![{titles[name]}](results/{name}.svg)\n\n{md}")

    if args.report_only and (RESULTS / "machine.md").exists():
        machine_md = (RESULTS / "machine.md").read_text().strip()  # the run's machine and date, not today's
    else:
        machine_md = machine()
        (RESULTS / "machine.md").write_text(machine_md + "\n")
    target_md = targets(values.get("echo", {}), values.get("switch_cost", {}))
    print("## Machine\n\n" + machine_md + "\n\n## Targets\n\n" + target_md)
    if args.quick:
        print("\n(--quick: figures from tiny runs; the README sections are left as they are)")
        return 0
    notes = ("\n\n" + "\n".join(f"- {n}" for n in peers_note)) if peers_note else ""
    replace_section(ROOT / "bench" / "README.md", "<!-- results:begin -->", "<!-- results:end -->",
                    f"Measured by `./run bench` on:\n\n{machine_md}{notes}\n\n#### Targets\n\n{target_md}\n\n"
                    + "\n\n".join(sections))
    echo_md = (RESULTS / "echo.md").read_text() if (RESULTS / "echo.md").exists() else ""
    k100 = ""
    match = re.search(r"\*\*K = 100 connections, S = 64 B\*\*\n\n(.*?)(\n\n|\Z)", echo_md, re.S)
    if match:
        k100 = "Echo ping-pong, 100 connections, 64-byte messages:\n\n" + match.group(1) + "\n\n"
    values["echo_errors"] = ECHO_ERRORS
    facts = dict(line.removeprefix("- ").split(": ", 1) for line in machine_md.splitlines() if ": " in line)
    where = (f"on {facts.get('date', '?')}, {facts.get('CPU', '?')}, "
             f"{facts.get('compiler', '?').split(' (meson')[0]}, release build")
    for chapter, lines in chapter_sections(values).items():
        replace_section(ROOT / "chapters" / chapter / "README.md", "<!-- perf:begin -->", "<!-- perf:end -->",
                        "\n".join(lines) + f"\n\nMeasured by `./run bench` {where}. Every table, the "
                        "charts and what they mean: [bench/README.md](../../bench/README.md).")
    replace_section(ROOT / "README.md", "<!-- perf:begin -->", "<!-- perf:end -->",
                    k100 + f"Targets:\n\n{target_md}\n\nMachine:\n\n{machine_md}\n\n"
                    "All tables and charts: [bench/README.md](bench/README.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
